// RouteTable: (method, path pattern) -> handler. Patterns are "/"-separated literal segments
// and "{name}" captures ("/v1/clones/{id}"). Matching is a pure function of the method and
// the path segments, so the fuzz target and IsLongWork use it without an origin.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api_message.h"
#include "core/result.h"
#include "origin/origin.h"

namespace zdap::daemon {

// A request target split into decoded path segments and the raw query string.
struct ParsedTarget {
  std::vector<std::string> segments;
  std::string query;
};
// Refuses a target that is not an origin-form path, or that has empty, "." or ".." segments.
Result<ParsedTarget> ParseTarget(std::string_view target);
// True if `query` holds key=1 or key=true ("all=1").
bool QueryFlag(std::string_view query, std::string_view key);
// The raw value of the first key=value in `query` ("" if absent); not percent-decoded (the
// values asked for are names, numbers and event types).
std::string QueryValue(std::string_view query, std::string_view key);

// What a handler is given: the request, who asks, and the pattern's captures in order.
struct RouteCall {
  const ApiRequest& request;
  const origin::Caller& caller;
  const std::vector<std::string>& params;
  std::string_view query;
};

struct RouteOptions {
  bool needs_auth = true;  // false only for /v1/health
  bool long_work = false;  // create, reset, refresh, destroy: may take minutes
  // Answered from memory alone: no disk, no lock that anyone holds across I/O or a wait, no
  // child process. The transport may then answer it on the thread that read the request.
  bool from_memory = false;
};

class RouteTable {
 public:
  using Handler = std::function<ApiResponse(const RouteCall&)>;
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> parts;  // pattern split; "{...}" captures
    RouteOptions options;
    Handler handler;
  };
  struct Match {
    enum Kind { kFound, kNoPath, kNoMethod } kind = kNoPath;
    const Route* route = nullptr;
    std::vector<std::string> params;
    std::string allow;  // kNoMethod: "GET, DELETE"
  };

  // Adding a (method, pattern) twice is a programming error and aborts.
  void Add(std::string method, std::string pattern, RouteOptions options, Handler handler);
  Match Find(std::string_view method, const std::vector<std::string>& segments) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace zdap::daemon
