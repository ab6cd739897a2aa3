#include "engine/probe_socket.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "core/connect.h"

namespace zdap::engine {

ProbeConnection::ProbeConnection(const std::string& host, int port, const std::string& unix_path,
                                 std::chrono::steady_clock::time_point deadline)
    : deadline_(deadline) {
  Connection c = ConnectBefore(host, port, unix_path, deadline);
  switch (c.outcome) {
    case ConnectOutcome::kOk:
      fd_ = std::move(c.fd);
      break;
    case ConnectOutcome::kRefused:
      Fail(ProbeTransport::kRefused, std::move(c.error));
      break;
    case ConnectOutcome::kTimeout:
      Fail(ProbeTransport::kTimeout, "connect timed out");
      break;
    case ConnectOutcome::kError:
      Fail(ProbeTransport::kError, std::move(c.error));
      break;
  }
}

ProbeConnection::~ProbeConnection() = default;

void ProbeConnection::Fail(ProbeTransport t, std::string error) {
  transport_ = t;
  error_ = std::move(error);
}

bool ProbeConnection::Send(std::string_view request) {
  if (!ok()) return false;
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd_.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitReady(fd_.get(), POLLOUT, deadline_)) {
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
    if (!WaitReady(fd_.get(), POLLIN, deadline_)) {
      Fail(ProbeTransport::kTimeout, "no reply before the deadline");
      return false;
    }
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
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
                       std::chrono::steady_clock::time_point deadline) {
  ProbeConnection conn(host, port, unix_path, deadline);
  if (conn.Send(request)) conn.Receive(complete);
  ProbeExchange ex;
  ex.transport = conn.transport();
  ex.error = conn.error();
  ex.received = conn.received();
  return ex;
}

}  // namespace zdap::engine
