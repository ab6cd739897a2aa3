// Probes of what the file system under a directory can do, for `auto` and for the drivers
// that need a feature (reflink, overlay). Each probe works in hidden scratch names under
// `dir` (hidden trash names, which recovery removes if a crash leaves them) and removes
// them again.
#pragma once

#include <string>

namespace zdap::storage {

struct Probe {
  bool supported = false;
  std::string reason;  // why (not): for the log line that explains the choice
};

// FICLONE of a small file into a new one in `dir`.
Probe ProbeReflink(const std::string& dir);
// Mounts a tiny overlay (lower, upper, work in `dir`), writes through it, unmounts.
Probe ProbeOverlay(const std::string& dir);

}  // namespace zdap::storage
