// Two origins on one machine (issue 11, "Two origins"): two zdapd with their own data dirs,
// ports and loopback addresses (127.0.0.1, 127.0.0.2). Placement picks the one with more free
// capacity (here: the one where alice holds no clone; disk, memory and load are the same
// machine's), --origin forces the other, `attach --replicas 2` gives a proxy that still takes
// new connections after one daemon and its clone are killed -- with the one password the app
// was given, the first clone's, which the replica shares -- and `zdap status` shows that
// origin down.
//
// The proxy is the host zdap-proxyd started with exactly the targets and balance rule of the
// service attach wrote (the compose path with the proxy image is e2e_compose_test's).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "core/file_util.h"
#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

std::string ReadText(const std::string& path) {
  auto text = zdap::ReadFile(path);
  return text.ok() ? *text : "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `text` that starts with `prefix` ("" when none).
std::string LineStarting(const std::string& text, const std::string& prefix) {
  size_t at = text.rfind(prefix, 0) == 0 ? 0 : text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  if (at > 0 || text[0] == '\n') ++at;
  return text.substr(at, text.find('\n', at) - at);
}

// alice's clones on origin `d`: id -> password.
std::map<std::string, std::string> ClonesOf(const ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones", "", &body) == 200);
  std::map<std::string, std::string> out;
  boost::json::value reply = boost::json::parse(body);
  for (const auto& c : reply.at("clones").as_array()) {
    out[std::string(c.at("id").as_string())] = std::string(c.at("password").as_string());
  }
  return out;
}

// psql through the proxy on 127.0.0.1:port; the output of this call only.
int Query(int port, const std::string& password, const std::string& sql, std::string* out) {
  out->clear();
  return Psql(port, password, sql, out);
}

// Waits (bounded) until nothing accepts on 127.0.0.1:port.
bool PortClosed(int port) {
  return Shell("for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
               ") 2>/dev/null || exit 0; sleep 0.1; done; exit 1") == 0;
}

}  // namespace

