// The service names of a compose file, for completion and "did you mean" (the compose
// library reads one service at a time; this lists them).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::cli {

// Names under `services:` in file order; InvalidArgument for a file that is not YAML or larger
// than the compose library accepts.
Result<std::vector<std::string>> ComposeServiceNames(const std::string& path);

}  // namespace zdap::cli
