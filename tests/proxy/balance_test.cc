// Several targets: balance rules, failover, retries, health checks, idle timeout, metrics and
// the healthcheck subcommand, against real servers on 127.0.0.1 and the built binary.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>

#include "proxy/net_helpers.h"
#include "support/test_env.h"
#include "support/test_ports.h"

using namespace zdap::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A one-byte message type as a std::string (GCC 12 warns, wrongly, on "R" + string).
std::string Msg(char type) {
  return std::string(1, type);
}

// A server that answers every connection with its one-letter name, then waits for EOF.
std::unique_ptr<TcpServer> NamedServer(char name, uint16_t port = 0) {
  return std::make_unique<TcpServer>(
      [name](int fd) {
        if (!SendAll(fd, std::string(1, name))) return;
        std::string ignored;
        ReadToEof(fd, &ignored, seconds(30));
      },
      port);
}

std::string Target(const TcpServer& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}
std::string Target(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// Connects through the proxy and returns the name of the server reached ('\0' = none). Keeps
// the connection open in *fd when fd is given.
char Reach(uint16_t port, int* keep = nullptr) {
  int fd = ConnectLocal(port);
  if (fd < 0) return 0;
  std::string name;
  bool ok = ReadExactly(fd, 1, &name, seconds(10));
  if (keep != nullptr && ok) {
    *keep = fd;
  } else {
    ::close(fd);
  }
  return ok ? name[0] : 0;
}

template <typename Pred>
bool Eventually(Pred pred, milliseconds timeout = milliseconds(15000)) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return pred();
}

std::string Series(const std::string& name, const std::string& listener,
                   const std::string& target = "") {
  std::string s = name + "{listener=\"" + listener + "\"";
  if (!target.empty()) s += ",target=\"" + target + "\"";
  return s + "}";
}

double Metric(uint16_t metrics_port, const std::string& series) {
  std::string body;
  if (HttpGet(metrics_port, "/metrics", &body) != 200) return -2;
  return MetricValue(body, series);
}

struct Proxy {
  ProxyProcess process;
  uint16_t port = 0;
  uint16_t metrics = 0;
};

// Starts the proxy on 127.0.0.1 with a metrics port; REQUIREs that it listens.
void StartProxy(Proxy* p, std::vector<std::string> args) {
  args.insert(args.begin(), {"--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--threads",
                             "2", "--log-level", "debug"});
  REQUIRE(p->process.Start(args));
  p->port = p->process.WaitListening(0);
  REQUIRE(p->port != 0);
  REQUIRE(p->process.WaitOutput("metrics on http://", seconds(10)));
  std::string out = p->process.output();
  size_t at = out.find("metrics on http://127.0.0.1:") + 28;
  p->metrics = static_cast<uint16_t>(std::atoi(out.c_str() + at));
  REQUIRE(p->metrics != 0);
}

void StopProxy(Proxy* p) {
  p->process.Signal(SIGTERM);
  CHECK(p->process.Wait(seconds(20)) == 0);
}

const std::string kListener = "127.0.0.1:0";

}  // namespace

TEST_CASE("roundrobin spreads connections evenly") {
  auto a = NamedServer('A'), b = NamedServer('B'), c = NamedServer('C');
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--target", Target(*b), "--target", Target(*c),
                  "--balance", "roundrobin", "--check", "none"});
  std::map<char, int> seen;
  for (int i = 0; i < 30; ++i) seen[Reach(p.port)]++;
  CHECK(seen['A'] == 10);
  CHECK(seen['B'] == 10);
  CHECK(seen['C'] == 10);
  StopProxy(&p);
}

TEST_CASE("random uses every target") {
  auto a = NamedServer('A'), b = NamedServer('B');
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--target", Target(*b), "--balance", "random", "--check",
                  "none"});
  std::map<char, int> seen;
  for (int i = 0; i < 40; ++i) seen[Reach(p.port)]++;
  CHECK(seen['A'] + seen['B'] == 40);
  CHECK(seen['A'] > 0);
  CHECK(seen['B'] > 0);
  StopProxy(&p);
}

