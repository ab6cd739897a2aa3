// overlayfs mounts by mount(2): no mount(8) process per clone.
#pragma once

#include <string>

#include "core/result.h"

namespace zdap::storage {

// mount -t overlay -o lowerdir=L,upperdir=U,workdir=W overlay TARGET. The paths must not
// contain ',', ':' or '\' (InvalidArgument), which overlayfs would read as separators.
Status MountOverlay(const std::string& lower, const std::string& upper, const std::string& work,
                    const std::string& target);
// Unmounts `target`; if it is busy (a process still has files open) detaches it lazily and
// logs a warning, so that destroy never hangs on a forgotten server.
Status UnmountOverlay(const std::string& target);
// Detaches every mount strictly below `dir` (deepest first), e.g. the probe's or a clone's
// left by a killed process inside a directory about to be removed.
Status UnmountBelow(const std::string& dir);
// True if something is mounted at directory `path` (it is on another device than its
// parent); false for a plain directory.
Result<bool> IsMountPoint(const std::string& path);

}  // namespace zdap::storage
