#include "api.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>

#include "api/error.h"
#include "audit_log.h"
#include "core/log.h"
#include "request_guards.h"
#include "routes.h"
#include "web_headers.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

constexpr const char* kRequestsMetric = "zdap_api_request_duration_seconds";
constexpr const char* kAuthFailuresMetric = "zdap_api_auth_failures_total";
// The route label of requests that match no route (or are refused before it).
const std::string kUnmatched = "unmatched";

}  // namespace

ApiResponse JsonResponse(int status, const json::value& v) {
  ApiResponse r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += '\n';
  return r;
}

ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  ApiResponse r;
  r.status = http_status;
  r.body = api::ErrorJson(code, message);
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"zdapd\"");
  return r;
}

ApiResponse ErrorResponse(const Status& status) {
  return ErrorResponse(HttpStatusOf(status.code()), CodeName(status.code()), status.message());
}

void DeclareApiMetrics(Metrics& metrics) {
  metrics.DeclareHistogram(kRequestsMetric,
                           "API request latency by route pattern, method and HTTP status.",
                           {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600});
  metrics.DeclareCounter(kAuthFailuresMetric, "Requests refused by authentication, by reason.");
}

Api::Api(origin::Origin& origin, std::string version, Authenticator& auth, Metrics& metrics,
         DashboardParts parts)
    : origin_(origin), version_(std::move(version)), auth_(auth), metrics_(metrics) {
  DeclareApiMetrics(metrics_);
  // Handlers keep a reference to the context: it lives as long as the Api.
  context_ = std::make_unique<RouteContext>(
      RouteContext{&origin_, version_, metrics_, &auth_, std::move(parts)});
  AddStatusRoutes(routes_, *context_);
  AddResourceRoutes(routes_, *context_);
  AddCloneRoutes(routes_, *context_);
  AddJobRoutes(routes_, *context_);
  AddReplicationRoutes(routes_, *context_);
  AddDashboardRoutes(routes_, *context_);
}

Api::~Api() = default;

RouteTable::Match Api::Route(const ApiRequest& request) const {
  return routes_.Find(request.method, request.target);
}

ApiResponse Api::Handle(const ApiRequest& request, RouteTable::Match match) {
  auto started = std::chrono::steady_clock::now();
  const std::string* route_label = &kUnmatched;
  ApiResponse resp;
  try {
    if (auto asset = ServeUiAsset(request)) {
      // The dashboard's files: public, from memory, not counted as API requests.
      AddSecurityHeaders(&*asset, request.tls);
      return std::move(*asset);
    }
    resp = Dispatch(request, std::move(match), &route_label);
  } catch (const std::exception& e) {
    log::Error("api: {} {}: internal error: {}", request.method.substr(0, 16),
               request.target.substr(0, 200), e.what());
    resp = ErrorResponse(Internal("internal error; see the zdapd log"));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // Methods outside the table's are one label value, so that a client cannot grow the series.
  std::string method = "other";
  for (const auto& r : routes_.routes()) {
    if (r.method == request.method) method = r.method;
  }
  metrics_.Observe(
      kRequestsMetric,
      {{"route", *route_label}, {"method", method}, {"code", std::to_string(resp.status)}},
      seconds);
  AddSecurityHeaders(&resp, request.tls);
  return resp;
}

RoutedRequest RouteRequest(RouteTable::Match match, const Authenticator& auth,
                           const ApiRequest& req) {
  RoutedRequest out;
  bool is_public = match.kind == RouteTable::Match::kFound && !match.route->options.needs_auth;
  // A browser on another site may not change anything, with or without credentials.
  if (Status st = CheckSameOrigin(req); !st.ok()) {
    out.early = ErrorResponse(st);
    return out;
  }
  if (!is_public) {
    auto who = auth.Authenticate(req, &out.failure, &out.via);
    if (!who.ok()) {
      out.early = ErrorResponse(who.status());
      return out;
    }
    out.caller = std::move(who).value();
    if (Status st = auth.CheckCsrf(req, out.via); !st.ok()) {
      out.early = ErrorResponse(st);
      return out;
    }
  }
  if (match.kind == RouteTable::Match::kBadTarget) {
    out.early = ErrorResponse(match.bad_target);
    return out;
  }
  if (match.kind == RouteTable::Match::kNoPath) {
    out.early = ErrorResponse(NotFound(
        fmt::format("no route for {} {}", req.method.substr(0, 16), req.target.substr(0, 200))));
    return out;
  }
  if (match.kind == RouteTable::Match::kNoMethod) {
    out.early = ErrorResponse(
        405, "method_not_allowed",
        fmt::format("method {} is not allowed on {}; allowed: {}", req.method.substr(0, 16),
                    req.target.substr(0, 200), match.allow));
    out.early->headers.emplace_back("Allow", match.allow);
    return out;
  }
  if (out.caller.replicator && !match.route->options.for_replicators) {
    out.early = ErrorResponse(Status(
        Code::kPermissionDenied,
        fmt::format("user '{}' has a replicator token: it may read resource lists and snapshot "
                    "streams, not {} {}",
                    out.caller.user, req.method.substr(0, 16), match.route->pattern)));
    return out;
  }
  out.route = match.route;
  out.params = std::move(match.params);
  out.query = std::move(match.query);
  if (req.body.size() > kMaxRequestBodyBytes) {
    out.early =
        ErrorResponse(Status(Code::kTooLarge, fmt::format("request body is larger than {} bytes",
                                                          kMaxRequestBodyBytes)));
  }
  return out;
}

ApiResponse Api::Dispatch(const ApiRequest& req, RouteTable::Match match,
                          const std::string** route_label) {
  RoutedRequest routed = RouteRequest(std::move(match), auth_, req);
  if (routed.failure != Authenticator::Failure::kNone) {
    metrics_.Increment(kAuthFailuresMetric,
                       {{"reason", Authenticator::FailureName(routed.failure)}});
  }
  if (routed.route != nullptr) *route_label = &routed.route->pattern;
  ApiResponse resp;
  if (routed.early) {
    resp = std::move(*routed.early);
  } else {
    RouteCall call{req, routed.caller, routed.params, routed.query};
    resp = routed.route->handler(call);
  }
  Audit(req, routed, resp);
  return resp;
}

void Api::Audit(const ApiRequest& req, const RoutedRequest& routed, const ApiResponse& resp) {
  AuditLog* audit = context_->dashboard.audit;
  // Credentials that were presented and refused; a read with none at all (a browser opening the
  // sign-in page) is no attempt.
  bool failed_auth = routed.failure != Authenticator::Failure::kNone &&
                     routed.failure != Authenticator::Failure::kMissing;
  if (audit == nullptr || !ShouldAudit(req, failed_auth)) return;
  // A mutating request that matched no route changed nothing: only refusals of auth count.
  if (routed.route == nullptr && !failed_auth) return;
  std::string_view pattern = routed.route != nullptr ? routed.route->pattern : std::string_view();
  (void)audit->Append(
      AuditRecordFor(req, pattern, routed.params, routed.caller, routed.via, failed_auth, resp));
}

}  // namespace zdap::daemon
