// Placement: which origin gets a new clone. For now: the origin asked for (--origin), else
// the first configured origin that answers /v1/health. SPEC's ranking by free disk, memory,
// load and clone count (from /v1/status, queried in parallel) replaces ChooseOrigin's body.
#pragma once

#include <string>

#include "core/result.h"
#include "zdap/origin_api.h"
#include "zdap/user_config.h"

namespace zdap::cli {

// The API of origin `url` (any spelling) with the token and user from `config`. The origin
// need not be configured (then without a token).
Result<OriginApi> OriginFor(const UserConfig& config, const std::string& url);

// The origin for a new clone; `forced` is --origin or "".
Result<OriginApi> ChooseOrigin(const UserConfig& config, const std::string& forced);

}  // namespace zdap::cli