TEST_CASE("leastconn sends new connections to the target with the fewest open") {
  auto a = NamedServer('A'), b = NamedServer('B');
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--target", Target(*b), "--balance", "leastconn",
                  "--check", "none"});
  std::map<char, std::vector<int>> held;
  for (int i = 0; i < 4; ++i) {
    int fd;
    char name = Reach(p.port, &fd);
    REQUIRE(name != 0);
    held[name].push_back(fd);
  }
  CHECK(held['A'].size() == 2);
  CHECK(held['B'].size() == 2);
  // Close A's two; once the proxy has seen them end, the next two go to A.
  for (int fd : held['A']) ::close(fd);
  held['A'].clear();
  REQUIRE(Eventually([&] {
    return Metric(p.metrics,
                  Series("zdap_proxy_target_connections_active", kListener, Target(*a))) == 0;
  }));
  for (int i = 0; i < 2; ++i) {
    int fd;
    char name = Reach(p.port, &fd);
    CHECK(name == 'A');
    held[name].push_back(fd);
  }
  for (auto& [name, fds] : held) {
    for (int fd : fds) ::close(fd);
  }
  StopProxy(&p);
}

TEST_CASE("first fails over when its server stops and returns when it is back") {
  auto a = NamedServer('A'), b = NamedServer('B');
  uint16_t a_port = a->port();
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--target", Target(*b), "--balance", "first", "--check",
                  "tcp", "--check-interval", "100ms", "--rise", "2", "--fall", "1"});
  for (int i = 0; i < 5; ++i) CHECK(Reach(p.port) == 'A');

  int on_a, on_b;
  REQUIRE(Reach(p.port, &on_a) == 'A');
  a->Stop();
  // No client error while B is healthy: the first connect to A fails and is retried on B.
  for (int i = 0; i < 10; ++i) CHECK(Reach(p.port) == 'B');
  REQUIRE(Reach(p.port, &on_b) == 'B');
  CHECK(WaitClosed(on_a, seconds(10)));  // A's connection ended with A
  ::close(on_a);
  CHECK(Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(a_port))) == 0);

  a = NamedServer('A', a_port);
  REQUIRE(a->port() == a_port);
  CHECK(Eventually([&] { return Reach(p.port) == 'A'; }));
  CHECK(Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(a_port))) == 1);
  // B's connection was never disturbed.
  CHECK(SendAll(on_b, std::string("still here")));
  ::close(on_b);
  StopProxy(&p);
}

TEST_CASE("a killed target closes only its own connections") {
  // Echo servers, so that a connection can be shown to still carry data.
  auto echo = [](char name) {
    return std::make_unique<TcpServer>([name](int fd) {
      if (!SendAll(fd, std::string(1, name))) return;
      char buf[4096];
      while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0 || !SendAll(fd, buf, static_cast<size_t>(n))) break;
      }
    });
  };
  auto a = echo('A'), b = echo('B');
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--target", Target(*b), "--balance", "roundrobin",
                  "--check", "none"});
  std::map<char, std::vector<int>> held;
  for (int i = 0; i < 6; ++i) {
    int fd;
    char name = Reach(p.port, &fd);
    REQUIRE(name != 0);
    held[name].push_back(fd);
  }
  REQUIRE(held['A'].size() == 3);
  REQUIRE(held['B'].size() == 3);
  // A dies mid-stream: its three connections end, B's three keep working.
  a->Stop();
  for (int fd : held['A']) CHECK(WaitClosed(fd, seconds(10)));
  for (int fd : held['B']) {
    std::string back;
    CHECK(SendAll(fd, std::string("ping")));
    CHECK(ReadExactly(fd, 4, &back, seconds(10)));
    CHECK(back == "ping");
  }
  for (auto& [name, fds] : held) {
    for (int fd : fds) ::close(fd);
  }
  StopProxy(&p);
}

