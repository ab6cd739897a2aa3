#include "catalog/port_allocator.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "core/unique_fd.h"

namespace zdap::catalog {

bool PortAllocator::CanBind(int port) const {
  sockaddr_storage ss{};
  socklen_t len;
  int family;
  sockaddr_in6 a6{};
  sockaddr_in a4{};
  if (inet_pton(AF_INET6, bind_host_.c_str(), &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(static_cast<uint16_t>(port));
    std::memcpy(&ss, &a6, sizeof a6);
    len = sizeof a6;
    family = AF_INET6;
  } else {
    a4.sin_family = AF_INET;
    a4.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, bind_host_.empty() ? "0.0.0.0" : bind_host_.c_str(), &a4.sin_addr) !=
        1) {
      a4.sin_addr.s_addr = htonl(INADDR_ANY);
    }
    std::memcpy(&ss, &a4, sizeof a4);
    len = sizeof a4;
    family = AF_INET;
  }
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  // SO_REUSEADDR as the servers use it: a port in TIME_WAIT is fine to hand out.
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

Result<int> PortAllocator::Allocate() {
  std::lock_guard lock(mu_);
  int n = capacity();
  for (int i = 0; i < n; ++i) {
    int port = first_ + (next_ - first_ + i) % n;
    if (held_.count(port) != 0) continue;
    if (!CanBind(port)) continue;
    held_.insert(port);
    next_ = port + 1 > last_ ? first_ : port + 1;
    return port;
  }
  return Unavailable(
      fmt::format("no free clone port in {}-{} ({} held by clones): destroy "
                  "clones or widen clone_ports",
                  first_, last_, held_.size()));
}

void PortAllocator::Hold(int port) {
  std::lock_guard lock(mu_);
  held_.insert(port);
}

void PortAllocator::Release(int port) {
  std::lock_guard lock(mu_);
  held_.erase(port);
}

size_t PortAllocator::held() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

}  // namespace zdap::catalog
