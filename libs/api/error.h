// API v1's error object: {"error": {"code": "not_found", "message": "clone 'x' not found"}}.
// Code names and HTTP statuses are those of core/status.h (CodeName, HttpStatusOf); the
// transport adds a few of its own (405 method_not_allowed, 431 too_large).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace zdap::api {

// The serialized error object (with a trailing newline).
std::string ErrorJson(std::string_view code, std::string_view message);
std::string ErrorJson(const Status& status);

// The Code named `name` ("not_found"), else the one HTTP status `http_status` stands for.
Code CodeFromName(std::string_view name, int http_status);

// The Status an error reply stands for: code from error.code (else from the HTTP status),
// message from error.message (else "HTTP status N"), at most 1000 characters of it.
Status StatusFromErrorReply(int http_status, std::string_view body);

}  // namespace zdap::api
