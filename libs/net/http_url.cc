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

// ".", "..", or either with its dots percent-encoded ("%2e", ".%2E").
bool IsDotSegment(std::string_view segment) {
  std::string plain = Lower(segment);
  for (size_t at; (at = plain.find("%2e")) != std::string::npos;) plain.replace(at, 3, ".");
  return plain == "." || plain == "..";
}

// A host name or IPv4 address as typed (lower case): letters, digits, '.', '-', '_' in
// labels of 1 to 63 characters, 253 at most in all. A name whose last label is a number must
// be an IPv4 address a.b.c.d: resolvers read "127.1" or "127.000.0.1" as addresses in their
// own ways (inet_aton: 127.0.0.1, octal), so such a name would not name one host.
Status CheckHostName(const std::string& host, boost::urls::host_type type) {
  if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") != std::string::npos) {
    return InvalidArgument("the host name may hold only letters, digits, '.', '-' and '_'");
  }
  if (host.size() > 253) return InvalidArgument("the host name is longer than 253 characters");
  size_t start = 0;
  std::string_view last;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = std::string_view(host).substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) {
      return InvalidArgument(
          "the host name has an empty label (a leading, trailing or double '.'); write it "
          "without");
    }
    if (label.size() > 63) return InvalidArgument("a label of the host name is over 63 characters");
    last = label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (type == boost::urls::host_type::name &&
      last.find_first_not_of("0123456789") == std::string_view::npos) {
    return InvalidArgument(
        "the host is neither a name nor an IPv4 address a.b.c.d (each 0-255, no leading "
        "zeros)");
  }
  return Status::Ok();
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
  if (!parsed) {
    // RFC 6874's "[fe80::1%25eth0]": a zone names this host's interface, which an origin
    // shared by a team cannot mean.
    size_t open = text.find('[');
    if (open != std::string_view::npos && text.find('%', open) < text.find(']', open)) {
      return bad("an IPv6 zone (%25...) is not supported; use a routable address or a name");
    }
    return bad("expected http://HOST:PORT or https://HOST:PORT");
  }
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
    case boost::urls::host_type::ipv4: {
      // Written as typed, never percent-decoded: a decoded host is a different string that
      // the parser may read another way ("127.0.0.%32x" decodes to an address followed by a
      // path), so the canonical form would not parse back to it (fuzz/http_url.cc).
      std::string_view raw = u.encoded_host();
      if (raw.find('%') != std::string_view::npos) {
        return bad("percent-encoding (%xx) in the host is not allowed; write the host plainly");
      }
      out.host = Lower(raw);
      if (out.host.empty()) return bad("it has no host");
      if (Status st = CheckHostName(out.host, u.host_type()); !st.ok()) return bad(st.message());
      break;
    }
    case boost::urls::host_type::ipv6:
      out.host = Lower(u.host_ipv6_address().to_string());
      break;
    case boost::urls::host_type::ipvfuture:
      return bad("IPvFuture addresses ([v1.x]) are not supported; use an IPv6 or IPv4 address");
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
  // "." and ".." (also percent-encoded) would be resolved by some servers and not others: the
  // prefix they make is not one path. Read from the text: Boost's segments() hides a leading
  // "/." that it takes for the escape of a path starting "//" (fuzz/corpus: regression-dot-slash).
  for (size_t start = 0; start < path.size();) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (IsDotSegment(std::string_view(path).substr(start, slash - start))) {
      return bad("'.' and '..' path segments are not allowed; write the path they lead to");
    }
    start = slash + 1;
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  out.path = path;
  return out;
}

}  // namespace zdap::net