TEST_CASE("connect failures are retried on the next target; metrics count them") {
  int holder;
  uint16_t dead = DeadPort(&holder);
  auto b = NamedServer('B');
  Proxy p;
  StartProxy(&p, {"--target", Target(dead), "--target", Target(*b), "--balance", "roundrobin",
                  "--check", "none", "--check-interval", "10s", "--retries", "1"});
  for (int i = 0; i < 10; ++i) CHECK(Reach(p.port) == 'B');
  std::string body;
  REQUIRE(HttpGet(p.metrics, "/metrics", &body) == 200);
  CHECK(MetricValue(body, Series("zdap_proxy_target_connect_failures_total", kListener,
                                 Target(dead))) >= 1);
  CHECK(MetricValue(body, Series("zdap_proxy_connect_retries_total", kListener)) >= 1);
  CHECK(MetricValue(body, Series("zdap_proxy_connections_failed_total", kListener)) == 0);
  CHECK(MetricValue(body, Series("zdap_proxy_connections_total", kListener)) == 10);
  CHECK(MetricValue(body, Series("zdap_proxy_target_up", kListener, Target(dead))) == 0);
  CHECK(body.find("# TYPE zdap_proxy_target_received_bytes_total counter") != std::string::npos);
  std::string out;
  // promtool (Debian package prometheus) is installed by scripts/test: missing is a failure.
  REQUIRE(Shell("command -v promtool", &out) == 0);
  {
    TempDir dir;
    FILE* f = std::fopen((dir.path() + "/m.txt").c_str(), "w");
    std::fputs(body.c_str(), f);
    std::fclose(f);
    out.clear();
    int rc = Shell("promtool check metrics < " + dir.path() + "/m.txt", &out);
    INFO(out);
    CHECK(rc == 0);
  }
  ::close(holder);
  StopProxy(&p);
}

TEST_CASE("each event loop accepts on its own socket; a second proxy cannot share the port") {
  auto b = NamedServer('B');
  Proxy p;  // --threads 2: two listening sockets with SO_REUSEPORT on one address
  StartProxy(&p, {"--target", Target(*b), "--check", "none"});
  for (int i = 0; i < 40; ++i) CHECK(Reach(p.port) == 'B');
  CHECK(Metric(p.metrics, Series("zdap_proxy_connections_total", kListener)) == 40);
  // A second zdap-proxyd is refused the port (it binds once without SO_REUSEPORT first), and
  // the first one goes on serving.
  ProxyProcess second;
  REQUIRE(second.Start({"--listen", Target(p.port), "--target", Target(*b), "--threads", "2"}));
  CHECK(second.Wait(seconds(10)) == 1);
  CHECK(second.output().find("Address already in use") != std::string::npos);
  for (int i = 0; i < 4; ++i) CHECK(Reach(p.port) == 'B');
  StopProxy(&p);
}

TEST_CASE("a target that does not answer the handshake times out; the next one serves") {
  // A listener with a full accept queue (backlog 0 holds one connection, never accepted):
  // the kernel drops further SYNs, so the proxy's connect stays pending until its timeout.
  int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(silent >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(silent, 0) == 0);
  REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  uint16_t silent_port = ntohs(a.sin_port);
  int queued = ConnectLocal(silent_port);  // fills the queue (a second one would hang here)
  REQUIRE(queued >= 0);
  auto b = NamedServer('B');
  Proxy p;
  StartProxy(&p, {"--target", Target(silent_port), "--target", Target(*b), "--balance",
                  "roundrobin", "--check", "none", "--retries", "1", "--connect-timeout", "300ms"});
  auto start = Clock::now();
  for (int i = 0; i < 4; ++i) CHECK(Reach(p.port) == 'B');
  // The first one to try the silent target waited for the timeout (then passive health sets
  // the target aside).
  CHECK(Clock::now() - start >= milliseconds(280));
  CHECK(Metric(p.metrics, Series("zdap_proxy_target_connect_failures_total", kListener,
                                 Target(silent_port))) >= 1);
  CHECK(p.process.output().find("timed out") != std::string::npos);
  StopProxy(&p);
  ::close(queued);
  ::close(silent);
}

