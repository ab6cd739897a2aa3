#include "api/error.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::api {

std::string ErrorJson(std::string_view code, std::string_view message) {
  json::object err;
  err[field::kCode] = code;
  err[field::kMessage] = message;
  json::object o;
  o[field::kError] = std::move(err);
  return json::serialize(o) + "\n";
}

std::string ErrorJson(const Status& status) {
  return ErrorJson(CodeName(status.code()), status.message());
}

Code CodeFromName(std::string_view name, int http_status) {
  for (Code c : {Code::kInvalidArgument, Code::kUnauthenticated, Code::kPermissionDenied,
                 Code::kNotFound, Code::kConflict, Code::kTooLarge, Code::kUnprocessable,
                 Code::kUnavailable, Code::kIoError, Code::kInternal}) {
    if (CodeName(c) == name) return c;
  }
  switch (http_status) {
    case 400:
    case 405:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
    case 431:
      return Code::kTooLarge;
    case 422:
      return Code::kUnprocessable;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

Status StatusFromErrorReply(int http_status, std::string_view body) {
  std::string code_name, message;
  auto v = ParseJson(body, "error reply");
  if (v.ok()) {
    ObjectReader top(*v, "error reply", Code::kUnprocessable);
    if (const json::object* e = top.Object(field::kError)) {
      ObjectReader r(*e, "error", Code::kUnprocessable);
      r.String(field::kCode, &code_name);
      r.String(field::kMessage, &message);
      if (!r.status().ok()) code_name.clear(), message.clear();
    }
  }
  constexpr size_t kMaxMessage = 1000;
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  if (message.empty()) message = fmt::format("HTTP status {}", http_status);
  return Status(CodeFromName(code_name, http_status), std::move(message));
}

}  // namespace zdap::api
