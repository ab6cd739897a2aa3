#include "engine/probe_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zdap::engine {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd; false on timeout.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, MillisLeft(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

ProbeConnection::ProbeConnection(const std::string& host, int port, const std::string& unix_path,
                                 Clock::time_point deadline)
    : deadline_(deadline) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family;
  if (host.empty()) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (unix_path.size() >= sizeof(un.sun_path)) {
      Fail(ProbeTransport::kError, "unix socket path too long: " + unix_path);
      return;
    }
    std::memcpy(un.sun_path, unix_path.c_str(), unix_path.size() + 1);
    std::memcpy(&addr, &un, sizeof un);
    addr_len = sizeof un;
    family = AF_UNIX;
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
      Fail(ProbeTransport::kError, "cannot resolve " + host + ": " + ::gai_strerror(rc));
      return;
    }
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addr_len = res->ai_addrlen;
    family = res->ai_family;
    ::freeaddrinfo(res);
  }
  fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail(ProbeTransport::kError, std::string("socket: ") + std::strerror(errno));
    return;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno == ECONNREFUSED || errno == ENOENT) {
      Fail(ProbeTransport::kRefused, std::strerror(errno));
      return;
    }
    if (errno != EINPROGRESS && errno != EAGAIN) {
      Fail(ProbeTransport::kError, std::strerror(errno));
      return;
    }
    if (!WaitFor(fd_, POLLOUT, deadline_)) {
      Fail(ProbeTransport::kTimeout, "connect timed out");
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(err == ECONNREFUSED ? ProbeTransport::kRefused : ProbeTransport::kError,
           std::strerror(err));
      return;
    }
  }
}

ProbeConnection::~ProbeConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void ProbeConnection::Fail(ProbeTransport t, std::string error) {
  transport_ = t;
  error_ = std::move(error);
}

bool ProbeConnection::Send(std::string_view request) {
  if (!ok()) return false;
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd_, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd_, POLLOUT, deadline_)) {
        Fail(ProbeTransport::kTimeout, "send timed out");
        return false;
      }
      continue;
    }
    Fail(ProbeTransport::kError, std::string("send: ") + std::strerror(errno));
    return false;
  }
  return true;
}

bool ProbeConnection::Receive(const std::function<bool(std::string_view)>& complete) {
  if (!ok()) return false;
  received_.clear();
  char buf[4096];
  while (!complete(received_)) {
    if (received_.size() >= 65536) break;
    if (!WaitFor(fd_, POLLIN, deadline_)) {
      Fail(ProbeTransport::kTimeout, "no reply before the deadline");
      return false;
    }
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      received_.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      Fail(ProbeTransport::kError, std::string("recv: ") + std::strerror(errno));
      return false;
    }
  }
  return true;
}

ProbeExchange Exchange(const std::string& host, int port, const std::string& unix_path,
                       std::string_view request,
                       const std::function<bool(std::string_view)>& complete,
                       std::chrono::milliseconds timeout) {
  ProbeConnection conn(host, port, unix_path, Clock::now() + timeout);
  if (conn.Send(request)) conn.Receive(complete);
  ProbeExchange ex;
  ex.transport = conn.transport();
  ex.error = conn.error();
  ex.received = conn.received();
  return ex;
}

}  // namespace zdap::engine
