#include "core/connect.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace zdap {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
}

Connection Failed(ConnectOutcome outcome, std::string error) {
  Connection c;
  c.outcome = outcome;
  c.error = std::move(error);
  return c;
}

ConnectOutcome OutcomeOf(int err) {
  return err == ECONNREFUSED || err == ENOENT ? ConnectOutcome::kRefused : ConnectOutcome::kError;
}

// One non-blocking connect to `addr`, waited for until the deadline.
Connection ConnectOne(int family, const sockaddr* addr, socklen_t len, Clock::time_point deadline) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Failed(ConnectOutcome::kError, std::string("socket: ") + std::strerror(errno));
  }
  if (::connect(fd.get(), addr, len) != 0) {
    // A unix socket whose backlog is full answers EAGAIN: wait as for a TCP connect.
    if (errno != EINPROGRESS && errno != EAGAIN) {
      return Failed(OutcomeOf(errno), std::strerror(errno));
    }
    if (!WaitReady(fd.get(), POLLOUT, deadline)) {
      return Failed(ConnectOutcome::kTimeout, "timed out");
    }
    int err = 0;
    socklen_t err_len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) err = errno;
    if (err != 0) return Failed(OutcomeOf(err), std::strerror(err));
  }
  Connection c;
  c.fd = std::move(fd);
  c.outcome = ConnectOutcome::kOk;
  return c;
}

}  // namespace

bool WaitReady(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, MillisLeft(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

Connection ConnectBefore(const std::string& host, int port, const std::string& unix_path,
                         Clock::time_point deadline) {
  if (host.empty()) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (unix_path.empty() || unix_path.size() >= sizeof(un.sun_path)) {
      return Failed(ConnectOutcome::kError, "bad unix socket path: " + unix_path);
    }
    std::memcpy(un.sun_path, unix_path.c_str(), unix_path.size() + 1);
    return ConnectOne(AF_UNIX, reinterpret_cast<const sockaddr*>(&un), sizeof un, deadline);
  }
  if (port < 1 || port > 65535) {
    return Failed(ConnectOutcome::kError, "port " + std::to_string(port) + " is out of range");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Failed(ConnectOutcome::kError,
                  "cannot resolve " + host + ": " + (rc != 0 ? ::gai_strerror(rc) : "no address"));
  }
  Connection c = Failed(ConnectOutcome::kError, "no address");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    c = ConnectOne(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
    if (c.ok() || c.outcome == ConnectOutcome::kTimeout) break;
  }
  ::freeaddrinfo(res);
  return c;
}

}  // namespace zdap
