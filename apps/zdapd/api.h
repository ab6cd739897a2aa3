// The HTTP API v1 (SPEC "HTTP API v1") as a plain function from request to response, with
// no networking in it: the Beast server (http_server.h) feeds it, tests call it directly.
//
// A request is matched against the route table once (Route): the transport runs it on the
// match's lane and gives the match back to Handle, which authenticates (unless the route is
// public; an unknown path needs auth too, so an unauthenticated caller learns nothing from 404
// vs 405), answers what matched no route (400, 404, 405 + Allow), runs the handler, and counts
// the request in the metrics by route pattern and code.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_message.h"
#include "authenticator.h"
#include "dashboard.h"
#include "metrics.h"
#include "origin/origin.h"
#include "route_table.h"

namespace zdap::daemon {

struct RouteContext;
struct RoutedRequest;

class Api {
 public:
  // `origin`, `auth`, `metrics` and the parts must outlive the Api.
  Api(origin::Origin& origin, std::string version, Authenticator& auth, Metrics& metrics,
      DashboardParts parts = {});
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;
  // The route `request` names, and with it the lane it runs on. Pure; thread-safe.
  RouteTable::Match Route(const ApiRequest& request) const;
  // Answers `request`, whose Route() is `match`. Never throws; never answers 500 for bad input.
  ApiResponse Handle(const ApiRequest& request, RouteTable::Match match);
  // Route, then Handle.
  ApiResponse Handle(const ApiRequest& request) { return Handle(request, Route(request)); }

  const RouteTable& routes() const { return routes_; }
  Metrics& metrics() { return metrics_; }

 private:
  // Sets *route_label to the route's pattern once the caller may use the route.
  ApiResponse Dispatch(const ApiRequest& request, RouteTable::Match match,
                       const std::string** route_label);
  // Issue 24: the audit log's record of an answered request (when it is audited).
  void Audit(const ApiRequest& request, const RoutedRequest& routed, const ApiResponse& response);

  origin::Origin& origin_;
  std::string version_;
  Authenticator& auth_;
  Metrics& metrics_;
  std::unique_ptr<RouteContext> context_;  // what the handlers refer to
  RouteTable routes_;
};

// Authentication of one matched request, with no origin and no side effects (the fuzz target
// runs it): either an early answer (401, 403, 400, 404, 405 + Allow, 413) or the route, its
// captures and the caller. Auth runs first unless the route is public. A change from another
// site, or made with the session cookie but without its CSRF token, is a 403
// (request_guards.h).
struct RoutedRequest {
  std::optional<ApiResponse> early;
  Authenticator::Failure failure = Authenticator::Failure::kNone;
  const RouteTable::Route* route = nullptr;  // set when matched (even with an early 413)
  std::vector<std::string> params;
  std::string query;
  origin::Caller caller;
  Authenticator::Via via = Authenticator::Via::kNone;
};
RoutedRequest RouteRequest(RouteTable::Match match, const Authenticator& auth,
                           const ApiRequest& request);

// The request-level families of the metrics registry (API latency, auth failures); the
// origin-level ones are declared by AddStatusRoutes. Called by the Api constructor.
void DeclareApiMetrics(Metrics& metrics);

}  // namespace zdap::daemon
