#include "api/json_reader.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/time.h"

namespace json = boost::json;

namespace zdap::api {

Result<json::value> ParseJson(std::string_view text, std::string_view what, Code code) {
  if (text.size() > kMaxJsonBytes) {
    return Status(code, fmt::format("{} is larger than {} bytes", what, kMaxJsonBytes));
  }
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) return Status(code, fmt::format("{} is not valid JSON: {}", what, ec.message()));
  return v;
}

ObjectReader::ObjectReader(const json::value& v, std::string_view what, Code code)
    : what_(what), code_(code) {
  if (v.is_object()) {
    object_ = &v.as_object();
  } else {
    status_ = Status(code_, fmt::format("{} is not a JSON object", what_));
  }
}

ObjectReader::ObjectReader(const json::object& o, std::string_view what, Code code)
    : object_(&o), what_(what), code_(code) {}

void ObjectReader::Fail(const std::string& message) {
  if (status_.ok()) status_ = Status(code_, fmt::format("{}: {}", what_, message));
}

const json::value* ObjectReader::Find(const char* key, bool required) {
  if (!status_.ok()) return nullptr;
  const json::value* v = object_->if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) Fail(fmt::format("'{}' is missing", key));
    return nullptr;
  }
  return v;
}

void ObjectReader::String(const char* key, std::string* out, bool required) {
  const json::value* v = Find(key, required);
  if (v == nullptr) return;
  if (!v->is_string()) return Fail(fmt::format("'{}' must be a string", key));
  if (v->as_string().size() > kMaxStringChars) {
    return Fail(fmt::format("'{}' is longer than {} characters", key, kMaxStringChars));
  }
  *out = std::string(v->as_string());
}

void ObjectReader::Int(const char* key, int64_t* out, bool required, int64_t min, int64_t max) {
  const json::value* v = Find(key, required);
  if (v == nullptr) return;
  int64_t n;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64() && v->as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    n = static_cast<int64_t>(v->as_uint64());
  } else {
    return Fail(fmt::format("'{}' must be an integer", key));
  }
  if (n < min || n > max) {
    return Fail(fmt::format("'{}' is {}, outside {}..{}", key, n, min, max));
  }
  *out = n;
}

void ObjectReader::Uint(const char* key, uint64_t* out) {
  const json::value* v = Find(key, false);
  if (v == nullptr) return;
  if (v->is_uint64()) {
    *out = v->as_uint64();
  } else if (v->is_int64() && v->as_int64() >= 0) {
    *out = static_cast<uint64_t>(v->as_int64());
  } else {
    Fail(fmt::format("'{}' must be a non-negative integer", key));
  }
}

void ObjectReader::Double(const char* key, double* out) {
  const json::value* v = Find(key, false);
  if (v == nullptr) return;
  if (!v->is_number()) return Fail(fmt::format("'{}' must be a number", key));
  *out = v->to_number<double>();
}

void ObjectReader::Bool(const char* key, bool* out) {
  const json::value* v = Find(key, false);
  if (v == nullptr) return;
  if (!v->is_bool()) return Fail(fmt::format("'{}' must be true or false", key));
  *out = v->as_bool();
}

void ObjectReader::Time(const char* key, std::string* out, bool required) {
  std::string text;
  String(key, &text, required);
  if (!status_.ok() || text.empty()) return;
  if (!ParseRfc3339(text).ok()) {
    return Fail(fmt::format("'{}' is not an RFC 3339 time", key));
  }
  *out = std::move(text);
}

const json::array* ObjectReader::Array(const char* key, bool required) {
  const json::value* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) {
    Fail(fmt::format("'{}' must be a list", key));
    return nullptr;
  }
  return &v->as_array();
}

const json::object* ObjectReader::Object(const char* key, bool required) {
  const json::value* v = Find(key, required);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) {
    Fail(fmt::format("'{}' must be an object", key));
    return nullptr;
  }
  return &v->as_object();
}

}  // namespace zdap::api
