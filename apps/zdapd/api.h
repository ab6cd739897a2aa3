// The HTTP API v1 (SPEC "HTTP API v1") as a plain function from request to response, with
// no networking in it: the Beast server (http_server.h) feeds it, tests can call it directly.
#pragma once

#include <string>

#include "origin/origin.h"

namespace zdap::daemon {

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
};

class Api {
 public:
  Api(origin::Origin& origin, std::string version)
      : origin_(origin), version_(std::move(version)) {}
  // Never throws; never answers 500 for bad input.
  ApiResponse Handle(const ApiRequest& request);

 private:
  ApiResponse Dispatch(const ApiRequest& request);
  origin::Origin& origin_;
  std::string version_;
};

// {"error":{"code":"not_found","message":"..."}} with the status's HTTP code.
ApiResponse ErrorResponse(const Status& status);
// The same shape for transport-level errors that have no Status code (431, 405).
ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message);

}  // namespace zdap::daemon
