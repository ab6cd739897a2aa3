#include "core/local_host.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace zdap {

bool IsWildcardHost(std::string_view host) {
  return host.empty() || host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]";
}

std::string LocalConnectHost(std::string_view listen_host) {
  if (!IsWildcardHost(listen_host)) return std::string(listen_host);
  return listen_host == "::" || listen_host == "[::]" ? "::1" : "127.0.0.1";
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.size() >= INET6_ADDRSTRLEN) return false;
  std::string text(host);
  in_addr a4;
  if (::inet_pton(AF_INET, text.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (::inet_pton(AF_INET6, text.c_str(), &a6) == 1) return IN6_IS_ADDR_LOOPBACK(&a6);
  return false;
}

}  // namespace zdap