namespace {

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// A fake PostgreSQL server: health checks (an SSLRequest) get `reply`; other connections get
// the server's name.
std::unique_ptr<TcpServer> FakePostgres(char name, std::string reply) {
  return std::make_unique<TcpServer>([name, reply](int fd) {
    std::string head;
    if (!ReadExactly(fd, 1, &head, seconds(10))) return;
    if (head[0] != '\0') {  // not a length prefix: client traffic
      SendAll(fd, std::string(1, name));
      std::string ignored;
      ReadToEof(fd, &ignored, seconds(30));
      return;
    }
    if (!ReadExactly(fd, 7, &head, seconds(10))) return;
    uint32_t len = (uint32_t(uint8_t(head[0])) << 24) | (uint32_t(uint8_t(head[1])) << 16) |
                   (uint32_t(uint8_t(head[2])) << 8) | uint32_t(uint8_t(head[3]));
    std::string rest;
    if (len < 8 || len > 10000 || !ReadExactly(fd, len - 8, &rest, seconds(10))) return;
    SendAll(fd, reply);
    std::string ignored;
    ReadToEof(fd, &ignored, seconds(5));
  });
}

std::string PgError(const std::string& sqlstate) {
  std::string fields = std::string("SFATAL") + '\0' + "C" + sqlstate + '\0' +
                       "Mthe database system is starting up" + '\0' + '\0';
  return Msg('E') + Be32(static_cast<uint32_t>(fields.size() + 4)) + fields;
}

// A fake MySQL server: sends `greeting` first; client traffic is told apart by the first
// byte the client sends ('?' asks for the name); a login packet gets an OK packet and must be
// followed by COM_QUIT, counted in *quits.
std::unique_ptr<TcpServer> FakeMysql(char name, std::string greeting,
                                     std::shared_ptr<std::atomic<int>> quits = nullptr) {
  return std::make_unique<TcpServer>([name, greeting, quits](int fd) {
    if (!SendAll(fd, greeting)) return;
    std::string first;
    if (!ReadExactly(fd, 1, &first, seconds(10))) return;
    if (first == "?") SendAll(fd, std::string(1, name));
    std::string rest;
    if (first != "?" && ReadExactly(fd, 3, &rest, seconds(10))) {
      size_t len =
          uint8_t(first[0]) | (size_t(uint8_t(rest[0])) << 8) | (size_t(uint8_t(rest[1])) << 16);
      if (!ReadExactly(fd, len, &rest, seconds(10))) return;
      SendAll(fd, std::string("\x07\0\0\x02\0\0\0\x02\0\0\0", 11));  // OK
      std::string quit;
      if (quits && ReadExactly(fd, 5, &quit, seconds(10)) &&
          quit == std::string("\x01\0\0\0\x01", 5)) {
        ++*quits;
      }
    }
    std::string ignored;
    ReadToEof(fd, &ignored, seconds(30));
  });
}

std::string MysqlPacket(const std::string& payload) {
  std::string p = {static_cast<char>(payload.size()), static_cast<char>(payload.size() >> 8),
                   static_cast<char>(payload.size() >> 16), 0};
  return p + payload;
}

// A MariaDB 10.11-like HandshakeV10 greeting (what the real server sends, field by field).
std::string MysqlGreeting() {
  std::string p = "\x0a";
  p += "10.11.4-MariaDB";
  p += '\0';
  p += std::string("\x01\x00\x00\x00", 4);  // connection id
  p += "abcdefgh";                          // auth data 1
  p += '\0';                                // filler
  p += std::string("\xff\xf7", 2);          // capabilities, low
  p += '\x2d';                              // charset
  p += std::string("\x02\x00", 2);          // status
  p += std::string("\xff\x81", 2);          // capabilities, high (plugin auth)
  p += '\x15';                              // auth data length
  p += std::string(10, '\0');               // reserved
  p += "ijklmnopqrst";                      // auth data 2
  p += '\0';
  p += "mysql_native_password";
  p += '\0';
  return MysqlPacket(p);
}

std::string MysqlTooMany() {
  return MysqlPacket(std::string("\xff\x10\x04", 3) + "Too many connections");
}

// Connects, sends `hello` and reads the one-letter name.
char ReachWith(uint16_t port, const std::string& hello) {
  int fd = ConnectLocal(port);
  if (fd < 0) return 0;
  std::string name;
  bool ok = SendAll(fd, hello);
  if (ok && hello == "?") {
    // MySQL: the greeting comes first.
    std::string greeting;
    ok = ReadExactly(fd, MysqlGreeting().size(), &greeting, seconds(10));
  }
  ok = ok && ReadExactly(fd, 1, &name, seconds(10));
  ::close(fd);
  return ok ? name[0] : 0;
}

}  // namespace

