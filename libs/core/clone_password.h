// An owner-chosen clone password (the `password` field of a create or claim request): what it
// may be, so that it needs no escaping in a connection URI, a shell, YAML, a MariaDB init file
// or an SQL string literal. The passwords zdapd makes itself (RandomUrlSafeSecret(24): 32
// base64url characters) pass the same check, so one clone's password can be given to the
// next (`zdap attach --replicas`).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace zdap {

inline constexpr size_t kMinClonePasswordLength = 16;
inline constexpr size_t kMaxClonePasswordLength = 128;

// A password is 16..128 characters of [A-Za-z0-9._~-] (RFC 3986's unreserved characters).
// Otherwise: InvalidArgument that says what is allowed and what is wrong (the length, or the
// position of the first character outside the alphabet), never the password itself.
Status ValidateClonePassword(std::string_view password);

}  // namespace zdap
