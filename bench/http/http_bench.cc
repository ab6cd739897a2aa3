// bench/http: the one HTTP client (net::HttpClient) against what it replaced, per request,
// interleaved round by round, medians over the rounds.
//
//   docker GET /version on dockerd's socket:  raw   a minimal blocking HTTP/1.0 exchange (the
//                                                    floor: no parser, no timers)
//                                             old   runtime::DockerClient as of OLD_REV
//                                             new   runtime::DockerClient on net::HttpClient
//   GET /healthz on a loopback TCP server:    old   the hand-written HTTP/1.0 exchange that
//                                                    `zdap-proxyd healthcheck` used (copied)
//                                             new   net::HttpClient, as it does now
// Printed: median microseconds per request and the ratios new/old and new/raw.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "runtime/docker_client.h"

// The OLD_REV DockerClient, declared by its own header under another namespace (run builds
// its .cc the same way).
#define runtime runtime_old
#include "docker_client_old.h"
#undef runtime

namespace {

using Clock = std::chrono::steady_clock;

double Micros(const std::function<bool()>& once, int n) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!once()) {
      std::fprintf(stderr, "request failed\n");
      std::exit(1);
    }
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Writes `request` to a connected socket and reads until EOF; true on a 200.
bool RawExchange(int fd, const std::string& request) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return false;
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply.rfind("HTTP/1.1 200", 0) == 0 || reply.rfind("HTTP/1.0 200", 0) == 0;
}

bool RawDocker(const std::string& socket) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::snprintf(un.sun_path, sizeof un.sun_path, "%s", socket.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) return false;
  return RawExchange(fd, "GET /v1.41/version HTTP/1.0\r\nHost: docker\r\n\r\n");
}

// The old `zdap-proxyd healthcheck` exchange, as it was (non-blocking connect + poll, one
// send, recv until EOF or 4 KiB).
bool OldHealthz(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (errno != EINPROGRESS || ::poll(&p, 1, 3000) != 1) return false;
  }
  std::string request = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n";
  ssize_t w = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string reply;
  char buf[1024];
  while (w == static_cast<ssize_t>(request.size()) && reply.size() < 4096) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) != 1) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply.rfind("HTTP/1.1 200", 0) == 0 || reply.rfind("HTTP/1.0 200", 0) == 0;
}

// A loopback /healthz server like the proxy's: one request per connection, then close.
class HealthzServer {
 public:
  HealthzServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        std::string head;
        char buf[2048];
        while (head.find("\r\n\r\n") == std::string::npos) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          head.append(buf, static_cast<size_t>(n));
        }
        static const std::string reply =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nok\n";
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    });
  }
  ~HealthzServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    OldHealthz(port_);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace zdap;
  std::string socket = argc > 1 ? argv[1] : "/var/run/docker.sock";
  int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  int n = argc > 3 ? std::atoi(argv[3]) : 200;
  runtime_old::DockerClient old_docker(socket);
  runtime::DockerClient new_docker(socket);
  auto ok = [](const auto& r) { return r.ok() && r->status == 200; };
  HealthzServer healthz;
  net::HttpUrl url = *net::ParseHttpUrl("http://127.0.0.1:" + std::to_string(healthz.port()));
  net::HttpClientOptions options;
  options.accept = "*/*";
  options.max_body_bytes = 4096;
  net::HttpClient new_healthz(url, options);
  net::HttpRequest get_healthz;
  get_healthz.target = "/healthz";
  get_healthz.timeout = std::chrono::seconds(3);

  std::vector<double> d_raw, d_old, d_new, h_old, h_new;
  for (int r = 0; r < rounds; ++r) {
    // Alternating order inside a round, so neither contender always runs first.
    bool flip = r % 2 == 1;
    auto docker_old = [&] {
      d_old.push_back(Micros(
          [&] { return ok(old_docker.Request("GET", "/version", "", std::chrono::seconds(5))); },
          n));
    };
    auto docker_new = [&] {
      d_new.push_back(Micros(
          [&] { return ok(new_docker.Request("GET", "/version", "", std::chrono::seconds(5))); },
          n));
    };
    d_raw.push_back(Micros([&] { return RawDocker(socket); }, n));
    if (flip) {
      docker_new();
      docker_old();
    } else {
      docker_old();
      docker_new();
    }
    auto hz_old = [&] { h_old.push_back(Micros([&] { return OldHealthz(healthz.port()); }, n)); };
    auto hz_new = [&] {
      h_new.push_back(Micros([&] { return ok(new_healthz.Send(get_healthz)); }, n));
    };
    if (flip) {
      hz_new();
      hz_old();
    } else {
      hz_old();
      hz_new();
    }
  }
  std::printf("%d rounds x %d requests, median us/request (min..max over rounds)\n", rounds, n);
  auto row = [](const char* what, const std::vector<double>& v) {
    std::printf("  %-34s %8.1f  (%.1f..%.1f)\n", what, Median(v),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  };
  row("docker GET /version  raw HTTP/1.0", d_raw);
  row("docker GET /version  old client", d_old);
  row("docker GET /version  new client", d_new);
  row("GET /healthz         old exchange", h_old);
  row("GET /healthz         new client", h_new);
  std::printf("ratios: docker new/old %.3f, new/raw %.3f, old/raw %.3f; healthz new/old %.3f\n",
              Median(d_new) / Median(d_old), Median(d_new) / Median(d_raw),
              Median(d_old) / Median(d_raw), Median(h_new) / Median(h_old));
  return 0;
}
