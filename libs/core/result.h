// Result<T>: a value or a non-ok Status (std::expected is C++23; this is the small part we need).
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "core/status.h"

namespace zdap {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result built from an ok Status carries no value");
    if (status_.ok()) status_ = Status(Code::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace zdap

// Assigns the value of a Result expression to `lhs`, or returns its Status.
#define ZDAP_CONCAT_INNER_(a, b) a##b
#define ZDAP_CONCAT_(a, b) ZDAP_CONCAT_INNER_(a, b)
#define ZDAP_ASSIGN_OR_RETURN(lhs, expr) \
  ZDAP_ASSIGN_OR_RETURN_IMPL_(ZDAP_CONCAT_(zdap_result_, __LINE__), lhs, expr)
#define ZDAP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
