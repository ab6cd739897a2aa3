#include "net/http_url.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>

namespace zdap::net {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The URL as typed, for an error message: one line, bounded, control bytes as \xNN.
std::string Shown(std::string_view text) {
  constexpr size_t kMax = 200;
  std::string out;
  for (unsigned char c : text.substr(0, kMax)) {
    if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += fmt::format("\\x{:02x}", c);
  }
  if (text.size() > kMax) out += "...";
  return out;
}

}  // namespace

std::string HttpUrl::HostPort() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string HttpUrl::ToString() const {
  return fmt::format("{}://{}{}", scheme, HostPort(), path);
}

Result<HttpUrl> ParseHttpUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("'{}' is not a usable origin URL: {}", Shown(text), why));
  };
  if (text.empty()) return bad("it is empty");
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return bad("expected http://HOST:PORT or https://HOST:PORT");
  boost::urls::url_view u = *parsed;
  HttpUrl out;
  out.scheme = Lower(u.scheme());
  if (out.scheme != "http" && out.scheme != "https") {
    return bad("the scheme must be http or https");
  }
  if (u.has_userinfo()) return bad("user info in the URL is not supported; use --token");
  if (u.has_query() || u.has_fragment()) return bad("a query or fragment is not allowed");
  switch (u.host_type()) {
    case boost::urls::host_type::name:
    case boost::urls::host_type::ipv4:
      out.host = Lower(u.encoded_host().decode());
      // Letters, digits, '.', '-', '_' only: a percent-decoded byte would make a canonical
      // form that does not parse back (fuzz/http_url.cc).
      if (out.host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") !=
          std::string::npos) {
        return bad("the host name may hold only letters, digits, '.', '-' and '_'");
      }
      break;
    case boost::urls::host_type::ipv6:
      out.host = Lower(u.host_ipv6_address().to_string());
      break;
    default:
      return bad("it has no host");
  }
  if (out.host.empty()) return bad("it has no host");
  if (u.has_port()) {
    std::string_view p = u.port();
    if (p.empty() || p.size() > 5) return bad("the port must be a number from 1 to 65535");
    unsigned long n = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return bad("the port must be a number from 1 to 65535");
      n = n * 10 + static_cast<unsigned long>(c - '0');
    }
    if (n == 0 || n > 65535) return bad("the port must be a number from 1 to 65535");
    out.port = static_cast<uint16_t>(n);
  } else {
    out.port = out.tls() ? 443 : 80;
  }
  // Kept percent-encoded: it is the start of every request target, and the canonical form
  // must parse back to itself (fuzz/http_url.cc).
  std::string path(u.encoded_path());
  if (!path.empty() && path[0] != '/') return bad("expected http://HOST:PORT/PATH");
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.path = path;
  return out;
}

}  // namespace zdap::net