TEST_CASE("postgres check skips a server that refuses the SSLRequest with 57P03") {
  auto starting = FakePostgres('S', PgError("57P03"));
  auto ready = FakePostgres('R', "N");
  auto bad_password_is_fine = FakePostgres('P', PgError("28P01"));
  Proxy p;
  StartProxy(&p, {"--target", Target(*starting), "--target", Target(*ready), "--target",
                  Target(*bad_password_is_fine), "--balance", "first", "--check", "postgres",
                  "--check-interval", "100ms", "--fall", "1", "--rise", "1"});
  REQUIRE(Eventually([&] {
    return Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(*starting))) == 0;
  }));
  CHECK(Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(*ready))) == 1);
  CHECK(Metric(p.metrics,
               Series("zdap_proxy_target_up", kListener, Target(*bad_password_is_fine))) == 1);
  for (int i = 0; i < 5; ++i) CHECK(ReachWith(p.port, "x") == 'R');
  CHECK(p.process.output().find("is down") != std::string::npos);
  StopProxy(&p);
}

TEST_CASE("mysql check reads the greeting and skips a server that refuses") {
  auto full = FakeMysql('F', MysqlTooMany());
  auto quits = std::make_shared<std::atomic<int>>(0);
  auto ok = FakeMysql('M', MysqlGreeting(), quits);
  Proxy p;
  StartProxy(&p, {"--target", Target(*full), "--target", Target(*ok), "--balance", "first",
                  "--check", "mysql", "--check-interval", "100ms", "--fall", "1", "--rise", "1"});
  REQUIRE(Eventually([&] {
    return Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(*full))) == 0;
  }));
  CHECK(Metric(p.metrics, Series("zdap_proxy_target_up", kListener, Target(*ok))) == 1);
  for (int i = 0; i < 3; ++i) CHECK(ReachWith(p.port, "?") == 'M');
  CHECK(Eventually([&] { return *quits >= 2; }));  // checks log in and say goodbye
  StopProxy(&p);
}

TEST_CASE("idle timeout closes quiet connections only") {
  TcpServer echo([](int fd) {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0 || !SendAll(fd, buf, static_cast<size_t>(n))) break;
    }
  });
  Proxy p;
  StartProxy(&p, {"--target", Target(echo), "--check", "none", "--idle-timeout", "300ms"});
  int quiet = ConnectLocal(p.port);
  int busy = ConnectLocal(p.port);
  REQUIRE(quiet >= 0);
  REQUIRE(busy >= 0);
  auto start = Clock::now();
  bool busy_ok = true;
  while (Clock::now() - start < milliseconds(900)) {
    std::string back;
    busy_ok = busy_ok && SendAll(busy, std::string("x")) && ReadExactly(busy, 1, &back);
    std::this_thread::sleep_for(milliseconds(50));  // the traffic pattern under test
  }
  CHECK(busy_ok);
  CHECK(WaitClosed(quiet, seconds(5)));
  std::string back;
  CHECK(SendAll(busy, std::string("y")));
  CHECK(ReadExactly(busy, 1, &back));
  ::close(quiet);
  ::close(busy);
  CHECK(Metric(p.metrics, Series("zdap_proxy_idle_timeouts_total", kListener)) >= 1);
  StopProxy(&p);
}

