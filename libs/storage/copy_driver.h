// The `copy` driver: works on any file system, at the price of copying every byte.
//
//   volume    a plain directory
//   snapshot  the sealed volume directory, renamed (no data is copied)
//   clone     a full copy made by CopyTree (owners, modes, times, symlinks, hard links,
//             holes kept), written under clones/.tmp-<name>, synced, then renamed
//
// Read-only snapshots: the driver never writes into snapshots/ (it only reads them to clone
// and removes them whole), and permissions inside are left as they were, because clones must
// reproduce them exactly (a data directory is 0700 and owned by the database user). Nothing
// stops root or the owning user from writing there behind zdap's back; drivers with real
// copy-on-write (btrfs, ...) enforce it in the file system.
#pragma once

#include <memory>
#include <string>

#include "storage/dir_driver.h"
#include "storage/tree_copy.h"

namespace zdap::storage {

class CopyDriver : public DirDriver {
 public:
  // Prepares the layout under `root` and recovers from interrupted operations.
  static Result<std::unique_ptr<Driver>> Open(const std::string& root);

  const char* name() const override { return "copy"; }

 protected:
  explicit CopyDriver(std::string root) : DirDriver(std::move(root)) {}

  Status MakeEmptyVolume(const std::string& area_dir, const std::string& name) override;
  Status Freeze(const std::string& path) override;
  Status MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                   const std::string& name) override;
  Status Remove(const std::string& area_dir, const std::string& name) override;

  // Copies `snapshot_path` to clones_dir/.tmp-<name>, syncs, renames to clones_dir/<name>.
  Status CopyClone(const std::string& snapshot_path, const std::string& clones_dir,
                   const std::string& name, FileData data);
};

}  // namespace zdap::storage
