#include "compose/host_address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <string_view>

#include "core/connect.h"

namespace zdap::compose {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(1);

bool IsDockerInterface(std::string_view name) {
  return name.starts_with("docker") || name.starts_with("br-") || name.starts_with("veth");
}

bool Accepts(const sockaddr_in& address, uint16_t port) {
  char host[INET_ADDRSTRLEN];
  if (::inet_ntop(AF_INET, &address.sin_addr, host, sizeof host) == nullptr) return false;
  auto deadline = std::chrono::steady_clock::now() + kConnectTimeout;
  return ConnectBefore(host, port, "", deadline).ok();
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