TEST_CASE("healthcheck subcommand") {
  auto a = NamedServer('A');
  int holder;
  uint16_t dead = DeadPort(&holder);
  Proxy good, bad;
  StartProxy(&good, {"--target", Target(*a), "--check", "tcp", "--check-interval", "100ms"});
  StartProxy(&bad, {"--target", Target(dead), "--check", "tcp", "--check-interval", "100ms",
                    "--fall", "1"});
  std::string bin = ProxyBinary();
  std::string out;
  CHECK(Shell(bin + " healthcheck --metrics 127.0.0.1:" + std::to_string(good.metrics), &out) == 0);
  CHECK(Eventually([&] {
    return Shell(bin + " healthcheck --metrics 127.0.0.1:" + std::to_string(bad.metrics)) == 1;
  }));
  CHECK(Shell(bin + " healthcheck --listen 127.0.0.1:" + std::to_string(good.port)) == 0);
  CHECK(Shell("env -i ZDAP_LISTEN=127.0.0.1:" + std::to_string(good.port) + " " + bin +
              " healthcheck") == 0);
  CHECK(Shell(bin + " healthcheck --listen 127.0.0.1:" + std::to_string(dead)) == 1);
  CHECK(Shell(bin + " healthcheck") == 2);
  ::close(holder);
  StopProxy(&good);
  StopProxy(&bad);
}

TEST_CASE("a YAML file declares several listeners") {
  auto a = NamedServer('A'), b = NamedServer('B');
  TempDir dir;
  std::string path = dir.path() + "/proxy.yaml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f,
               "log_level: debug\nlisteners:\n"
               "  - {name: one, listen: \"127.0.0.1:0\", targets: [\"%s\"], check: none}\n"
               "  - {name: two, listen: \"127.0.0.1:0\", targets: [\"%s\"], check: none}\n",
               Target(*a).c_str(), Target(*b).c_str());
  std::fclose(f);
  ProxyProcess proxy;
  REQUIRE(proxy.Start({"--config", path}));
  uint16_t one = proxy.WaitListening(0);
  uint16_t two = proxy.WaitListening(1);
  REQUIRE(one != 0);
  REQUIRE(two != 0);
  CHECK(Reach(one) == 'A');
  CHECK(Reach(two) == 'B');
  proxy.Signal(SIGTERM);
  CHECK(proxy.Wait(seconds(20)) == 0);
}

// --check postgres|mysql against real servers the test starts: healthy, stopped -> unhealthy,
// started -> healthy, and 100+ checks leave no authentication failure in the server's log.
namespace {

// Runs `command`; FAILs the test with its output when it does not exit 0.
bool Run(const std::string& command) {
  std::string out;
  int rc = Shell(command, &out);
  INFO(command << "\n" << out);
  CHECK(rc == 0);
  return rc == 0;
}

std::string FileText(const std::string& path) {
  std::string out;
  Shell("cat " + path, &out);
  return out;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A loopback port for a server: reserved for this process (support/test_ports.h) and below the
// ephemeral range, so a server restarted on it finds it free even while other tests run.
uint16_t FreePort() {
  return static_cast<uint16_t>(zdap::test::ReservePort());
}

// A scratch PostgreSQL 15 cluster on 127.0.0.1, owned by the postgres user, logging every
// connection so that the test can count the checks.
struct Postgres {
  TempDir dir;
  uint16_t port = 0;
  std::string bin = "/usr/lib/postgresql/15/bin/";
  std::string As(const std::string& cmd) const { return "su postgres -s /bin/sh -c '" + cmd + "'"; }
  std::string Log() const { return dir.path() + "/pg.log"; }
  bool Init() {
    return Run("chown postgres " + dir.path()) &&
           Run(As(bin + "initdb -D " + dir.path() + "/data -A trust -U postgres >/dev/null"));
  }
  bool Start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (port == 0 || attempt > 0) port = FreePort();
      std::string opts = "-p " + std::to_string(port) + " -k " + dir.path() +
                         " -c listen_addresses=127.0.0.1 -c log_connections=on";
      if (Shell(As(bin + "pg_ctl -D " + dir.path() + "/data -l " + Log() + " -w -t 60 -o \"" +
                   opts + "\" start")) == 0) {
        return true;
      }
    }
    FAIL("postgres did not start: " << FileText(Log()));
    return false;
  }
  bool Stop() { return Run(As(bin + "pg_ctl -D " + dir.path() + "/data -m fast -w stop")); }
  ~Postgres() { Shell(As(bin + "pg_ctl -D " + dir.path() + "/data -m immediate -w stop")); }
};

