// The Docker API client's handling of malformed, oversized and silent replies, against a fake
// daemon on a local unix socket (a real dockerd never sends these; its real behaviour is
// covered by tests/e2e/docker_runtime_test.cc). Also the log stream decoder.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "runtime/docker_client.h"
#include "support/test_env.h"

namespace zdap::runtime {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads the request head, writes `reply` (unless `silent`), closes.
class FakeDaemon {
 public:
  FakeDaemon(std::string reply, bool silent = false)
      : dir_("zdap-fake-docker"), path_(dir_.path() + "/docker.sock") {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    thread_ = std::thread([this, reply = std::move(reply), silent] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      request_ = head;
      if (silent) {
        char b;
        (void)::read(c, &b, 1);  // until the client gives up and closes
      } else {
        // A client that refuses an oversized reply closes early: MSG_NOSIGNAL turns the
        // write into EPIPE instead of a SIGPIPE that would kill the whole test.
        size_t at = 0;
        while (at < reply.size()) {
          ssize_t n = ::send(c, reply.data() + at, reply.size() - at, MSG_NOSIGNAL);
          if (n <= 0) break;
          at += static_cast<size_t>(n);
        }
      }
      ::close(c);
    });
  }
  ~FakeDaemon() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  const std::string& path() const { return path_; }
  const std::string& request() const { return request_; }

 private:
  test::TempDir dir_;
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
};

std::string Frame(char stream, const std::string& payload) {
  std::string h(8, '\0');
  h[0] = stream;
  uint32_t n = static_cast<uint32_t>(payload.size());
  h[4] = static_cast<char>(n >> 24);
  h[5] = static_cast<char>(n >> 16);
  h[6] = static_cast<char>(n >> 8);
  h[7] = static_cast<char>(n);
  return h + payload;
}

}  // namespace

TEST_CASE("docker client decodes a chunked reply and sends a versioned request") {
  FakeDaemon d(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n[{\"a\"\r\n4\r\n:1}]\r\n0\r\n\r\n");
  DockerClient c(d.path());
  auto r = c.Request("GET", "/containers/json?all=1", "", 5s);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(r->body == "[{\"a\":1}]");
  CHECK(d.request().rfind("GET /v1.41/containers/json?all=1 HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("docker client rejects a malformed chunk size") {
  FakeDaemon d("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 5s);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("reading the reply") != std::string::npos);
}

TEST_CASE("docker client rejects a body over its limit") {
  FakeDaemon d("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'x'));
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 5s, 1000);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("larger than 1000 bytes") != std::string::npos);
}

TEST_CASE("docker client rejects a chunked body over its limit") {
  std::string chunk(4096, 'y');
  std::string reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) reply += "1000\r\n" + chunk + "\r\n";
  reply += "0\r\n\r\n";
  FakeDaemon d(reply);
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 5s, 10000);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("larger than 10000 bytes") != std::string::npos);
}

TEST_CASE("docker client rejects a reply that is not HTTP") {
  FakeDaemon d("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 5s);
  REQUIRE(!r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
}

TEST_CASE("docker client reports a connection closed before the reply") {
  FakeDaemon d("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort");
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 5s);
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("reading the reply") != std::string::npos);
}

TEST_CASE("docker client gives up on a silent daemon at its deadline") {
  FakeDaemon d("", /*silent=*/true);
  auto t0 = std::chrono::steady_clock::now();
  auto r = DockerClient(d.path()).Request("GET", "/version", "", 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(!r.ok());
  CHECK(r.status().message().find("timed out after 300 ms") != std::string::npos);
  CHECK(took < 5s);
}

TEST_CASE("docker client names the socket when nothing listens") {
  test::TempDir dir("zdap-no-docker");
  auto r = DockerClient(dir.path() + "/docker.sock").Request("GET", "/version", "", 1s);
  REQUIRE(!r.ok());
  CHECK(r.status().message() == "the Docker daemon at " + dir.path() +
                                    "/docker.sock: cannot connect: No such file or directory (is "
                                    "dockerd running? runtime.socket sets the path)");
}

TEST_CASE("docker error messages come from the body's message or the status") {
  DockerResponse r;
  r.status = 404;
  r.body = "{\"message\":\"No such image: zdap-test/x:1\"}\n";
  CHECK(DockerErrorMessage(r) == "No such image: zdap-test/x:1");
  r.status = 500;
  r.body = "{\"message\": 42}";
  CHECK(DockerErrorMessage(r) == "HTTP 500: {\"message\": 42}");
  r.body = std::string(1000, 'e');
  CHECK(DockerErrorMessage(r).size() < 320);
  r.body = "";
  CHECK(DockerErrorMessage(r) == "HTTP 500");
}

TEST_CASE("docker log streams are demultiplexed and malformed frames refused") {
  std::string raw = Frame(1, "LOG:  starting\n") + Frame(2, "FATAL:  no\n") + Frame(1, "");
  auto text = DemultiplexLogs(raw);
  REQUIRE(text.ok());
  CHECK(*text == "LOG:  starting\nFATAL:  no\n");
  CHECK(DemultiplexLogs("").value().empty());

  auto truncated_header = DemultiplexLogs(Frame(1, "ok\n") + std::string("\x01\0\0", 3));
  REQUIRE(!truncated_header.ok());
  CHECK(truncated_header.status().message().find("truncated frame header at byte 11") !=
        std::string::npos);

  std::string oversized = Frame(1, "abc");
  oversized[4] = '\x7f';  // claims ~2 GB
  auto big = DemultiplexLogs(oversized);
  REQUIRE(!big.ok());
  CHECK(big.status().message().find("runs past the end") != std::string::npos);

  auto bad_type = DemultiplexLogs(Frame(7, "x"));
  REQUIRE(!bad_type.ok());
  CHECK(bad_type.status().message().find("bad frame header") != std::string::npos);
}

TEST_CASE("LastLines keeps the tail") {
  CHECK(LastLines("a\nb\nc\n", 2) == "b\nc");
  CHECK(LastLines("a\nb\nc", 5) == "a\nb\nc");
  CHECK(LastLines("a\nb\n", 0).empty());
}

}  // namespace zdap::runtime
