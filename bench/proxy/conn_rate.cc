// conn_rate: the connection-rate half of bench/proxy.
//
//   conn_rate serve PORT             accept on 127.0.0.1:PORT and close each connection at once
//   conn_rate client PORT SECONDS [THREADS [CONNECTIONS]]
//                                    connect to 127.0.0.1:PORT, wait for the server's close,
//                                    close; as many times as fit; prints connections per second
//                                    (rounds per second with CONNECTIONS > 1, default 1)
//
// CONNECTIONS 2 against the server itself is the ceiling for a proxy on the same machine: a
// proxied connection is two TCP connections (client -> proxy, proxy -> server), each with the
// kernel work of a direct one, so no proxy can finish more rounds than this does.
//
// A round ends only when the server's close has come back through whatever is in between, so
// a proxy's upstream connect counts, not just the kernel's accept queue. The client answers the
// server's FIN with a reset (SO_LINGER 0), which ends the connection on both sides at once, so
// no TIME_WAIT sockets pile up and exhaust the ephemeral ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "loopback.h"

namespace {

void CloseWithReset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

int Serve(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::fprintf(stderr, "conn_rate: listen 127.0.0.1:%d: %s\n", port, std::strerror(errno));
    return 1;
  }
  while (true) {
    int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) {
      // A FIN, not a reset: the client must see an orderly end through any proxy.
      ::close(c);
    }
  }
}

// Connects, waits for the server's close, closes: true when the close came back in order.
bool OneConnection(const sockaddr_in& a) {
  char buf[64];
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  if (ok) {
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    }
    ok = n == 0 || errno == ECONNRESET;
  }
  CloseWithReset(fd);
  return ok;
}

int Client(int port, double seconds, int threads, int connections) {
  std::atomic<long> done{0}, failed{0};
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      sockaddr_in a = Loopback(port);
      while (std::chrono::steady_clock::now() < end) {
        bool ok = true;
        for (int c = 0; c < connections && ok; ++c) ok = OneConnection(a);
        (ok ? done : failed).fetch_add(1);
      }
    });
  }
  for (auto& w : workers) w.join();
  std::printf("%.0f\n", static_cast<double>(done.load()) / seconds);
  if (failed.load() > 0) std::fprintf(stderr, "conn_rate: %ld rounds failed\n", failed.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "serve") return Serve(std::atoi(argv[2]));
  if (argc >= 4 && std::string(argv[1]) == "client") {
    int threads = argc >= 5 ? std::atoi(argv[4]) : 4;
    int connections = argc >= 6 ? std::atoi(argv[5]) : 1;
    if (threads >= 1 && threads <= 256 && connections >= 1 && connections <= 16) {
      return Client(std::atoi(argv[2]), std::atof(argv[3]), threads, connections);
    }
  }
  std::fprintf(stderr,
               "usage: conn_rate serve PORT | conn_rate client PORT SECONDS [THREADS (1-256) "
               "[CONNECTIONS per round (1-16)]]\n");
  return 2;
}
