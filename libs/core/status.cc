#include "core/status.h"

#include <cstring>

namespace zdap {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kPermissionDenied:
      return "forbidden";
    case Code::kNotFound:
      return "not_found";
    case Code::kConflict:
      return "conflict";
    case Code::kTooLarge:
      return "too_large";
    case Code::kUnprocessable:
      return "unprocessable";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kIoError:
      return "io_error";
    case Code::kInternal:
      return "internal";
  }
  return "internal";
}

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kTooLarge:
      return 413;
    case Code::kUnprocessable:
      return 422;
    case Code::kUnavailable:
      return 503;
    case Code::kIoError:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::Wrap(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return {code_, std::move(m)};
}

Status InvalidArgument(std::string message) {
  return {Code::kInvalidArgument, std::move(message)};
}
Status NotFound(std::string message) {
  return {Code::kNotFound, std::move(message)};
}
Status Conflict(std::string message) {
  return {Code::kConflict, std::move(message)};
}
Status Unprocessable(std::string message) {
  return {Code::kUnprocessable, std::move(message)};
}
Status Unavailable(std::string message) {
  return {Code::kUnavailable, std::move(message)};
}
Status IoError(std::string message) {
  return {Code::kIoError, std::move(message)};
}
Status Internal(std::string message) {
  return {Code::kInternal, std::move(message)};
}

Status ErrnoError(std::string_view what, int err) {
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return {Code::kIoError, std::move(m)};
}

}  // namespace zdap
