// The `btrfs` driver: every volume, snapshot and clone is a btrfs subvolume, handled with
// the subvolume ioctls (btrfs_ioctl.h). Clone and destroy are one ioctl each and take the
// same time for 100 MB as for 200 GB.
//
//   volume    a subvolume (BTRFS_IOC_SUBVOL_CREATE)
//   snapshot  the sealed volume's subvolume, flagged BTRFS_SUBVOL_RDONLY: the file system
//             refuses every write, even root's
//   clone     a writable snapshot of the snapshot (BTRFS_IOC_SNAP_CREATE_V2)
//   destroy   BTRFS_IOC_SNAP_DESTROY (the name goes at once; space is freed in background)
//
// Snapshot streams (driver.h): "btrfs" is `btrfs send` / `btrfs receive` (incremental with a
// base), "tar.zst" the directory drivers' default. A btrfs stream is received by
// `btrfs receive -C -e volumes/.recv-V` (a plain directory; chroot so that no path in the
// stream reaches outside it), which makes the read-only subvolume .recv-V/V with the
// sender's UUID as its received UUID; that is checked and moved to volumes/V. Recover
// destroys subvolumes left in a .recv- directory by a crash, then the directory.
//
// The store's root must be on btrfs. Nested subvolumes inside a volume are not supported
// (destroy would fail with "Directory not empty").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/dir_driver.h"

namespace zdap::storage {

class BtrfsDriver : public DirDriver {
 public:
  // Prepares the layout under `root` (on btrfs) and recovers from interrupted operations.
  static Result<std::unique_ptr<Driver>> Open(const std::string& root);

  const char* name() const override { return "btrfs"; }
  // A snapshot of a subvolume is one transaction; the kernel flushes delayed allocations
  // into it first, so it holds every write that returned before it.
  bool copies_live_volumes() const override { return true; }

  std::vector<std::string> stream_formats() const override;
  Result<std::unique_ptr<SnapshotSender>> SendSnapshot(const std::string& snapshot,
                                                       const std::string& format,
                                                       const std::string& base) override;
  Result<std::unique_ptr<SnapshotReceiver>> ReceiveSnapshot(const std::string& volume,
                                                            const std::string& format) override;
  // A received volume is read-only already; see MoveReadOnly.
  Status SealVolume(const std::string& volume, const std::string& snapshot) override;

 protected:
  explicit BtrfsDriver(std::string root) : DirDriver(std::move(root)) {}

  Status MakeEmptyVolume(const std::string& area_dir, const std::string& name) override;
  Status Freeze(const std::string& path) override;
  Status MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                   const std::string& name) override;
  // A plain directory is removed with the subvolumes directly in it (a receive's leftovers).
  Status Remove(const std::string& area_dir, const std::string& name) override;
  // Makes every published snapshot read-only (it is, unless someone flipped the flag).
  Status RecoverMore() override;
  // Data extents not shared with another subvolume (FIEMAP): a fresh clone owns none.
  Result<uint64_t> ExclusiveBytes(Area area, const std::string& name) const override;
};

}  // namespace zdap::storage