// A scratch MariaDB 10.11 server on 127.0.0.1 with the check's user, created without
// privileges, and no anonymous users.
struct Mariadb {
  TempDir dir;
  uint16_t port = 0;
  std::string Log() const { return dir.path() + "/error.log"; }
  std::string Client(const std::string& sql) const {
    return "mariadb --no-defaults -uroot -S " + dir.path() + "/sock -N -B -e \"" + sql + "\"";
  }
  bool Init() {
    return Run("mariadb-install-db --no-defaults --user=root --datadir=" + dir.path() +
               "/data --auth-root-authentication-method=socket >/dev/null");
  }
  bool Start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (port == 0 || attempt > 0) port = FreePort();
      Shell("setsid mariadbd --no-defaults --user=root --datadir=" + dir.path() +
            "/data --port=" + std::to_string(port) +
            " --bind-address=127.0.0.1 --socket=" + dir.path() + "/sock --pid-file=" + dir.path() +
            "/pid --log-error=" + Log() + " --skip-log-bin </dev/null >/dev/null 2>&1 &");
      if (Eventually([&] { return Shell(Client("select 1") + " >/dev/null 2>&1") == 0; },
                     seconds(60))) {
        return true;
      }
      Shell("kill $(cat " + dir.path() + "/pid) 2>/dev/null");
    }
    FAIL("mariadbd did not start: " << FileText(Log()));
    return false;
  }
  bool Stop() {
    std::string pid = std::to_string(std::atol(FileText(dir.path() + "/pid").c_str()));
    if (!Run("kill " + pid)) return false;
    return Eventually([&] { return Shell("kill -0 " + pid + " 2>/dev/null") != 0; }, seconds(60));
  }
  ~Mariadb() { Shell("kill -9 $(cat " + dir.path() + "/pid 2>/dev/null) 2>/dev/null"); }
};

}  // namespace

TEST_CASE("postgres check against a real PostgreSQL 15: up, stopped, up; nothing logged") {
  Postgres pg;
  REQUIRE(pg.Init());
  REQUIRE(pg.Start());
  Proxy p;
  StartProxy(&p, {"--target", Target(pg.port), "--check", "postgres", "--check-interval", "20ms",
                  "--fall", "1", "--rise", "1"});
  std::string series = Series("zdap_proxy_target_up", kListener, Target(pg.port));
  REQUIRE(Eventually([&] { return Metric(p.metrics, series) == 1; }));
  // 100 checks: each one is a connection the server logs ("connection received").
  REQUIRE(Eventually([&] { return Count(FileText(pg.Log()), "connection received") >= 100; },
                     seconds(60)));
  std::string log = FileText(pg.Log());
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(Count(log, "FATAL") == 0);
  CHECK(Count(log, "zdap-healthcheck") == 0);
  CHECK(Count(log, "incomplete startup packet") == 0);
  CHECK(Count(log, "ERROR") == 0);
  // No login at all: nothing to fail, nothing authorized.
  CHECK(Count(log, "authentication failed") == 0);
  CHECK(Count(log, "connection authorized") == 0);

  REQUIRE(pg.Stop());
  CHECK(Eventually([&] { return Metric(p.metrics, series) == 0; }));
  uint16_t port = pg.port;
  REQUIRE(pg.Start());
  if (pg.port == port) {
    CHECK(Eventually([&] { return Metric(p.metrics, series) == 1; }, seconds(30)));
  } else {
    FAIL("port " << port << " was taken while the server was down; cannot test the recovery");
  }
  StopProxy(&p);
}

