// The request and response of one API call as Api::Handle sees them: plain data, no
// networking. The transport (http_server) fills ApiRequest and writes ApiResponse.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/requests.h"
#include "core/status.h"

namespace zdap::daemon {

// Bodies larger than this are refused with 413 (the transport also stops reading there).
using api::kMaxRequestBodyBytes;

struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received
  std::string body;
  std::string authorization;  // Authorization header
  std::string user_header;    // X-Zdap-User header
  bool from_loopback = false;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON (or Prometheus text for /metrics), "" for 204
  std::string content_type = "application/json";
  // Extra response headers: WWW-Authenticate (401), Allow (405).
  std::vector<std::pair<std::string, std::string>> headers;
};

ApiResponse JsonResponse(int status, const boost::json::value& body);
// {"error":{"code":"not_found","message":"..."}} with the status's HTTP code.
ApiResponse ErrorResponse(const Status& status);
// The same shape for transport-level errors that have no Status code (431, 405).
ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message);

}  // namespace zdap::daemon