TEST_CASE("two origins: placement, --origin, --replicas 2 surviving one origin, status",
          "[e2e][placement]") {
  ZdapdFixture d1, d2;
  d2.SetListenHost("127.0.0.2");
  {
    auto r1 = std::async(std::launch::async, [&] { return d1.Host("refresh chinook"); });
    auto r2 = std::async(std::launch::async, [&] { return d2.Host("refresh chinook"); });
    REQUIRE(r1.get() == 0);
    REQUIRE(r2.get() == 0);
  }
  // Clones on a non-loopback address (what attach needs for the proxy container) need tokens.
  d1.UseTokens({"alice"});
  d2.UseTokens({"alice"});
  ::setenv("ZDAPD_CLONE_BIND", "0.0.0.0", 1);
  d1.Start();
  d2.Start();
  ::unsetenv("ZDAPD_CLONE_BIND");
  // The capacity the test controls: alice already holds a clone on d1.
  std::string body;
  REQUIRE(d1.Call("POST", "/v1/resources/chinook/clones", "{}", &body) == 201);
  const std::string held = JsonField(body, "id");

  TempDir dir("zdap-two-origins");
  const std::string p = dir.path();
  REQUIRE(Shell("cp " + SourceDir() + "/compose-examples/chinook/docker-compose.yml " + p) == 0);
  auto zdap = [&](const std::string& args, std::string* out) {
    out->clear();
    return Shell("{ cd " + p + " && ZDAP_CONFIG=" + p + "/user.yaml " +
                     ProgramPath("apps/zdap/zdap") + " " + args + "; }",
                 out);
  };
  std::string out;
  REQUIRE(zdap("origin add " + d1.Url() + " --token " + d1.Token("alice"), &out) == 0);
  REQUIRE(zdap("origin add " + d2.Url() + " --token " + d2.Token("alice"), &out) == 0);
  REQUIRE(zdap("user set alice", &out) == 0);
  REQUIRE(zdap("init", &out) == 0);

  INFO("zdap status");
  REQUIRE(zdap("status -o json 2>/dev/null", &out) == 0);
  INFO(out);
  {
    auto origins = boost::json::parse(out).at("origins").as_array();
    REQUIRE(origins.size() == 2);
    CHECK(origins[0].at("reachable").as_bool());
    CHECK(origins[0].at("status").at("counts").at("clones").as_int64() == 1);
    CHECK(origins[1].at("status").at("counts").at("clones").as_int64() == 0);
  }

  INFO("placement: d2 (no clone of alice's) over d1");
  REQUIRE(zdap("attach chinook --service db", &out) == 0);
  INFO(out);
  CHECK(Contains(ReadText(p + "/.zdap.yaml"), "origin: " + d2.Url()));
  REQUIRE(zdap("detach db", &out) == 0);
  CHECK(Contains(out, "destroyed clone"));
  CHECK(ClonesOf(d2).empty());

  INFO("--origin forces d1");
  REQUIRE(zdap("attach chinook --service db --origin " + d1.Url(), &out) == 0);
  CHECK(Contains(ReadText(p + "/.zdap.yaml"), "origin: " + d1.Url()));
  REQUIRE(zdap("detach db", &out) == 0);
  REQUIRE(ClonesOf(d1).size() == 1);

  INFO("--replicas 2: one clone on each origin behind one proxy service");
  REQUIRE(zdap("attach chinook --service db --replicas 2", &out) == 0);
  INFO(out);
  const std::string override_text = ReadText(p + "/docker-compose.override.yml");
  std::vector<std::string> targets;
  const std::string flag = R"("--target", ")";
  for (size_t at = override_text.find(flag); at != std::string::npos;
       at = override_text.find(flag, at + 1)) {
    size_t from = at + flag.size();
    targets.push_back(override_text.substr(from, override_text.find('"', from) - from));
  }
  REQUIRE(targets.size() == 2);
  REQUIRE(Contains(override_text, R"("--balance", "first")"));
  const std::string count_sql = "SELECT count(*) FROM invoice_line";
  auto on2 = ClonesOf(d2);
  auto on1 = ClonesOf(d1);
  REQUIRE(on2.size() == 1);
  REQUIRE(on1.size() == 2);
  const std::string held_password = on1.at(held);
  on1.erase(held);
  const auto [clone2, password2] = *on2.begin();
  const auto [clone1, password1] = *on1.begin();
  // d2 is ranked first (fewer clones), so its clone is the first target: `first` fails over.
  CHECK(Contains(out, clone2 + " on " + d2.Url() + ", " + clone1 + " on " + d1.Url()));
  // The app holds one password, the first clone's; the replica was made with it.
  const std::string& app_password = password2;
  REQUIRE(password1 == app_password);
  CHECK(held_password != app_password);  // a clone made without it keeps its own
  // It opens both targets directly (the clones listen on every address), a wrong one neither.
  std::vector<int> target_ports;
  for (const std::string& t : targets)
    target_ports.push_back(std::stoi(t.substr(t.rfind(':') + 1)));
  for (int port : target_ports) {
    INFO("target port " << port);
    REQUIRE(Query(port, app_password, count_sql, &out) == 0);
    CHECK(out.find("2240") == 0);
    CHECK(Query(port, held_password, "SELECT 1", &out) != 0);
  }

  // The proxy with exactly those targets and that rule.
  int proxy_port = FreeTcpPort();
  TempDir proxy_dir("zdap-two-origins-proxy");
  std::string proxy_log = proxy_dir.path() + "/proxy.log";
  pid_t proxy = ::fork();
  if (proxy == 0) {
    std::freopen(proxy_log.c_str(), "w", stderr);
    std::string bin = ProgramPath("proxy/zdap-proxyd");
    std::string listen = "127.0.0.1:" + std::to_string(proxy_port);
    ::execl(bin.c_str(), bin.c_str(), "--listen", listen.c_str(), "--target", targets[0].c_str(),
            "--target", targets[1].c_str(), "--balance", "first", "--check", "postgres", nullptr);
    ::_exit(127);
  }
  struct ProxyReaper {
    pid_t pid;
    ~ProxyReaper() {
      ::kill(pid, SIGTERM);
      int st;
      ::waitpid(pid, &st, 0);
    }
  } reaper{proxy};
  // Bounded wait for the proxy to listen and reach d2's clone (the first target).
  bool answered = false;
  for (int i = 0; i < 100 && !answered; ++i) {
    answered = Query(proxy_port, app_password, count_sql, &out) == 0;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("proxy log: " << ReadText(proxy_log) << "\npsql: " << out);
  REQUIRE(answered);
  CHECK(out.find("2240") == 0);
  // Which target answers: d2's clone until it is killed.
  const std::string where_sql = "SELECT inet_server_port()";
  REQUIRE(Query(proxy_port, app_password, where_sql, &out) == 0);
  CHECK(std::atoi(out.c_str()) == target_ports[0]);

  INFO("kill d2 and its clone: new connections go to d1's clone");
  std::string pidfile;
  // Its PostgreSQL server's pid, from postmaster.pid (an overlay store shows the file twice).
  REQUIRE(Shell("find " + d2.data_dir() + " -name postmaster.pid | head -1", &pidfile) == 0);
  while (!pidfile.empty() && pidfile.back() == '\n') pidfile.pop_back();
  INFO("pid file " << pidfile << ": " << ReadText(pidfile));
  REQUIRE(!pidfile.empty());
  int postmaster = std::atoi(ReadText(pidfile).c_str());
  REQUIRE(postmaster > 1);
  d2.Kill(SIGKILL);
  REQUIRE(::kill(postmaster, SIGQUIT) == 0);
  REQUIRE(PortClosed(target_ports[0]));
  // The app's one password, unchanged, on d1's clone now.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(Query(proxy_port, app_password, count_sql, &out) == 0);
    CHECK(out.find("2240") == 0);
  }
  REQUIRE(Query(proxy_port, app_password, where_sql, &out) == 0);
  CHECK(std::atoi(out.c_str()) == target_ports[1]);

  INFO("zdap status: d2 is down, d1 answers (exit 0)");
  REQUIRE(zdap("status", &out) == 0);
  INFO(out);
  std::string down = LineStarting(out, d2.Url() + "  down ");
  CHECK(Contains(down, "cannot connect"));
  CHECK(LineStarting(out, d1.Url() + "  up ") != "");

  INFO("detach: d1's clone destroyed; d2's cannot be, and detach says so");
  REQUIRE(zdap("detach db", &out) == 1);
  CHECK(Contains(out, "destroyed clone " + clone1 + " on " + d1.Url()));
  CHECK(Contains(out, clone2));
  CHECK(ClonesOf(d1).size() == 1);
}
