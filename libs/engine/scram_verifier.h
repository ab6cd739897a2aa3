// PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677), so that a password
// can be set with ALTER ROLE without the plain text ever reaching the server or its logs.
#pragma once

#include <string>

#include "core/result.h"

namespace zdap::engine {

// "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>" (standard base64) for `password`, with
// a fresh random 16-byte salt. `password` must be ASCII without control characters (SASLprep
// leaves it unchanged); anything else is refused.
Result<std::string> ScramSha256Verifier(const std::string& password);

}  // namespace zdap::engine
