// The origin's requests from the API's request bodies: each body is read with its schema in
// libs/api/requests.h (the one the clients write with; strict: unknown fields, wrong types,
// bad durations, names, snapshot ids and passwords are InvalidArgument naming the field, a body
// over api::kMaxRequestBodyBytes is TooLarge), then mapped onto what the origin takes. Pure
// functions of the body text (the fuzz target calls them).
#pragma once

#include <string>
#include <string_view>

#include "api/requests.h"
#include "core/result.h"
#include "origin/origin.h"

namespace zdap::daemon {

// POST /v1/resources/{r}/clones. `resource` is the path's, not the body's.
Result<origin::CreateCloneRequest> DecodeCreateClone(std::string_view resource,
                                                     std::string_view body);
// POST /v1/resources/{r}/claim.
Result<api::ClaimCloneRequest> DecodeClaim(std::string_view body);
// PATCH /v1/clones/{id}: at least one of ttl and protected.
Result<origin::UpdateCloneRequest> DecodeUpdateClone(std::string_view body);
// POST /v1/clones/{id}/reset: returns the snapshot ("" = the newest).
Result<std::string> DecodeResetClone(std::string_view body);
// A body that must carry no fields ("" or {}).
Status DecodeEmptyBody(std::string_view body);

}  // namespace zdap::daemon
