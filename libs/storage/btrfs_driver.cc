#include "storage/btrfs_driver.h"

#include <fmt/format.h>

#include "core/file_util.h"
#include "core/log.h"
#include "storage/btrfs_ioctl.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"

namespace zdap::storage {

Result<std::unique_ptr<Driver>> BtrfsDriver::Open(const std::string& root) {
  ZDAP_RETURN_IF_ERROR(PrepareLayout(root));
  std::unique_ptr<BtrfsDriver> driver(new BtrfsDriver(root));
  ZDAP_RETURN_IF_ERROR(driver->Recover());
  return std::unique_ptr<Driver>(std::move(driver));
}

Status BtrfsDriver::MakeEmptyVolume(const std::string& area_dir, const std::string& name) {
  return btrfs::CreateSubvolume(area_dir, name);
}

Status BtrfsDriver::Freeze(const std::string& path) {
  ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(path));
  if (!subvolume) {
    return IoError(fmt::format("{} is not a btrfs subvolume (made by another driver?)", path));
  }
  return btrfs::SetReadOnly(path, true);
}

Status BtrfsDriver::MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                              const std::string& name) {
  ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(snapshot_path));
  if (!subvolume) {
    return IoError(
        fmt::format("{} is not a btrfs subvolume (made by another driver?)", snapshot_path));
  }
  // One transaction in the kernel: the clone exists whole or not at all.
  return btrfs::Snapshot(snapshot_path, clones_dir, name, /*read_only=*/false);
}

Status BtrfsDriver::Remove(const std::string& area_dir, const std::string& name) {
  std::string path = area_dir + "/" + name;
  ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(path));
  if (subvolume) return btrfs::DestroySubvolume(area_dir, name);
  // A plain directory (made by hand or by another driver): out of sight first, then removed.
  if (name[0] != '.') {
    std::string trash = TrashPath(area_dir, name);
    ZDAP_RETURN_IF_ERROR(RenameNoReplace(path, trash));
    path = trash;
  }
  return RemoveTree(path);
}

Result<uint64_t> BtrfsDriver::ExclusiveBytes(Area area, const std::string& name) const {
  return ExclusiveExtentBytes(AreaDir(AreaDirName(area)) + "/" + name);
}

Status BtrfsDriver::RecoverMore() {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> snapshots, ListSnapshots());
  for (const std::string& name : snapshots) {
    std::string path = SnapshotPath(name);
    ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(path));
    if (!subvolume) continue;
    ZDAP_ASSIGN_OR_RETURN(bool read_only, btrfs::IsReadOnly(path));
    if (!read_only) {
      log::Warn("storage: snapshot '{}' was writable; making it read-only", name);
      ZDAP_RETURN_IF_ERROR(btrfs::SetReadOnly(path, true));
    }
  }
  return Status::Ok();
}

}  // namespace zdap::storage
