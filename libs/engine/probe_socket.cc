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

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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

ProbeExchange Exchange(const std::string& host, int port, const std::string& unix_path,
                       std::string_view request,
                       const std::function<bool(std::string_view)>& complete,
                       std::chrono::milliseconds timeout) {
  ProbeExchange ex;
  auto deadline = Clock::now() + timeout;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family;
  if (host.empty()) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (unix_path.size() >= sizeof(un.sun_path)) {
      ex.error = "unix socket path too long: " + unix_path;
      return ex;
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
      ex.error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
      return ex;
    }
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addr_len = res->ai_addrlen;
    family = res->ai_family;
    ::freeaddrinfo(res);
  }
  Fd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    ex.error = std::string("socket: ") + std::strerror(errno);
    return ex;
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno == ECONNREFUSED || errno == ENOENT) {
      ex.transport = ProbeTransport::kRefused;
      ex.error = std::strerror(errno);
      return ex;
    }
    if (errno != EINPROGRESS && errno != EAGAIN) {
      ex.error = std::strerror(errno);
      return ex;
    }
    if (!WaitFor(fd.get(), POLLOUT, deadline)) {
      ex.transport = ProbeTransport::kTimeout;
      ex.error = "connect timed out";
      return ex;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ex.transport = err == ECONNREFUSED ? ProbeTransport::kRefused : ProbeTransport::kError;
      ex.error = std::strerror(err);
      return ex;
    }
  }
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd.get(), POLLOUT, deadline)) {
        ex.transport = ProbeTransport::kTimeout;
        ex.error = "send timed out";
        return ex;
      }
      continue;
    }
    ex.error = std::string("send: ") + std::strerror(errno);
    return ex;
  }
  char buf[4096];
  while (!complete(ex.received)) {
    if (ex.received.size() >= 65536) break;
    if (!WaitFor(fd.get(), POLLIN, deadline)) {
      ex.transport = ProbeTransport::kTimeout;
      ex.error = "no reply before the deadline";
      return ex;
    }
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      ex.received.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      ex.error = std::string("recv: ") + std::strerror(errno);
      return ex;
    }
  }
  ex.transport = ProbeTransport::kOk;
  return ex;
}

}  // namespace zdap::engine
