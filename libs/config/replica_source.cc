#include "config/replica_source.h"

#include <fmt/format.h>

#include <set>

namespace zdap::config {
namespace {

// libpq's connection keywords (PostgreSQL 15) that make sense for a replication connection.
const std::set<std::string, std::less<>>& KnownKeywords() {
  static const std::set<std::string, std::less<>> k = {"host",
                                                       "hostaddr",
                                                       "port",
                                                       "user",
                                                       "connect_timeout",
                                                       "application_name",
                                                       "options",
                                                       "keepalives",
                                                       "keepalives_idle",
                                                       "keepalives_interval",
                                                       "keepalives_count",
                                                       "tcp_user_timeout",
                                                       "sslmode",
                                                       "sslcompression",
                                                       "sslcert",
                                                       "sslkey",
                                                       "sslrootcert",
                                                       "sslcrl",
                                                       "sslcrldir",
                                                       "sslsni",
                                                       "requirepeer",
                                                       "ssl_min_protocol_version",
                                                       "ssl_max_protocol_version",
                                                       "gssencmode",
                                                       "krbsrvname",
                                                       "gsslib",
                                                       "channel_binding",
                                                       "target_session_attrs",
                                                       "service"};
  return k;
}

std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

std::string Conninfo::ToString() const {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += ' ';
    out += k + "=" + Quote(v);
  }
  return out;
}

Result<Conninfo> ParseConninfo(std::string_view text) {
  if (text.size() > 1000) {
    return InvalidArgument(fmt::format("is {} bytes long; at most 1000", text.size()));
  }
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument("holds a control character (a line break?): write it on one line");
    }
  }
  Conninfo out;
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  for (skip(); i < text.size(); skip()) {
    size_t k = i;
    while (i < text.size() && text[i] != '=' && !IsSpace(text[i])) ++i;
    std::string key(text.substr(k, i - k));
    skip();
    if (i >= text.size() || text[i] != '=') {
      return InvalidArgument(
          fmt::format("'{}' has no '=': write keyword=value pairs such as "
                      "\"host=db1 user=replicator\"",
                      key));
    }
    ++i;
    skip();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size()) {
          value.push_back(text[i++]);
        } else if (c == '\'') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return InvalidArgument(fmt::format("the value of '{}' has no closing '", key));
    } else {
      while (i < text.size() && !IsSpace(text[i])) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i++]);
      }
    }
    if (key == "password" || key == "passfile") {
      return InvalidArgument(
          "holds a password: it would show in logs and the standby's settings; put it in "
          "source.replica.password_file (mode 0600) instead");
    }
    if (key == "dbname" || key == "replication") {
      return InvalidArgument(
          fmt::format("sets '{}': the standby connects for replication and zdapd sets it", key));
    }
    if (KnownKeywords().count(key) == 0) {
      return InvalidArgument(fmt::format("'{}' is not a libpq connection keyword", key));
    }
    if (out.params.count(key) != 0) return InvalidArgument(fmt::format("'{}' is given twice", key));
    out.params[key] = value;
  }
  for (const char* required : {"host", "user"}) {
    auto it = out.params.find(required);
    if (it == out.params.end() || it->second.empty()) {
      return InvalidArgument(fmt::format(
          "names no {}: write e.g. \"host=pg-prod port=5432 user=zdap_replicator\"", required));
    }
  }
  return out;
}

std::string DefaultSlotName(const std::string& resource) {
  std::string out = "zdap_";
  for (char c : resource) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_');
  }
  return out.substr(0, 63);
}

Status ValidateSlotName(const std::string& slot) {
  if (slot.empty() || slot.size() > 63 ||
      slot.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return InvalidArgument(fmt::format(
        "'{}' is not a replication slot name: lower-case letters, digits and '_', at most 63",
        slot));
  }
  return Status::Ok();
}

}  // namespace zdap::config
