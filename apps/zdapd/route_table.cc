#include "route_table.h"

#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "core/log.h"

namespace zdap::daemon {
namespace {

std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at < pattern.size()) {
    if (pattern[at] == '/') {
      ++at;
      continue;
    }
    size_t end = pattern.find('/', at);
    if (end == std::string_view::npos) end = pattern.size();
    parts.emplace_back(pattern.substr(at, end - at));
    at = end;
  }
  return parts;
}

bool IsCapture(const std::string& part) {
  return part.size() >= 2 && part.front() == '{' && part.back() == '}';
}

bool PathMatches(const RouteTable::Route& r, const std::vector<std::string>& segments,
                 std::vector<std::string>* params) {
  if (r.parts.size() != segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (IsCapture(r.parts[i])) {
      params->push_back(segments[i]);
    } else if (r.parts[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<ParsedTarget> ParseTarget(std::string_view target) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return InvalidArgument("request target is not a valid path");
  ParsedTarget out;
  out.query = std::string(u->encoded_query());
  for (auto seg : u->segments()) {
    std::string s(seg);
    if (s.empty() || s == "." || s == "..") {
      return InvalidArgument("request path has an empty, '.' or '..' segment");
    }
    out.segments.push_back(std::move(s));
  }
  return out;
}

std::string QueryValue(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
  }
  return "";
}

Result<std::vector<std::string>> QueryList(std::string_view query, std::string_view key,
                                           size_t max) {
  const std::string value = QueryValue(query, key);
  std::vector<std::string> out;
  if (value.empty()) return out;
  auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
           c == '.' || c == '_' || c == '-';
  };
  std::string_view rest = value;
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    if (item.empty() || item.size() > 128 || !std::all_of(item.begin(), item.end(), is_name_char)) {
      return InvalidArgument(
          fmt::format("query parameter '{}': '{}' is not a name", key, item.substr(0, 64)));
    }
    if (out.size() == max) {
      return InvalidArgument(fmt::format("query parameter '{}': more than {} items", key, max));
    }
    out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    rest.remove_prefix(comma + 1);
  }
}

bool QueryFlag(std::string_view query, std::string_view key) {
  std::string value = QueryValue(query, key);
  return value == "1" || value == "true";
}

void RouteTable::Add(std::string method, std::string pattern, RouteOptions options,
                     Handler handler) {
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      log::Error("route {} {} added twice", method, pattern);
      std::abort();
    }
  }
  Route r;
  r.parts = SplitPattern(pattern);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.options = options;
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view target) const {
  auto parsed = ParseTarget(target);
  if (!parsed.ok()) {
    Match m;
    m.kind = Match::kBadTarget;
    m.bad_target = parsed.status();
    return m;
  }
  Match m = FindPath(method, parsed->segments);
  m.query = std::move(parsed->query);
  return m;
}

RouteTable::Match RouteTable::FindPath(std::string_view method,
                                       const std::vector<std::string>& segments) const {
  Match m;
  std::vector<std::string> params;
  for (const Route& r : routes_) {
    if (!PathMatches(r, segments, &params)) continue;
    if (r.method == method) {
      m.kind = Match::kFound;
      m.route = &r;
      m.params = std::move(params);
      m.allow.clear();
      return m;
    }
    m.kind = Match::kNoMethod;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
  }
  return m;
}

}  // namespace zdap::daemon
