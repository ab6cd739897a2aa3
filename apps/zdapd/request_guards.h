// What the Api checks and records around each request for the dashboard (issue 24), as pure
// functions of the request (the fuzz target runs them):
//
// - Cross-site requests that change something are refused (403), whatever their credentials:
//   a browser's Sec-Fetch-Site says cross-site or same-site, or its Origin is not this API's
//   own (scheme://Host). The CLI, the proxy and curl send neither header.
// - A change made with the session cookie must carry the session's CSRF token in
//   X-CSRF-Token (403 otherwise). Bearer-token requests need none: a browser never adds the
//   Authorization header by itself.
// - The audit record of a request: fixed by the route, never copied from the body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api_message.h"
#include "audit_log.h"
#include "authenticator.h"
#include "core/status.h"
#include "origin/origin.h"

namespace zdap::daemon {

// True for methods that change something (all but GET, HEAD, OPTIONS).
bool IsMutating(std::string_view method);

// PermissionDenied when `request` changes something and comes from another site.
Status CheckSameOrigin(const ApiRequest& request);

// PermissionDenied when `request` changes something with the session cookie (`session_id`)
// and does not carry its CSRF token.
Status CheckCsrf(const ApiRequest& request, Authenticator::Via via, const SessionStore& sessions,
                 const std::string& session_id);

// The audit record of one answered request: `pattern` and `params` are the matched route's
// ("" when none matched), `caller` and `via` who it was (empty when authentication failed),
// `failed_auth` whether it was refused by authentication.
AuditRecord AuditRecordFor(const ApiRequest& request, std::string_view pattern,
                           const std::vector<std::string>& params, const origin::Caller& caller,
                           Authenticator::Via via, bool failed_auth, const ApiResponse& response);

// Whether a request is audited: every mutating call that reached a route or was refused, and
// every refused authentication.
bool ShouldAudit(const ApiRequest& request, bool failed_auth);

}  // namespace zdap::daemon
