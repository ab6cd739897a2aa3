// Finding things across the configured origins: the config with at least one origin, the
// origin that has a clone id, the origin that serves a resource.
#pragma once

#include <string>

#include "core/result.h"
#include "zdap/placement.h"
#include "zdap/user_config.h"

namespace zdap::cli {

// The user config; NotFound with what to run when it names no origin.
Result<UserConfig> LoadConfigWithOrigins();

struct FoundClone {
  OriginApi api;
  CloneInfo clone;
};
// Asks every configured origin for clone `id`; the first that has it wins. NotFound (with the
// closest of the user's clone ids, if any is close) when none has it; an origin that did not
// answer is named in the error, since the clone may live there.
Result<FoundClone> FindClone(const UserConfig& config, const std::string& id);

// `status` as is, unless it says the origin does not know `resource`: then with the closest
// resource that origin has ("; did you mean chinook?") and where to look.
Status WithResourceHint(const OriginApi& api, Status status, const std::string& resource);

}  // namespace zdap::cli
