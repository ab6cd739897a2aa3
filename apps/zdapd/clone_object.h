// The API's clone object (SPEC "Clone object") for the origin's view of a clone: the one place
// where zdapd maps an origin type onto the wire schema (libs/api).
#pragma once

#include "api/clone.h"
#include "origin/clone_view.h"

namespace zdap::daemon {

// Takes the view by value: its strings move into the answer (a list maps hundreds).
api::Clone ToApi(origin::CloneView view);

}  // namespace zdap::daemon
