// Caller: who asks the origin for something, as the API layer authenticated them. A plain user
// sees and touches only their own clones; an admin sees and touches all of them, but a clone's
// password is shown to its owner alone (SPEC "Lifecycle rules").
#pragma once

#include <string>

namespace zdap::origin {

struct Caller {
  std::string user;
  bool admin = false;
  // Another origin that follows this one (token role `replicator`): it reads resource lists
  // and snapshot streams, nothing else (the API refuses every other route to it).
  bool replicator = false;
};

// The daemon itself (expiry, pools, host commands): an admin that owns nothing.
inline Caller DaemonCaller() {
  return Caller{"zdapd", true};
}

}  // namespace zdap::origin
