// Issue 24's routes: the event stream (GET /v1/events), webhook deliveries, the audit log,
// tokens (admin), and the dashboard's sign-in (POST/GET/DELETE /ui/session). The dashboard's
// files themselves are served by ServeUiAsset (ui_routes.h), before routing.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"
#include "api/requests.h"
#include "audit_log.h"
#include "authenticator.h"
#include "core/time.h"
#include "event_stream.h"
#include "events/event_bus.h"
#include "events/webhook_dispatcher.h"
#include "routes.h"
#include "sessions.h"
#include "tokens_file.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

constexpr size_t kDefaultListLimit = 100;
constexpr size_t kMaxListLimit = 1000;

Status NeedsAdmin(const origin::Caller& caller, const char* what) {
  if (caller.admin) return Status::Ok();
  return Status(Code::kPermissionDenied, std::string(what) + " needs the admin role");
}

// ?limit=N (1..kMaxListLimit), else the default.
Result<size_t> LimitOf(std::string_view query) {
  std::string v = QueryValue(query, "limit");
  if (v.empty()) return kDefaultListLimit;
  if (v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(v) == 0 || std::stoul(v) > kMaxListLimit) {
    return InvalidArgument(fmt::format("limit must be a whole number from 1 to {}", kMaxListLimit));
  }
  return static_cast<size_t>(std::stoul(v));
}

ApiResponse NoContent() {
  ApiResponse r;
  r.status = 204;
  r.body.clear();
  return r;
}

std::string TimeOrEmpty(SystemTime t) {
  return t == SystemTime{} ? "" : FormatRfc3339Millis(t);
}

json::object DeliveryJson(const events::DeliveryRecord& d) {
  json::object o;
  o["event_id"] = d.event_id;
  o["type"] = d.type;
  o["url"] = d.url;
  o["state"] = d.state;
  o["attempts"] = d.attempts;
  o["last_status"] = d.last_status;
  o["last_error"] = d.last_error.empty() ? json::value(nullptr) : json::value(d.last_error);
  o["queued_at"] = TimeOrEmpty(d.queued_at);
  o["last_attempt_at"] = d.last_attempt_at == SystemTime{}
                             ? json::value(nullptr)
                             : json::value(TimeOrEmpty(d.last_attempt_at));
  o["next_attempt_at"] = d.next_attempt_at == SystemTime{}
                             ? json::value(nullptr)
                             : json::value(TimeOrEmpty(d.next_attempt_at));
  return o;
}

json::object AuditJson(const AuditRecord& r) {
  return json::parse(AuditRecordJson(r)).as_object();
}

json::object SessionJson(const origin::Caller& caller, const std::string& csrf,
                         SystemTime expires_at) {
  return json::object{{"user", caller.user},
                      {"admin", caller.admin},
                      {"csrf", csrf},
                      {"expires_at", FormatRfc3339(expires_at)}};
}

}  // namespace

