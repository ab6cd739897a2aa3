// The origin's lifecycle rules as pure functions of a record, a resource and the time, so
// they are unit-tested with a fake clock and the same code runs in the daemon.
#pragma once

#include <chrono>
#include <optional>

#include "catalog/clone_record.h"
#include "config/resource.h"
#include "core/result.h"
#include "core/time.h"

namespace zdap::origin {

// True when `clone` is due for the expiry sweep at `now`: ready or failed (a failed clone is
// kept for its owner to read why, until deleted or expired), not protected, and past its
// expires_at (a clone without one never expires).
bool ExpiredAt(const catalog::CloneRecord& clone, SystemTime now);

// The ttl a new clone of `resource` gets: `requested`, or the resource's clone.ttl (0 = none).
// InvalidArgument when it is longer than clone.max_ttl (and "none" is longer than any).
Result<std::chrono::seconds> CloneTtl(const config::Resource& resource,
                                      std::optional<std::chrono::seconds> requested);

}  // namespace zdap::origin
