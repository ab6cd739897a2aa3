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

// POST /v1/resources/{r}/clones: {snapshot?, ttl?, name?, protected?}. `resource` is the
// path's, not the body's.
Result<origin::CreateCloneRequest> DecodeCreateClone(std::string_view resource,
                                                     std::string_view body);

// POST /v1/resources/{r}/claim: {ttl?}. Absent ttl = the resource's default.
Result<std::optional<std::chrono::seconds>> DecodeClaim(std::string_view body);
// PATCH /v1/clones/{id}: {ttl?, protected?}; at least one of them.
Result<origin::UpdateCloneRequest> DecodeUpdateClone(std::string_view body);
// POST /v1/clones/{id}/reset: {snapshot?}; returns the snapshot ("" = the newest).
Result<std::string> DecodeResetClone(std::string_view body);
// A body that must carry no fields ("" or {}): POST /v1/clones/{id}/snapshot.
Status DecodeEmptyBody(std::string_view body);

}  // namespace zdap::daemon