void AddDashboardRoutes(RouteTable& table, RouteContext& ctx) {
  const DashboardParts& parts = ctx.dashboard;
  if (parts.bus != nullptr) {
    // Long-lived: the transport writes the stream as events come (event_stream.h). Subscribing
    // is from memory, so it is answered on the I/O thread and holds no lane.
    table.Add("GET", "/v1/events", kFromMemory, [&ctx](const RouteCall& call) {
      auto last = ParseLastEventId(call.request.last_event_id);
      if (!last.ok()) return ErrorResponse(last.status());
      auto waker = std::make_shared<Waker>();
      auto sub = ctx.dashboard.bus->Subscribe(events::Viewer{call.caller.user, call.caller.admin},
                                              *last, [waker] { waker->Wake(); });
      ApiResponse r;
      r.content_type = "text/event-stream; charset=utf-8";
      r.body.clear();
      r.headers.emplace_back("Cache-Control", "no-store");
      r.headers.emplace_back("X-Accel-Buffering", "no");  // a proxy in front must not buffer it
      r.stream = std::make_shared<EventStream>(std::move(sub), std::move(waker), *last);
      return r;
    });
  }
  if (parts.webhooks != nullptr) {
    table.Add("GET", "/v1/webhooks/deliveries", {}, [&ctx](const RouteCall& call) {
      if (Status st = NeedsAdmin(call.caller, "reading webhook deliveries"); !st.ok()) {
        return ErrorResponse(st);
      }
      auto limit = LimitOf(call.query);
      if (!limit.ok()) return ErrorResponse(limit.status());
      json::array hooks;
      for (const auto& s : ctx.dashboard.webhooks->Stats()) {
        hooks.push_back(json::object{{"url", s.url},
                                     {"queued", s.queued},
                                     {"delivered", s.delivered},
                                     {"failed_attempts", s.failed_attempts},
                                     {"given_up", s.given_up},
                                     {"dropped", s.dropped}});
      }
      json::array deliveries;
      for (const auto& d : ctx.dashboard.webhooks->Deliveries(*limit)) {
        deliveries.push_back(DeliveryJson(d));
      }
      return JsonResponse(
          200, json::object{{"webhooks", std::move(hooks)}, {"deliveries", std::move(deliveries)}});
    });
  }
  if (parts.audit != nullptr) {
    table.Add("GET", "/v1/audit", {}, [&ctx](const RouteCall& call) {
      if (Status st = NeedsAdmin(call.caller, "reading the audit log"); !st.ok()) {
        return ErrorResponse(st);
      }
      auto limit = LimitOf(call.query);
      if (!limit.ok()) return ErrorResponse(limit.status());
      auto records = ctx.dashboard.audit->Read(*limit, QueryValue(call.query, "user"),
                                               QueryValue(call.query, "action"));
      if (!records.ok()) return ErrorResponse(records.status());
      json::array out;
      for (const auto& r : *records) out.push_back(AuditJson(r));
      return JsonResponse(200, json::object{{"records", std::move(out)}});
    });
  }
  if (!parts.tokens_file.empty()) {
    table.Add("GET", "/v1/tokens", {}, [&ctx](const RouteCall& call) {
      if (Status st = NeedsAdmin(call.caller, "listing tokens"); !st.ok()) return ErrorResponse(st);
      auto entries = LoadTokensFile(ctx.dashboard.tokens_file);
      if (!entries.ok()) return ErrorResponse(entries.status());
      json::array out;
      for (const auto& e : *entries) {
        out.push_back(json::object{{"user", e.user}, {"role", TokenRoleName(e.role)}});
      }
      return JsonResponse(200, json::object{{"tokens", std::move(out)}});
    });
    table.Add("POST", "/v1/tokens", kLongWork, [&ctx](const RouteCall& call) {
      if (Status st = NeedsAdmin(call.caller, "adding a token"); !st.ok()) return ErrorResponse(st);
      auto req = api::ParseAddTokenRequest(call.request.body);
      if (!req.ok()) return ErrorResponse(req.status());
      auto token = AddToken(ctx.dashboard.tokens_file, req->user,
                            req->admin ? TokenRole::kAdmin : TokenRole::kUser, req->replace);
      if (!token.ok()) return ErrorResponse(token.status());
      if (Status st = ctx.auth->Reload(); !st.ok()) return ErrorResponse(st);
      // The only time the token exists in clear: in this answer (never in a log or the audit).
      ApiResponse r = JsonResponse(201, json::object{{"user", req->user},
                                                     {"role", req->admin ? "admin" : "user"},
                                                     {"token", *token}});
      r.audit_target = req->user;
      return r;
    });
    table.Add("DELETE", "/v1/tokens/{user}", kLongWork, [&ctx](const RouteCall& call) {
      if (Status st = NeedsAdmin(call.caller, "removing a token"); !st.ok()) {
        return ErrorResponse(st);
      }
      if (Status st = RemoveToken(ctx.dashboard.tokens_file, call.params[0]); !st.ok()) {
        return ErrorResponse(st);
      }
      if (Status st = ctx.auth->Reload(); !st.ok()) return ErrorResponse(st);
      return NoContent();
    });
  }
  if (parts.sessions != nullptr) {
    // Sign-in: the token is checked as a Bearer token would be, then stands behind a session.
    table.Add("POST", "/ui/session", {.needs_auth = false}, [&ctx](const RouteCall& call) {
      auto sign_in = api::ParseSignInRequest(call.request.body);
      if (!sign_in.ok()) return ErrorResponse(sign_in.status());
      const std::string& token = sign_in->token;
      ApiRequest as_bearer;
      as_bearer.authorization = "Bearer " + token;
      as_bearer.from_loopback = call.request.from_loopback;
      Authenticator::Failure failure;
      auto caller = ctx.auth->Authenticate(as_bearer, &failure);
      if (!caller.ok()) return ErrorResponse(caller.status());
      auto session = ctx.dashboard.sessions->Create(DigestOf(token));
      if (!session.ok()) return ErrorResponse(session.status());
      ApiResponse r = JsonResponse(200, SessionJson(*caller, session->csrf, session->expires_at));
      r.headers.emplace_back("Set-Cookie",
                             SessionCookie(ctx.dashboard.tls, session->id,
                                           ctx.dashboard.sessions->options().lifetime));
      r.audit_user = caller->user;
      return r;
    });
    table.Add("GET", "/ui/session", {}, [&ctx](const RouteCall& call) {
      std::string id = CookieValue(call.request.cookie, SessionCookieName(ctx.dashboard.tls));
      auto session = ctx.dashboard.sessions->Find(id);
      if (!session.ok()) return ErrorResponse(session.status());
      return JsonResponse(
          200, SessionJson(call.caller, ctx.dashboard.sessions->CsrfFor(id), session->expires_at));
    });
    table.Add("DELETE", "/ui/session", {}, [&ctx](const RouteCall& call) {
      std::string id = CookieValue(call.request.cookie, SessionCookieName(ctx.dashboard.tls));
      ctx.dashboard.sessions->Revoke(id);
      ApiResponse r = NoContent();
      r.headers.emplace_back("Set-Cookie", ClearedSessionCookie(ctx.dashboard.tls));
      return r;
    });
  }
}

}  // namespace zdap::daemon
