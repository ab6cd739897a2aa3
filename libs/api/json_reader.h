// Bounded JSON parsing and strict typed field access for the wire schema's parsers.
// Strict about types (a present field of the wrong type is an error, null counts as absent
// for optional fields), tolerant of unknown fields (newer daemons may add some).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace zdap::api {

// Limits on what a parser accepts: bytes of text, nesting depth, characters of one string.
inline constexpr size_t kMaxJsonBytes = 8u << 20;
inline constexpr int kMaxJsonDepth = 16;
inline constexpr size_t kMaxStringChars = 64u << 10;

// Parses `text` (at most kMaxJsonBytes, kMaxJsonDepth); errors name `what`. The error code
// is `code` (kUnprocessable when a reply from a daemon is bad, kInvalidArgument for requests).
Result<boost::json::value> ParseJson(std::string_view text, std::string_view what,
                                     Code code = Code::kUnprocessable);

// Typed reads of one object's fields; the first error sticks and names the object.
class ObjectReader {
 public:
  // `v` must outlive the reader. A non-object `v` makes status() an error.
  ObjectReader(const boost::json::value& v, std::string_view what, Code code);
  ObjectReader(const boost::json::object& o, std::string_view what, Code code);

  void String(const char* key, std::string* out, bool required = false);
  void Int(const char* key, int64_t* out, bool required = false, int64_t min = INT64_MIN,
           int64_t max = INT64_MAX);
  void Uint(const char* key, uint64_t* out);
  void Double(const char* key, double* out);
  void Bool(const char* key, bool* out);
  // An RFC 3339 time kept as text; checked for form.
  void Time(const char* key, std::string* out, bool required = false);
  // The field if present and not null, else nullptr; a non-array/object is an error.
  const boost::json::array* Array(const char* key, bool required = false);
  const boost::json::object* Object(const char* key, bool required = false);
  // An error about this object: "<what>: <message>".
  void Fail(const std::string& message);

  const Status& status() const { return status_; }
  std::string_view what() const { return what_; }
  Code code() const { return code_; }

 private:
  const boost::json::value* Find(const char* key, bool required);

  const boost::json::object* object_ = nullptr;
  std::string what_;
  Code code_;
  Status status_;
};

// Each element of `a` read with `from`; the first error is returned.
template <typename T>
Result<std::vector<T>> ElementsOf(const boost::json::array& a,
                                  Result<T> (*from)(const boost::json::value&)) {
  std::vector<T> out;
  out.reserve(a.size());
  for (const boost::json::value& v : a) {
    ZDAP_ASSIGN_OR_RETURN(T e, from(v));
    out.push_back(std::move(e));
  }
  return out;
}

// The list under `key` of the JSON object `text` ({"clones": [...]}), each element read
// with `from`.
template <typename T>
Result<std::vector<T>> ParseListField(std::string_view text, std::string_view what, const char* key,
                                      Result<T> (*from)(const boost::json::value&)) {
  ZDAP_ASSIGN_OR_RETURN(boost::json::value v, ParseJson(text, what));
  ObjectReader r(v, what, Code::kUnprocessable);
  const boost::json::array* a = r.Array(key, /*required=*/true);
  if (!r.status().ok()) return r.status();
  return ElementsOf(*a, from);
}

}  // namespace zdap::api
