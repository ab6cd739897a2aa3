#include "core/clone_password.h"

#include <fmt/format.h>

namespace zdap {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

constexpr const char kAllowed[] =
    "a password is 16 to 128 characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'";

}  // namespace

Status ValidateClonePassword(std::string_view password) {
  if (password.size() < kMinClonePasswordLength || password.size() > kMaxClonePasswordLength) {
    return InvalidArgument(
        fmt::format("password has {} characters: {}", password.size(), kAllowed));
  }
  for (size_t i = 0; i < password.size(); ++i) {
    if (!IsUnreserved(password[i])) {
      return InvalidArgument(fmt::format(
          "password has a character that is not allowed at position {}: {}", i + 1, kAllowed));
    }
  }
  return Status::Ok();
}

}  // namespace zdap
