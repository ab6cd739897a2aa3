// Thin wrappers over the btrfs subvolume ioctls of <linux/btrfs.h>. They replace forking
// `btrfs subvolume ...` (a process start per operation) and give errno-precise errors.
// Paths are absolute; `parent` is the directory that holds (or will hold) the subvolume.
#pragma once

#include <string>

#include "core/result.h"

namespace zdap::storage::btrfs {

// True if `path` is the root directory of a btrfs subvolume.
Result<bool> IsSubvolume(const std::string& path);
// BTRFS_IOC_SUBVOL_CREATE: empty subvolume parent/name. Conflict if the name exists.
Status CreateSubvolume(const std::string& parent, const std::string& name);
// BTRFS_IOC_SNAP_CREATE_V2: snapshot of subvolume `source` as parent/name, read-only or not.
Status Snapshot(const std::string& source, const std::string& parent, const std::string& name,
                bool read_only);
// BTRFS_IOC_SNAP_DESTROY of parent/name (works for read-only ones; we are root).
Status DestroySubvolume(const std::string& parent, const std::string& name);
// BTRFS_IOC_SUBVOL_{GET,SET}FLAGS with BTRFS_SUBVOL_RDONLY.
Result<bool> IsReadOnly(const std::string& path);
Status SetReadOnly(const std::string& path, bool read_only);

}  // namespace zdap::storage::btrfs
