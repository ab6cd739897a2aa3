// The verbs of zdap, each run on its parsed arguments (its syntax is declared in verbs.cc). Each
// prints its result on stdout and returns a Status (failure: exit 1).
#pragma once

#include <string>

#include "core/status.h"
#include "zdap/args.h"

namespace zdap::cli {

// cmd_origin.cc: origins and identity.
Status CmdOriginAdd(const VerbArgs& args);
Status CmdOriginRemove(const VerbArgs& args);
Status CmdOriginList(const VerbArgs& args);
Status CmdUserSet(const VerbArgs& args);

// cmd_init.cc, cmd_attach.cc: compose projects.
Status CmdInit(const VerbArgs& args);
Status CmdAttach(const VerbArgs& args);
// attach's rules between options (--replicas, --origin, --balance): a usage error or "".
std::string CheckAttach(const VerbArgs& args);
Status CmdDetach(const VerbArgs& args);

// cmd_clone.cc: clones without compose.
Status CmdClone(const VerbArgs& args);
Status CmdDestroy(const VerbArgs& args);
Status CmdReset(const VerbArgs& args);
Status CmdExtend(const VerbArgs& args);
Status CmdProtect(const VerbArgs& args);
Status CmdUnprotect(const VerbArgs& args);

// cmd_list.cc, cmd_status.cc, cmd_refresh.cc: looking around and operating.
Status CmdListResources(const VerbArgs& args);
Status CmdListSnapshots(const VerbArgs& args);
Status CmdListClones(const VerbArgs& args);
Status CmdStatus(const VerbArgs& args);
Status CmdRefresh(const VerbArgs& args);
// cmd_events.cc
Status CmdEvents(const VerbArgs& args);

// cmd_completion.cc: the scripts, and the hidden `zdap __complete` they call.
Status CmdCompletion(const VerbArgs& args);
Status CmdComplete(const VerbArgs& args);
// __complete's shape (operand VERB | option VERB OPTION): a usage error or "".
std::string CheckComplete(const VerbArgs& args);

}  // namespace zdap::cli
