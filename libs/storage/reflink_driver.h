// The `reflink` driver: like `copy`, but every file of a clone shares its extents with the
// snapshot (ioctl FICLONE), so a clone costs metadata only and writes are copied on write
// by the file system. Needs XFS made with reflink=1 (the default of recent mkfs.xfs) or
// btrfs. Clone time grows with the number of files, not their size: a PostgreSQL data dir
// of 1 GB segment files clones in milliseconds.
//
// Layout, crash protocol and the read-only contract of snapshots are copy's
// (copy_driver.h): clones are built under clones/.tmp-<name> and renamed into place.
#pragma once

#include <memory>
#include <string>

#include "storage/copy_driver.h"

namespace zdap::storage {

class ReflinkDriver : public CopyDriver {
 public:
  // Fails, saying what to use instead, unless FICLONE works in `root`.
  static Result<std::unique_ptr<Driver>> Open(const std::string& root);

  const char* name() const override { return "reflink"; }

 protected:
  explicit ReflinkDriver(std::string root) : CopyDriver(std::move(root)) {}

  Status MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                   const std::string& name) override;
  // Data extents not shared by reflink (FIEMAP): a fresh clone owns none.
  Result<uint64_t> ExclusiveBytes(Area area, const std::string& name) const override;
};

}  // namespace zdap::storage
