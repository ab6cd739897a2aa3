// RouteTable: (method, path pattern) -> handler and where it runs. Patterns are "/"-separated
// literal segments and "{name}" captures ("/v1/clones/{id}"). Matching is a pure function of the
// method and the target, done once per request: the transport picks the lane from the match and
// hands the same match to Api::Handle, which runs the handler (the fuzz target matches without an
// origin).
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
// The comma-separated value of `key` as at most `max` items of [A-Za-z0-9@._-] (names, ids and
// formats); none when the key is absent or empty. InvalidArgument names the parameter.
Result<std::vector<std::string>> QueryList(std::string_view query, std::string_view key,
                                           size_t max);

// What a handler is given: the request, who asks, and the pattern's captures in order.
struct RouteCall {
  const ApiRequest& request;
  const origin::Caller& caller;
  const std::vector<std::string>& params;
  std::string_view query;
};

// Where the transport runs a route's handler (http_server.h).
enum class Lane {
  // On the I/O thread that read the request, with no hand-over: for routes answered from memory
  // alone (no disk, no lock that anyone holds across I/O or a wait, no child process).
  kInline,
  // The quick lane: reads that may touch the disk or collect gauges.
  kQuick,
  // The long-work lane: every route that writes. Creates, resets and destroys take seconds to
  // minutes; the other writes wait on the same catalog write lock and journal fsyncs. None of
  // them may hold the threads that answer reads.
  kLong,
};

struct RouteOptions {
  bool needs_auth = true;  // false only for /v1/health
  Lane lane = Lane::kQuick;
  // Open to a `replicator` token (another origin following this one): the resource lists and
  // snapshot streams. Every other route answers such a caller 403: least privilege by default.
  bool for_replicators = false;
};
inline constexpr RouteOptions kLongWork{.lane = Lane::kLong};
inline constexpr RouteOptions kFromMemory{.lane = Lane::kInline};
inline constexpr RouteOptions kReplicatorRead{.for_replicators = true};

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
  // A request matched against the table. Points into the table: valid while it lives.
  struct Match {
    enum Kind { kFound, kNoPath, kNoMethod, kBadTarget } kind = kNoPath;
    const Route* route = nullptr;
    std::vector<std::string> params;
    std::string allow;  // kNoMethod: "GET, DELETE"
    std::string query;  // the target's raw query string
    Status bad_target;  // kBadTarget: why the target is refused (400)

    // The route's lane; the quick lane when no route matched (the answer is an error, after
    // authentication).
    Lane lane() const { return kind == kFound ? route->options.lane : Lane::kQuick; }
  };

  // Adding a (method, pattern) twice is a programming error and aborts.
  void Add(std::string method, std::string pattern, RouteOptions options, Handler handler);
  // `target` is the request target as received (path and query).
  Match Find(std::string_view method, std::string_view target) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  Match FindPath(std::string_view method, const std::vector<std::string>& segments) const;

  std::vector<Route> routes_;
};

}  // namespace zdap::daemon
