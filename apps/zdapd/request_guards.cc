#include "request_guards.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

Status Forbidden(std::string message) {
  return Status(Code::kPermissionDenied, std::move(message));
}

// The error's code and message of a JSON error answer, or empty.
void ErrorOf(const ApiResponse& r, std::string* code, std::string* message) {
  if (r.status < 400 || r.body.empty()) return;
  auto v = api::ParseJson(r.body, "answer");
  if (!v.ok() || !v->is_object()) return;
  const json::value* err = v->as_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return;
  if (const json::value* c = err->as_object().if_contains("code"); c && c->is_string()) {
    *code = std::string(c->as_string());
  }
  if (const json::value* m = err->as_object().if_contains("message"); m && m->is_string()) {
    *message = std::string(m->as_string());
  }
}

// The "id" of a 201 answer's object (the clone a create made); nothing else is read from it.
std::string CreatedId(const ApiResponse& r) {
  if (r.status != 201 || r.content_type != "application/json") return "";
  auto v = api::ParseJson(r.body, "answer");
  if (!v.ok() || !v->is_object()) return "";
  const json::value* id = v->as_object().if_contains("id");
  return id != nullptr && id->is_string() ? std::string(id->as_string()) : "";
}

}  // namespace

bool IsMutating(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

Status CheckSameOrigin(const ApiRequest& req) {
  if (!IsMutating(req.method)) return Status::Ok();
  if (req.fetch_site == "cross-site" || req.fetch_site == "same-site") {
    return Forbidden("a request from another site may not change anything here");
  }
  if (!req.origin.empty()) {
    std::string own = fmt::format("{}://{}", req.tls ? "https" : "http", req.host);
    if (req.origin != own) {
      return Forbidden(
          fmt::format("a request from {} may not change anything here", req.origin.substr(0, 100)));
    }
  }
  return Status::Ok();
}

Status CheckCsrf(const ApiRequest& req, Authenticator::Via via, const SessionStore& sessions,
                 const std::string& session_id) {
  if (via != Authenticator::Via::kSession || !IsMutating(req.method)) return Status::Ok();
  if (!sessions.CsrfMatches(session_id, req.csrf_token)) {
    return Forbidden(
        "this change needs the session's CSRF token in X-CSRF-Token (reload the page)");
  }
  return Status::Ok();
}

bool ShouldAudit(const ApiRequest& req, bool failed_auth) {
  return failed_auth || IsMutating(req.method);
}

AuditRecord AuditRecordFor(const ApiRequest& req, std::string_view pattern,
                           const std::vector<std::string>& params, const origin::Caller& caller,
                           Authenticator::Via via, bool failed_auth, const ApiResponse& resp) {
  AuditRecord r;
  r.time = SystemNow();
  r.user = caller.user.empty() ? resp.audit_user : caller.user;
  if (!r.user.empty()) r.role = caller.admin ? "admin" : "user";
  r.via = Authenticator::ViaName(via);
  r.from = req.peer;
  r.method = req.method.substr(0, 16);
  r.path = pattern.empty() ? req.target.substr(0, req.target.find('?')).substr(0, 200)
                           : std::string(pattern);
  std::string_view action = AuditActionFor(req.method, pattern);
  if (failed_auth) {
    r.action = "auth.failed";
  } else if (!action.empty()) {
    r.action = std::string(action);
  } else {
    r.action = r.method + " " + r.path;
  }
  for (const auto& p : params) {
    if (!r.target.empty()) r.target += '/';
    r.target += p.substr(0, 100);
  }
  if (std::string id = CreatedId(resp); !id.empty()) {
    if (!r.target.empty()) r.target += '/';
    r.target += id.substr(0, 100);
  }
  if (!resp.audit_target.empty()) {
    if (!r.target.empty()) r.target += '/';
    r.target += resp.audit_target.substr(0, 100);
  }
  r.status = resp.status;
  if (resp.status < 400) {
    r.result = "ok";
  } else {
    ErrorOf(resp, &r.result, &r.error);
    if (r.result.empty()) r.result = fmt::format("http_{}", resp.status);
  }
  return r;
}

}  // namespace zdap::daemon
