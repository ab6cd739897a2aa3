#include "proxy/healthcheck_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace zdap::proxy {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Connects within the deadline; returns the fd or -1 with *error set.
int ConnectTo(const HostPort& address, Clock::time_point deadline, std::string* error) {
  std::string host = address.host.empty() || address.host == "0.0.0.0" ? "127.0.0.1"
                     : address.host == "::"                            ? "::1"
                                                                       : address.host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(address.port).c_str(), &hints, &res);
  if (rc != 0) {
    *error = ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  *error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) break;
        *error = std::strerror(err);
      } else {
        *error = "timed out";
      }
    } else {
      *error = std::strerror(errno);
    }
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

int RunHealthcheck(const ProxyConfig& config, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string error;
  if (config.metrics) {
    int fd = ConnectTo(*config.metrics, deadline, &error);
    if (fd < 0) {
      std::fprintf(stderr, "unhealthy: metrics %s: %s\n", config.metrics->ToString().c_str(),
                   error.c_str());
      return 1;
    }
    std::string request = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n";
    ssize_t w = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string reply;
    char buf[1024];
    while (w == static_cast<ssize_t>(request.size()) && reply.size() < 4096) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) != 1) break;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (reply.rfind("HTTP/1.1 200", 0) == 0 || reply.rfind("HTTP/1.0 200", 0) == 0) return 0;
    std::string line = reply.substr(0, reply.find('\r'));
    std::fprintf(stderr, "unhealthy: %s\n", line.empty() ? "no answer" : line.c_str());
    return 1;
  }
  const HostPort& listen = config.listeners.front().listen;
  int fd = ConnectTo(listen, deadline, &error);
  if (fd < 0) {
    std::fprintf(stderr, "unhealthy: %s: %s\n", listen.ToString().c_str(), error.c_str());
    return 1;
  }
  ::close(fd);
  return 0;
}

}  // namespace zdap::proxy
