// The verbs of zdap. Each takes the words after its verb, prints its result on stdout, and
// returns a Status (failure: exit 1) or throws UsageError (exit 2). --help prints and is Ok.
// Each calls ParseVerbArgs before doing anything else (verbs.h learns its options that way).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace zdap::cli {

using Args = std::vector<std::string>;

Status CmdOriginAdd(const Args& args);
Status CmdOriginRemove(const Args& args);
Status CmdOriginList(const Args& args);
Status CmdUserSet(const Args& args);
Status CmdInit(const Args& args);
Status CmdListResources(const Args& args);
Status CmdListSnapshots(const Args& args);
Status CmdListClones(const Args& args);
Status CmdAttach(const Args& args);
Status CmdDetach(const Args& args);
Status CmdStatus(const Args& args);

// cmd_clone.cc: clones without compose.
Status CmdClone(const Args& args);
Status CmdDestroy(const Args& args);
Status CmdReset(const Args& args);
Status CmdExtend(const Args& args);
Status CmdProtect(const Args& args);
Status CmdUnprotect(const Args& args);

// cmd_refresh.cc
Status CmdRefresh(const Args& args);
// cmd_events.cc
Status CmdEvents(const Args& args);

// cmd_completion.cc: the scripts, and the hidden `zdap __complete` they call.
Status CmdCompletion(const Args& args);
Status CmdComplete(const Args& args);

}  // namespace zdap::cli
