// The wildcard-to-loopback rule (core/local_host.h) and connect-with-deadline (core/connect.h),
// against real sockets on loopback.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <vector>

#include "core/connect.h"
#include "core/local_host.h"
#include "support/test_env.h"
#include "support/test_ports.h"

using namespace zdap;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST_CASE("a wildcard listen host is reached on the loopback of its family") {
  for (const char* wildcard : {"", "*", "0.0.0.0"}) {
    INFO(wildcard);
    CHECK(IsWildcardHost(wildcard));
    CHECK(LocalConnectHost(wildcard) == "127.0.0.1");
  }
  for (const char* wildcard : {"::", "[::]"}) {
    INFO(wildcard);
    CHECK(IsWildcardHost(wildcard));
    CHECK(LocalConnectHost(wildcard) == "::1");
  }
  for (const char* host : {"127.0.0.1", "::1", "db1", "192.0.2.7", "0.0.0.1", ":::", "0"}) {
    INFO(host);
    CHECK_FALSE(IsWildcardHost(host));
    CHECK(LocalConnectHost(host) == host);
  }
}

TEST_CASE("loopback hosts: names, 127/8 and ::1 in its spellings; nothing else") {
  for (const char* host :
       {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
    INFO(host);
    CHECK(IsLoopbackHost(host));
  }
  for (const char* host : {"", "0.0.0.0", "::", "128.0.0.1", "127.0.0.1.evil.example", "127.",
                           "localhost.", "db1", "[::1", "::2", "::ffff:10.0.0.1"}) {
    INFO(host);
    CHECK_FALSE(IsLoopbackHost(host));
  }
  CHECK_FALSE(IsLoopbackHost(std::string(100000, '1')));
}

namespace {

// A listening TCP socket on 127.0.0.1 with an ephemeral port.
struct Listener {
  int fd = -1;
  int port = 0;
  explicit Listener(int backlog) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, backlog) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd); }
};

}  // namespace

TEST_CASE("connect with a deadline: ok, refused, unix sockets, bad input") {
  Listener l(4);
  Connection ok = ConnectBefore("127.0.0.1", l.port, "", Clock::now() + 2s);
  REQUIRE(ok.ok());
  CHECK(ok.fd.valid());
  CHECK(ConnectBefore("localhost", l.port, "", Clock::now() + 2s).ok());

  // A port reserved for this process that nothing listens on.
  Connection refused = ConnectBefore("127.0.0.1", test::ReservePort(), "", Clock::now() + 2s);
  CHECK(refused.outcome == ConnectOutcome::kRefused);
  CHECK_FALSE(refused.fd.valid());

  test::TempDir dir("connect");
  Connection no_socket = ConnectBefore("", 0, dir.path() + "/nobody.sock", Clock::now() + 2s);
  CHECK(no_socket.outcome == ConnectOutcome::kRefused);
  int u = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::string path = dir.path() + "/s.sock";
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(u, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
  REQUIRE(::listen(u, 1) == 0);
  CHECK(ConnectBefore("", 0, path, Clock::now() + 2s).ok());
  ::close(u);

  CHECK(ConnectBefore("", 0, std::string(200, 'x'), Clock::now() + 2s).outcome ==
        ConnectOutcome::kError);
  CHECK(ConnectBefore("127.0.0.1", 0, "", Clock::now() + 2s).outcome == ConnectOutcome::kError);
  CHECK(ConnectBefore("127.0.0.1", 70000, "", Clock::now() + 2s).outcome == ConnectOutcome::kError);
  Connection unresolvable = ConnectBefore("no-such-host.invalid", 1, "", Clock::now() + 2s);
  CHECK(unresolvable.outcome == ConnectOutcome::kError);
  CHECK(unresolvable.error.find("cannot resolve no-such-host.invalid") != std::string::npos);
}

TEST_CASE("connect with a deadline gives up at the deadline on a full backlog") {
  // A listener that never accepts, with its backlog filled: a SYN to it goes unanswered, so
  // the connect waits; the deadline must end the wait.
  Listener l(0);
  std::vector<Connection> fill;
  Connection last;
  auto t0 = Clock::now();
  for (int i = 0; i < 64; ++i) {
    last = ConnectBefore("127.0.0.1", l.port, "", Clock::now() + 200ms);
    if (!last.ok()) break;
    fill.push_back(std::move(last));
  }
  REQUIRE_FALSE(last.ok());
  CHECK(last.outcome == ConnectOutcome::kTimeout);
  CHECK(Clock::now() - t0 < 10s);
}
