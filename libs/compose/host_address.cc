#include "compose/host_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

namespace zdap::compose {
namespace {

constexpr int kConnectTimeoutMs = 1000;

bool IsDockerInterface(std::string_view name) {
  return name.starts_with("docker") || name.starts_with("br-") || name.starts_with("veth");
}

bool Accepts(const sockaddr_in& address, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in to = address;
  to.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    ok = ::poll(&p, 1, kConnectTimeoutMs) == 1 &&
         ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  }
  ::close(fd);
  return ok;
}

}  // namespace

Result<std::string> HostAddressServing(uint16_t port) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return ErrnoError("getifaddrs", errno);
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
        !(i->ifa_flags & IFF_UP) || IsDockerInterface(i->ifa_name)) {
      continue;
    }
    const auto& in = *reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (!Accepts(in, port)) continue;
    char text[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text)) found = text;
  }
  ::freeifaddrs(list);
  if (found.empty()) {
    return NotFound(
        fmt::format("nothing listens on port {} on this machine's own addresses", port));
  }
  return found;
}

}  // namespace zdap::compose
