// CopyTree: a recursive copy that keeps what a database server cares about: owners, modes
// (with setuid/setgid/sticky), timestamps, symlinks (not followed), hard links, sparse files,
// device nodes and fifos, and extended attributes where the file systems support them.
//
// Everything is done by descriptor (openat & co.), so a symlink planted in the source cannot
// redirect the copy. Mount points inside the source are not crossed: they are copied as
// empty directories (with a warning), like `cp -ax`.
#pragma once

#include <string>

#include "core/status.h"

namespace zdap::storage {

enum class FileData {
  kCopy,     // bytes are copied (sendfile between the data extents; holes stay holes)
  kReflink,  // ioctl FICLONE per file: shares extents; fails if the file system cannot
};

// Copies directory `src` to `dst`, which must not exist and is created with the metadata
// of `src`. On error `dst` may be left partly written: callers copy into a hidden temp name
// and remove it (see store_layout.h).
Status CopyTree(const std::string& src, const std::string& dst, FileData data);

}  // namespace zdap::storage
