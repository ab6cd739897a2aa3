// The request and response of one API call as Api::Handle sees them: plain data, no
// networking. The transport (http_server) fills ApiRequest and writes ApiResponse.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/requests.h"
#include "core/status.h"

namespace zdap::daemon {

class ResponseStream;  // event_stream.h

// Bodies larger than this are refused with 413 (the transport also stops reading there).
using api::kMaxRequestBodyBytes;

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string body;
  std::string authorization;  // Authorization header
  std::string user_header;    // X-Zdap-User header
  bool from_loopback = false;
  // Issue 24: the dashboard's session and CSRF checks, the event stream's resume point and
  // the audit log's address.
  std::string cookie;         // Cookie
  std::string csrf_token;     // X-CSRF-Token
  std::string origin;         // Origin
  std::string host;           // Host
  std::string fetch_site;     // Sec-Fetch-Site
  std::string last_event_id;  // Last-Event-ID
  std::string if_none_match;  // If-None-Match
  std::string peer;           // the peer's IP address
  bool tls = false;           // came over HTTPS
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON (or Prometheus text for /metrics), "" for 204
  std::string content_type = "application/json";
  // Extra response headers: WWW-Authenticate (401), Allow (405).
  std::vector<std::pair<std::string, std::string>> headers;
  // A long-lived answer written as it comes (GET /v1/events): the transport writes the
  // headers, then the stream's pieces, until it ends or the client goes.
  std::shared_ptr<ResponseStream> stream;
  // Who the audit log names when the route is public (the user a sign-in signed in), and what
  // it acted on when the path does not say (the user a token was made for).
  std::string audit_user;
  std::string audit_target;
};

ApiResponse JsonResponse(int status, const boost::json::value& body);
// {"error":{"code":"not_found","message":"..."}} with the status's HTTP code.
ApiResponse ErrorResponse(const Status& status);
// The same shape for transport-level errors that have no Status code (431, 405).
ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message);

}  // namespace zdap::daemon
