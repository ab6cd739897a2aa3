#include "proxy/address.h"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace zdap::proxy {
namespace {

constexpr size_t kMaxHost = 253;

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Splits "host:port" / "[v6]:port" / ":port". *bracketed tells whether the host was in [].
Status Split(std::string_view text, std::string_view* host, std::string_view* port,
             bool* bracketed) {
  *bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("{}: missing ']' after the IPv6 address", Quote(text)));
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument(fmt::format("{}: missing ':PORT' after ']'", Quote(text)));
    }
    *host = text.substr(1, close - 1);
    *port = text.substr(close + 2);
    *bracketed = true;
    return Status::Ok();
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument(fmt::format("{}: missing ':PORT' (want HOST:PORT)", Quote(text)));
  }
  if (text.find(':') != colon) {
    return InvalidArgument(
        fmt::format("{}: an IPv6 address needs brackets, like [::1]:5432", Quote(text)));
  }
  *host = text.substr(0, colon);
  *port = text.substr(colon + 1);
  return Status::Ok();
}

Status ValidateHost(std::string_view host, bool bracketed, std::string_view whole) {
  if (host.size() > kMaxHost) {
    return InvalidArgument(
        fmt::format("{}: host name longer than {} characters", Quote(whole), kMaxHost));
  }
  if (bracketed) {
    in6_addr a;
    std::string h(host);
    if (::inet_pton(AF_INET6, h.c_str(), &a) != 1) {
      return InvalidArgument(fmt::format("{}: not an IPv6 address in the brackets", Quote(whole)));
    }
    return Status::Ok();
  }
  for (char c : host) {
    if (!IsHostChar(c)) {
      return InvalidArgument(
          fmt::format("{}: host may only contain letters, digits, '.', '-' and '_'", Quote(whole)));
    }
  }
  if (!host.empty() && (host.front() == '-' || host.front() == '.')) {
    return InvalidArgument(fmt::format("{}: host may not start with '-' or '.'", Quote(whole)));
  }
  return Status::Ok();
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<uint16_t> ParsePort(std::string_view text, bool allow_zero) {
  if (text.empty()) return InvalidArgument("port is empty");
  if (text.size() > 5) return InvalidArgument(fmt::format("port {} is out of range", Quote(text)));
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return InvalidArgument(fmt::format("port {} is not a number", Quote(text)));
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535 || (v == 0 && !allow_zero)) {
    return InvalidArgument(fmt::format("port {} is out of range (1-65535)", Quote(text)));
  }
  return static_cast<uint16_t>(v);
}

Result<HostPort> ParseTarget(std::string_view text) {
  std::string_view host, port;
  bool bracketed;
  ZDAP_RETURN_IF_ERROR(Split(text, &host, &port, &bracketed));
  if (host.empty()) {
    return InvalidArgument(fmt::format("{}: missing host (want HOST:PORT)", Quote(text)));
  }
  ZDAP_RETURN_IF_ERROR(ValidateHost(host, bracketed, text));
  auto p = ParsePort(port, /*allow_zero=*/false);
  if (!p.ok()) return p.status().Wrap(Quote(text));
  return HostPort{std::string(host), *p};
}

Result<HostPort> ParseListen(std::string_view text) {
  if (!text.empty() && text.find(':') == std::string_view::npos && text.front() != '[') {
    auto p = ParsePort(text, /*allow_zero=*/true);  // a bare port: every interface
    if (!p.ok()) return p.status();
    return HostPort{"", *p};
  }
  std::string_view host, port;
  bool bracketed;
  ZDAP_RETURN_IF_ERROR(Split(text, &host, &port, &bracketed));
  if (bracketed && host.empty()) {
    return InvalidArgument(fmt::format("{}: empty IPv6 address in brackets", Quote(text)));
  }
  ZDAP_RETURN_IF_ERROR(ValidateHost(host, bracketed, text));
  auto p = ParsePort(port, /*allow_zero=*/true);
  if (!p.ok()) return p.status().Wrap(Quote(text));
  return HostPort{std::string(host), *p};
}

}  // namespace zdap::proxy