TEST_CASE("mysql check against a real MariaDB 10.11: up, stopped, up; nothing logged") {
  Mariadb db;
  REQUIRE(db.Init());
  REQUIRE(db.Start());
  REQUIRE(
      Run(db.Client("DELETE FROM mysql.global_priv WHERE User=''; FLUSH PRIVILEGES; "
                    "CREATE USER 'zdap-healthcheck'@'%'")));
  std::string before = FileText(db.Log());
  auto status = [&](const std::string& name) {
    std::string out;
    Shell(db.Client("SHOW GLOBAL STATUS LIKE '" + name + "'") + " | cut -f2", &out);
    return std::atoll(out.c_str());
  };
  long long connections_before = status("Connections");
  long long aborted_before = status("Aborted_connects") + status("Aborted_clients");

  Proxy p;
  StartProxy(&p, {"--target", Target(db.port), "--check", "mysql", "--check-interval", "20ms",
                  "--fall", "1", "--rise", "1"});
  std::string series = Series("zdap_proxy_target_up", kListener, Target(db.port));
  REQUIRE(Eventually([&] { return Metric(p.metrics, series) == 1; }));
  REQUIRE(
      Eventually([&] { return status("Connections") - connections_before >= 100; }, seconds(60)));
  std::string log = FileText(db.Log()).substr(before.size());
  INFO(log.substr(0, 4000));
  // MariaDB 10.11 at its default log_warnings=2 logs "Aborted connection ... (This connection
  // closed normally without authentication)" for a client that closes before logging in (also
  // right after the greeting) and "Access denied" for a refused login: the check is silent only
  // by logging in as an account that exists.
  CHECK(Count(log, "Aborted connection") == 0);
  CHECK(Count(log, "Access denied") == 0);
  CHECK(Count(log, "[Warning]") == 0);
  CHECK(Count(log, "[ERROR]") == 0);
  CHECK(status("Aborted_connects") + status("Aborted_clients") == aborted_before);

  REQUIRE(db.Stop());
  CHECK(Eventually([&] { return Metric(p.metrics, series) == 0; }));
  uint16_t port = db.port;
  REQUIRE(db.Start());
  if (db.port == port) {
    CHECK(Eventually([&] { return Metric(p.metrics, series) == 1; }, seconds(30)));
  } else {
    FAIL("port " << port << " was taken while the server was down; cannot test the recovery");
  }
  StopProxy(&p);
}

TEST_CASE("metrics port refuses bad requests with clear statuses") {
  auto a = NamedServer('A');
  Proxy p;
  StartProxy(&p, {"--target", Target(*a), "--check", "none"});
  auto status_of = [&](const std::string& request) {
    int fd = ConnectLocal(p.metrics);
    if (fd < 0) return std::string("no connection");
    std::string reply;
    SendAll(fd, request);
    ReadToEof(fd, &reply, seconds(10));
    ::close(fd);
    return reply.substr(0, reply.find("\r\n"));
  };
  CHECK(status_of("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 200 OK");
  CHECK(status_of("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n") ==
        "HTTP/1.1 405 Method Not Allowed");
  CHECK(status_of("GET /nope HTTP/1.1\r\n\r\n") == "HTTP/1.1 404 Not Found");
  CHECK(status_of("GARBAGE\r\n\r\n") == "HTTP/1.1 400 Bad Request");
  CHECK(status_of("GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n") ==
        "HTTP/1.1 413 Payload Too Large");
  StopProxy(&p);
}
