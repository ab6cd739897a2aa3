// zdapd's transport with the real daemon, curl and openssl (issue 9 "HTTP hygiene", TLS):
// HTTPS with a CA the test makes, plain HTTP on the TLS port, refused starts, SIGHUP certificate
// reload, keep-alive, Expect: 100-continue, the connection cap's 503, accept failures under a
// lowered fd limit, and SIGTERM draining a create in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/tls_helpers.h"
#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
using Clock = std::chrono::steady_clock;

namespace {

// A TCP connection to 127.0.0.1:port that stays open until destroyed; -1 if connect failed.
class HeldConnection {
 public:
  explicit HeldConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~HeldConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// utime + stime of a process, in clock ticks.
long CpuTicks(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  REQUIRE(close != std::string::npos);
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  long utime = -1, stime = -1;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  REQUIRE(utime >= 0);
  REQUIRE(stime >= 0);
  return utime + stime;
}

int OpenFds(pid_t pid) {
  std::string out;
  REQUIRE(Shell("ls /proc/" + std::to_string(pid) + "/fd | wc -l", &out) == 0);
  return std::atoi(out.c_str());
}

long FileSize(const std::string& path) {
  std::ifstream f(path, std::ios::ate | std::ios::binary);
  return f ? static_cast<long>(f.tellg()) : -1;
}

}  // namespace

TEST_CASE("TLS: verified HTTPS, plain HTTP refused cleanly, keep-alive, 100-continue, SIGHUP") {
  TempDir tmp("zdapd-tls");
  MakeCertificates(tmp.path(), "one");
  MakeCertificates(tmp.path(), "two");
  std::string cert = tmp.path() + "/server.pem", key = tmp.path() + "/server.key";
  REQUIRE(Shell("cp " + tmp.path() + "/one.pem " + cert + " && cp -p " + tmp.path() + "/one.key " +
                key) == 0);
  std::string config =
      WriteFile(tmp.path() + "/zdapd.yaml", "tls: {cert: " + cert + ", key: " + key + "}\n");
  std::string ca1 = "--cacert " + tmp.path() + "/one-ca.pem";
  std::string ca2 = "--cacert " + tmp.path() + "/two-ca.pem";

  ZdapdFixture d;
  d.SetServeOptions({"--config", config}, "https", ca1);
  d.Start();
  std::string url = d.Url();
  std::string plain_url = "http://127.0.0.1:" + std::to_string(d.api_port());
  int code;
  std::string body;

  // Verified against the CA, by IP and by name.
  CHECK(Curl(ca1, url + "/v1/health", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(Curl(ca1, url + "/v1/clones", &code, &body) == 0);
  CHECK(code == 200);
  CHECK(Curl(ca1, "https://localhost:" + std::to_string(d.api_port()) + "/v1/health", &code,
             &body) == 0);
  CHECK(code == 200);
  // Without the CA: curl's "peer certificate cannot be authenticated" (60).
  CHECK(Curl("", url + "/v1/health", &code, &body) == 60);

  // Plain HTTP to the TLS port: a 400 that says so, and the daemon keeps serving.
  CHECK(Curl("", plain_url + "/v1/health", &code, &body) == 0);
  CHECK(code == 400);
  CHECK(body.find("speaks HTTPS") != std::string::npos);
  std::string out;
  Shell("printf 'GARBAGE\\r\\n\\r\\n' | timeout 5 socat - TCP:127.0.0.1:" +
            std::to_string(d.api_port()),
        &out);
  CHECK(Curl(ca1, url + "/v1/health", &code, &body) == 0);
  CHECK(code == 200);

  // Keep-alive: two requests, one TCP connection (curl counts new connects per transfer).
  out.clear();
  REQUIRE(Shell("curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' " + ca1 + " " + url +
                    "/v1/health " + url + "/v1/clones",
                &out) == 0);
  CHECK(out == "1 0 ");

  // Expect: 100-continue is answered before the body is sent (405: the route takes no POST).
  std::string payload = WriteFile(tmp.path() + "/body.json", "{\"ttl\":\"1h\"}");
  Shell("curl -sv -m 20 " + ca1 + " -H 'Expect: 100-continue' --data-binary @" + payload + " " +
            url + "/v1/clones 2>&1",
        &out);
  INFO(out);
  CHECK(out.find("HTTP/1.1 100 Continue") != std::string::npos);
  CHECK(out.find("HTTP/1.1 405") != std::string::npos);

  // SIGHUP with a certificate from another CA: new connections see it.
  REQUIRE(Shell("cp " + tmp.path() + "/two.pem " + cert + " && cp " + tmp.path() + "/two.key " +
                key) == 0);
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  CHECK(Eventually([&] { return Curl(ca2, url + "/v1/health", &code, &body) == 0; },
                   std::chrono::seconds(10)));
  CHECK(code == 200);
  CHECK(Curl(ca1, url + "/v1/health", &code, &body) == 60);
  CHECK(d.LogText().find("reloaded TLS certificate") != std::string::npos);

  // A SIGHUP with a broken key keeps the current certificate.
  WriteFile(key, "not a key\n");
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  CHECK(Eventually([&] { return d.LogText().find("keeping the previous") != std::string::npos; },
                   std::chrono::seconds(10)));
  CHECK(Curl(ca2, url + "/v1/health", &code, &body) == 0);
  CHECK(code == 200);
}

TEST_CASE("TLS: zdapd refuses to start with a missing, unreadable or mismatched cert or key") {
  TempDir tmp("zdapd-tls-bad");
  MakeCertificates(tmp.path(), "one");
  MakeCertificates(tmp.path(), "two");
  struct Case {
    std::string cert, key, expect;
  };
  std::string p = tmp.path();
  for (const Case& c : {Case{p + "/missing.pem", p + "/one.key", p + "/missing.pem"},
                        Case{p + "/one.pem", p + "/missing.key", p + "/missing.key"},
                        Case{p + "/one.pem", p + "/two.key", "does not match"},
                        Case{p + "/one.key", p + "/one.key", "not a PEM certificate"}}) {
    std::string config =
        WriteFile(p + "/zdapd.yaml", "tls: {cert: " + c.cert + ", key: " + c.key + "}\n");
    ZdapdFixture d;
    d.SetServeOptions({"--config", config}, "https");
    int status = d.StartExpectingExit(30);
    INFO(c.cert << " " << c.key << ": " << d.LogText());
    CHECK(status == 1);
    CHECK(d.LogText().find(c.expect) != std::string::npos);
  }
}

TEST_CASE("max_connections: beyond the cap a 503 JSON error, served again once under it") {
  ZdapdFixture d;
  d.SetServeOptions({"--max-connections", "4"});
  d.Start();
  std::string url = d.Url() + "/v1/health";
  int code;
  std::string body;
  {
    std::vector<std::unique_ptr<HeldConnection>> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<HeldConnection>(d.api_port()));
      REQUIRE(held.back()->ok());
    }
    CHECK(Curl("", url, &code, &body) == 0);
    CHECK(code == 503);
    CHECK(body.find("max_connections") != std::string::npos);
  }
  CHECK(Eventually([&] { return Curl("", url, &code, &body) == 0 && code == 200; },
                   std::chrono::seconds(5)));
  // A bad setting is refused at start.
  ZdapdFixture bad;
  bad.SetServeOptions({"--max-connections", "0"});
  CHECK(bad.StartExpectingExit(30) == 2);
  CHECK(bad.LogText().find("max_connections") != std::string::npos);
}

TEST_CASE("accept failures under a lowered fd limit back off instead of spinning") {
  ZdapdFixture d;
  d.Start();
  pid_t pid = d.pid();
  int limit = OpenFds(pid) + 8;
  REQUIRE(Shell("prlimit --pid " + std::to_string(pid) + " --nofile=" + std::to_string(limit) +
                ":" + std::to_string(limit)) == 0);
  {
    std::vector<std::unique_ptr<HeldConnection>> held;
    for (int i = 0; i < 40; ++i) {
      held.push_back(std::make_unique<HeldConnection>(d.api_port()));
      REQUIRE(held.back()->ok());  // the kernel completes them; zdapd cannot accept them all
    }
    REQUIRE(Eventually([&] { return OpenFds(pid) >= limit - 1; }, std::chrono::seconds(5)));
    long log_before = FileSize(d.LogPath());
    long ticks_before = CpuTicks(pid);
    auto started = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the measured interval itself
    double cpu_s = static_cast<double>(CpuTicks(pid) - ticks_before) /
                   static_cast<double>(::sysconf(_SC_CLK_TCK));
    double wall_s = std::chrono::duration<double>(Clock::now() - started).count();
    long log_growth = FileSize(d.LogPath()) - log_before;
    WARN("fd limit " << limit << ": zdapd CPU " << cpu_s << " s over " << wall_s << " s, log grew "
                     << log_growth << " bytes");
    CHECK(cpu_s < 0.2);
    CHECK(log_growth < 4096);
    CHECK(d.LogText().find("backing off") != std::string::npos);
  }
  int code;
  std::string body;
  CHECK(Eventually([&] { return Curl("", d.Url() + "/v1/health", &code, &body) == 0; },
                   std::chrono::seconds(10)));
  CHECK(code == 200);
}

TEST_CASE("SIGTERM: a create in flight completes and is answered; new connections are refused") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  TempDir tmp("zdapd-drain");
  std::string code_file = tmp.path() + "/code";
  std::string body_file = tmp.path() + "/body";
  // The create runs in the background; its curl writes the status when the answer arrives.
  REQUIRE(
      Shell("(curl -s -m 120 -o " + body_file +
            " -w '%{http_code}' -X POST -H 'X-Zdap-User: alice' --data '{\"name\":\"drain\"}' " +
            d.Url() + "/v1/resources/chinook/clones > " + code_file + ".tmp; mv " + code_file +
            ".tmp " + code_file + ") >/dev/null 2>&1 &") == 0);
  std::string body;
  REQUIRE(Eventually(
      [&] {
        return d.Call("GET", "/v1/clones", "", &body) == 200 &&
               body.find("\"creating\"") != std::string::npos;
      },
      std::chrono::seconds(30)));
  REQUIRE(::kill(d.pid(), SIGTERM) == 0);
  // New connections are refused while the create is still running.
  int code;
  CHECK(Eventually([&] { return Curl("", d.Url() + "/v1/health", &code, &body) == 7; },
                   std::chrono::seconds(5)));
  REQUIRE(Eventually([&] { return std::ifstream(code_file).good(); }, std::chrono::seconds(90)));
  std::string status;
  std::ifstream(code_file) >> status;
  std::string created;
  Shell("cat " + body_file, &created);
  INFO(created << d.LogText());
  CHECK(status == "201");
  d.Kill(SIGTERM);  // reaps it; the drain has already ended
  // The create was answered after the drain began (else it was not in flight).
  std::string log;
  Shell("cat " + d.LogPath(), &log);
  auto drain_at = log.find("draining");
  auto answer_at = log.find("POST /v1/resources/chinook/clones -> 201");
  CHECK(drain_at != std::string::npos);
  CHECK(answer_at != std::string::npos);
  CHECK(drain_at < answer_at);
}
