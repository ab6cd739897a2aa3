// What a directory tree costs on disk, for Driver::UsedBytes, and what a snapshot stream of it
// carries. All walk the tree by
// descriptor without following symlinks or crossing mount points, and count each inode once
// (hard links).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace zdap::storage {

// Sum of allocated blocks (st_blocks * 512) of every inode, directories included: a plain
// copy's cost, holes not counted.
Result<uint64_t> AllocatedBytes(const std::string& root);

// Sum of the data extents of regular files that the file system does not report as shared
// (FIEMAP without FIEMAP_EXTENT_SHARED): what a reflink or btrfs-snapshot clone costs
// beyond its snapshot. Extents not yet allocated (delayed allocation) count as exclusive;
// data inlined in metadata (btrfs small files) does not count.
Result<uint64_t> ExclusiveExtentBytes(const std::string& root);

// Apparent bytes of regular files (st_size, holes included) plus 1 KiB for each entry of the
// tree (what a stream spends on its name, attributes and padding): the size hint of a full
// snapshot stream (driver.h, SnapshotSender::size_hint), which a follower refuses a payload of
// more than twice of, so a tree of many small files must not be under-announced.
Result<uint64_t> FileBytes(const std::string& root);

// The path of the first character or block device node under `root`, or "" if there is none.
// A received snapshot must not carry one: a device node owned by a clone's database user
// would open a disk of this host to it.
Result<std::string> FindDeviceNode(const std::string& root);

}  // namespace zdap::storage
