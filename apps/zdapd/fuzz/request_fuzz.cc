// libFuzzer target zdapd_request_fuzz: raw bytes as an HTTP request through the daemon's
// request path without an origin: Beast's parser (the server's limits), the ApiRequest fields,
// route matching (once, as the transport does), authentication (tokens mode and open mode,
// loopback or not), and the body decoders of libs/api/requests.h (a password they accept is one
// ValidateClonePassword accepts; what they accept is written back the same by the clients'
// encoder). Crashes, sanitizer reports and broken invariants (a 5xx, an error without a JSON error
// body, a 405 without Allow, a 401 without WWW-Authenticate, a write answered on the I/O thread)
// abort.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "api.h"
#include "api/clone.h"
#include "api/error.h"
#include "api/job.h"
#include "api/requests.h"
#include "api/resource.h"
#include "authenticator.h"
#include "core/clone_password.h"
#include "metrics.h"
#include "request_bodies.h"
#include "route_table.h"
#include "routes.h"

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace zdap;
using namespace zdap::daemon;

namespace {

struct World {
  World() {
    context = std::make_unique<RouteContext>(RouteContext{nullptr, "fuzz", metrics});
    AddStatusRoutes(routes, *context);
    AddResourceRoutes(routes, *context);
    AddCloneRoutes(routes, *context);
    AddJobRoutes(routes, *context);
    AddReplicationRoutes(routes, *context);
    tokens = Authenticator::ForEntries({{DigestOf("tok-alice"), "alice", TokenRole::kUser},
                                        {DigestOf("tok-root"), "root", TokenRole::kAdmin},
                                        {DigestOf("tok-db2"), "db2", TokenRole::kReplicator}});
    tokens->SetHostToken("host-token");
    auto o = Authenticator::Create("");
    if (!o.ok()) std::abort();
    open = std::move(o).value();
  }
  Metrics metrics;
  std::unique_ptr<RouteContext> context;
  RouteTable routes;
  std::unique_ptr<Authenticator> tokens;
  std::unique_ptr<Authenticator> open;
};

void Check(bool ok) {
  if (!ok) std::abort();
}

// A request body the server reads is written back the same by the clients' encoder.
template <typename Request>
void CheckRoundTrip(std::string_view body, Result<Request> (*parse)(std::string_view)) {
  auto read = parse(body);
  if (!read.ok()) {
    Check(read.status().code() == Code::kInvalidArgument);
    return;
  }
  auto again = parse(json::serialize(api::ToJson(*read)));
  Check(again.ok() && *again == *read);
}

void CheckAnswer(const ApiResponse& r) {
  Check(r.status >= 400 && r.status < 500);
  auto s = api::StatusFromErrorReply(r.status, r.body);
  Check(!s.ok());
  bool has_allow = false, has_www = false;
  for (const auto& [k, v] : r.headers) {
    has_allow = has_allow || k == "Allow";
    has_www = has_www || k == "WWW-Authenticate";
  }
  Check((r.status == 405) == has_allow);
  Check((r.status == 401) == has_www);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size == 0) return 0;
  bool from_loopback = data[0] & 1;
  std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);

  // The transport's parsing (http_server.cc): the same limits, the same fields.
  http::request_parser<http::string_body> parser;
  parser.body_limit(kMaxRequestBodyBytes);
  parser.header_limit(16u << 10);
  parser.eager(true);
  beast::error_code ec;
  parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  if (ec || !parser.is_done()) return 0;
  auto& req = parser.get();
  ApiRequest ar;
  ar.method = std::string(req.method_string());
  ar.target = std::string(req.target());
  ar.body = req.body();
  ar.authorization = std::string(req[http::field::authorization]);
  ar.user_header = std::string(req["X-Zdap-User"]);
  ar.from_loopback = from_loopback;

  const RouteTable::Match match = world->routes.Find(ar.method, ar.target);
  // Only reads are answered on the I/O thread; every write runs on the long lane.
  if (match.kind == RouteTable::Match::kFound) {
    Check(match.lane() != Lane::kInline || ar.method == "GET");
    Check(ar.method == "GET" || match.lane() == Lane::kLong);
  }
  for (Authenticator* auth : {world->tokens.get(), world->open.get()}) {
    RoutedRequest routed = RouteRequest(match, *auth, ar);
    if (routed.early) {
      CheckAnswer(*routed.early);
      continue;
    }
    Check(routed.route != nullptr);
    Check(routed.failure == Authenticator::Failure::kNone);
    Check(routed.params.size() <= 2);
    Check(routed.caller.admin || routed.caller.user != kHostAdminUser);
    (void)QueryFlag(routed.query, "all");
    if (routed.route->pattern == "/v1/resources/{resource}/clones") {
      auto decoded = DecodeCreateClone(routed.params.at(0), ar.body);
      if (!decoded.ok()) Check(decoded.status().code() == Code::kInvalidArgument);
      if (decoded.ok() && !decoded->password.empty())
        Check(ValidateClonePassword(decoded->password).ok());
      CheckRoundTrip(ar.body, &api::ParseCreateCloneRequest);
    }
    if (routed.route->pattern == "/v1/resources/{resource}/claim") {
      auto decoded = DecodeClaim(ar.body);
      if (!decoded.ok()) Check(decoded.status().code() == Code::kInvalidArgument);
      if (decoded.ok() && !decoded->password.empty())
        Check(ValidateClonePassword(decoded->password).ok());
      CheckRoundTrip(ar.body, &api::ParseClaimCloneRequest);
    }
    if (routed.route->pattern == "/v1/clones/{id}" && ar.method == "PATCH") {
      auto decoded = DecodeUpdateClone(ar.body);
      if (!decoded.ok()) Check(decoded.status().code() == Code::kInvalidArgument);
      if (decoded.ok()) Check(decoded->ttl.has_value() || decoded->is_protected.has_value());
      CheckRoundTrip(ar.body, &api::ParseUpdateCloneRequest);
    }
    if (routed.route->pattern == "/v1/clones/{id}/reset") {
      auto decoded = DecodeResetClone(ar.body);
      if (!decoded.ok()) Check(decoded.status().code() == Code::kInvalidArgument);
      CheckRoundTrip(ar.body, &api::ParseResetCloneRequest);
    }
    if (routed.route->pattern == "/v1/clones/{id}/snapshot" ||
        (routed.route->pattern == "/v1/resources/{resource}/snapshots" && ar.method == "POST")) {
      Status st = DecodeEmptyBody(ar.body);
      Check(st.ok() || st.code() == Code::kInvalidArgument);
    }
  }
  // The wire schema's readers on the same body (the CLI's and the proxy's side).
  (void)api::ParseClone(ar.body);
  (void)api::ParseCloneList(ar.body);
  (void)api::ParseResourceList(ar.body);
  (void)api::ParseJob(ar.body);
  return 0;
}
