// What a directory tree costs on disk, for Driver::UsedBytes. Both walk the tree by
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

}  // namespace zdap::storage
