// Status: the one error type of zdap. A Status is either ok or carries a code and a message
// written for a person ("clone 'x' not found", "chinook.yaml:4: key 'engin' is not known").
// Codes map one-to-one onto the HTTP statuses the daemon answers with (SPEC "HTTP API v1").
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace zdap {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // 400: malformed or out-of-range input
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kConflict,          // 409: state does not allow it (exists already, has dependants)
  kTooLarge,          // 413
  kUnprocessable,     // 422: well-formed but cannot be acted upon (e.g. dump fails to import)
  kUnavailable,       // 503: try again later (no free port, server not ready)
  kIoError,           // 500: the host failed us (disk, exec, permissions)
  kInternal,          // 500: a bug
};

std::string_view CodeName(Code code);  // "not_found", ... as used in API error bodies.
int HttpStatusOf(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "not_found: clone 'x' not found"
  std::string ToString() const;

  // Prefixes the message with context, keeping the code: "refresh chinook: <message>".
  Status Wrap(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status Conflict(std::string message);
Status Unprocessable(std::string message);
Status Unavailable(std::string message);
Status IoError(std::string message);
Status Internal(std::string message);
// IoError whose message ends with strerror(err): "mkdir /x: Permission denied".
Status ErrnoError(std::string_view what, int err);

}  // namespace zdap

#define ZDAP_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::zdap::Status zdap_status_ = (expr);        \
    if (!zdap_status_.ok()) return zdap_status_; \
  } while (0)
