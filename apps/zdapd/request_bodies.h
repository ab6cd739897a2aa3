// Decoding of request bodies: pure functions of the body text (the fuzz target calls them).
// Bodies are JSON objects, at most kMaxRequestBodyBytes; unknown fields are refused so that a
// typo does not pass silently; errors are InvalidArgument naming the field.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "origin/origin.h"

namespace zdap::daemon {

// POST /v1/resources/{r}/clones: {snapshot?, ttl?, name?, protected?, password?}. `resource`
// is the path's, not the body's. A password is the owner's choice for the clone
// (ValidateClonePassword: 16..128 of [A-Za-z0-9._~-]); absent = a random one.
Result<origin::CreateCloneRequest> DecodeCreateClone(std::string_view resource,
                                                     std::string_view body);

// POST /v1/resources/{r}/claim: {ttl?, password?}.
struct ClaimRequest {
  std::optional<std::chrono::seconds> ttl;  // absent: the resource's default
  std::string password;                     // "" = a random one; else as for a create
};
Result<ClaimRequest> DecodeClaim(std::string_view body);
// PATCH /v1/clones/{id}: {ttl?, protected?}; at least one of them.
Result<origin::UpdateCloneRequest> DecodeUpdateClone(std::string_view body);
// POST /v1/clones/{id}/reset: {snapshot?}; returns the snapshot ("" = the newest).
Result<std::string> DecodeResetClone(std::string_view body);
// A body that must carry no fields ("" or {}): POST /v1/clones/{id}/snapshot.
Status DecodeEmptyBody(std::string_view body);

}  // namespace zdap::daemon
