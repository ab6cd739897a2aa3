// Shell completion scripts for bash, zsh and fish, generated from the verb registry. Verbs
// and options are written into the script; operands and option values (resources, clone ids,
// services, origins, snapshots) come from `zdap __complete operand VERB` and
// `zdap __complete option VERB OPTION` at completion time.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::cli {

// The script for `shell` ("bash", "zsh" or "fish"); InvalidArgument for another shell.
Result<std::string> CompletionScript(std::string_view shell);

}  // namespace zdap::cli
