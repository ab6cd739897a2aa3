// Random secrets for credentials (clone passwords, tokens): from the kernel's CSPRNG.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap {

// `bytes` random bytes as unpadded base64url (RFC 4648 section 5): safe in URIs, shells,
// YAML and SQL string literals without escaping. 16 bytes = 128 bits = 22 characters.
Result<std::string> RandomUrlSafeSecret(size_t bytes);

// Unpadded base64url of `data`.
std::string Base64UrlEncode(std::string_view data);

}  // namespace zdap
