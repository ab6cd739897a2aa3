#include "config/source_url.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

namespace zdap::config {
namespace {

constexpr size_t kMaxUrlBytes = 1000;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '$';
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool AllOf(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

}  // namespace

std::string SourceUrl::ToString() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("{}://{}{}:{}/{}", family, user.empty() ? "" : user + "@", host_part, port,
                     database);
}

Result<SourceUrl> ParseSourceUrl(std::string_view text) {
  auto bad = [&](const std::string& why) -> Status {
    std::string shown(text.substr(0, 200));
    return InvalidArgument(fmt::format("'{}' is not a usable source URL: {}", shown, why));
  };
  if (text.size() > kMaxUrlBytes) {
    return InvalidArgument(fmt::format("the source URL is longer than {} bytes", kMaxUrlBytes));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad("it contains a space or a control character");
    }
  }
  SourceUrl u;
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    return bad("write it as postgres://user@host:port/database or mysql://...");
  }
  std::string_view scheme = text.substr(0, colon);
  if (scheme == "postgres" || scheme == "postgresql") {
    u.family = "postgres";
    u.port = 5432;
  } else if (scheme == "mysql" || scheme == "mariadb") {
    u.family = "mysql";
    u.port = 3306;
  } else {
    return bad(
        fmt::format("the scheme '{}' is not postgres://, postgresql://, mysql:// or "
                    "mariadb://",
                    std::string(scheme.substr(0, 20))));
  }
  std::string_view rest = text.substr(colon + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad("a query or fragment is not supported; settings go in the resource file");
  }
  if (rest.find('%') != std::string_view::npos) return bad("percent-encoding is not supported");
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!AllOf(db, IsNameChar) || db.size() > 63) {
      return bad("the database name may hold only letters, digits, '_', '.', '$' and '-'");
    }
    u.database = std::string(db);
  }
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (userinfo.find(':') != std::string_view::npos) {
      // Said without echoing the URL: it holds the password.
      return InvalidArgument(
          "the source URL holds a password: remove it and put it in source.password_file "
          "(mode 0600) instead, so that it never shows in ps, logs or job messages");
    }
    if (userinfo.empty() || userinfo.size() > 63 || !AllOf(userinfo, IsNameChar)) {
      return bad("the user name may hold only letters, digits, '_', '.', '$' and '-'");
    }
    u.user = std::string(userinfo);
    authority = authority.substr(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs its closing ']'");
    u.host = std::string(authority.substr(1, close - 1));
    for (char c : u.host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return bad("the IPv6 address holds a character that is not hex, ':' or '.'");
      }
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("only ':port' may follow an IPv6 address");
      port = after.substr(1);
      if (port.empty()) return bad("the port is empty");
    }
  } else {
    size_t pc = authority.rfind(':');
    u.host = std::string(authority.substr(0, pc));
    if (pc != std::string_view::npos) {
      port = authority.substr(pc + 1);
      if (port.empty()) return bad("the port is empty");
    }
    if (!AllOf(u.host, IsHostChar)) {
      return bad("the host may hold only letters, digits, '.' and '-' (or be [IPv6])");
    }
  }
  if (u.host.empty() || u.host.size() > 253) return bad("the host is missing");
  if (!port.empty()) {
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
      return bad("the port is not a number from 1 to 65535");
    }
    u.port = p;
  }
  return u;
}

}  // namespace zdap::config
