// DirDriver: the part shared by drivers whose store is a directory tree under one root
// (btrfs, copy; later reflink and overlay). It owns name checks, existence rules, listing,
// space and the crash-safe protocol; subclasses say how a volume is made, frozen, cloned
// and removed.
//
// Protocol (hidden names are described in store_layout.h):
//   seal:    volumes/V -> snapshots/.sealing-S (rename), Freeze, -> snapshots/S (rename)
//   clone:   MakeClone publishes clones/C atomically (one ioctl, or copy to .tmp-C + rename)
//   destroy: Remove makes the name disappear atomically (one ioctl, or rename to .trash-*)
//   receive: the stream is applied in volumes/.recv-V, renamed to volumes/V once whole
// Recover(), run by OpenStore, finishes seals and removes temp, trash and receive entries, so
// that a crash at any point leaves the old state or the new one.
//
// Each clone's snapshot is recorded in <root>/.origins/<clone> (written atomically before
// the clone is made, removed after it is destroyed; records without a clone are pruned on
// open), so that a snapshot with clones is refused destruction with the clones' names.
//
// Volume metadata lives in <root>/.meta/<area>/<name> (WriteFileAtomic). Seal writes the
// snapshot's record before its commit point and removes the volume's after it; records
// whose volume is gone (and temp files) are pruned on open, after seals are finished.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "storage/driver.h"

namespace zdap::storage {

class DirDriver : public Driver {
 public:
  Result<std::string> CreateVolume(const std::string& name) override;
  Status SealVolume(const std::string& volume, const std::string& snapshot) override;
  Result<std::string> Clone(const std::string& snapshot, const std::string& clone) override;
  Status SnapshotClone(const std::string& clone, const std::string& snapshot) override;
  Result<std::string> CopyLiveVolume(const std::string& volume, const std::string& copy) override;
  // tar.zst into volumes/.recv-<volume> (made by MakeEmptyVolume), renamed on success.
  Result<std::unique_ptr<SnapshotReceiver>> ReceiveSnapshot(const std::string& volume,
                                                            const std::string& format) override;
  Status DestroyVolume(const std::string& name) override;
  Status DestroySnapshot(const std::string& name) override;
  Status DestroyClone(const std::string& name) override;
  Result<std::vector<std::string>> ListVolumes() const override;
  Result<std::vector<std::string>> ListSnapshots() const override;
  Result<std::vector<std::string>> ListClones() const override;
  Result<Space> StoreSpace() const override;
  Result<std::vector<std::string>> ClonesOf(const std::string& snapshot) const override;
  Status WriteMeta(Area area, const std::string& name, const VolumeMeta& meta) override;
  Result<VolumeMeta> ReadMeta(Area area, const std::string& name) const override;
  Result<uint64_t> UsedBytes(Area area, const std::string& name) const override;

  // Finishes or undoes what an interrupted process left behind; called once on open, before
  // the store is used.
  Status Recover();

 protected:
  explicit DirDriver(std::string root) : Driver(std::move(root)) {}

  std::string AreaDir(const char* area) const { return root_ + "/" + area; }
  std::string OriginsDir() const { return root_ + "/.origins"; }
  std::string MetaPath(Area area, const std::string& name) const {
    return root_ + "/.meta/" + AreaDirName(area) + "/" + name;
  }

  // Creates the empty writable directory area_dir/name (Conflict if it exists).
  virtual Status MakeEmptyVolume(const std::string& area_dir, const std::string& name) = 0;
  // Makes the directory at `path` read-only in whatever way the driver can. Idempotent.
  virtual Status Freeze(const std::string& path) = 0;
  // Publishes clones_dir/name as a writable copy of `snapshot_path`, all or nothing.
  virtual Status MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                           const std::string& name) = 0;
  // Publishes volumes_dir/name as a writable copy of the clone at `clone_path`, all or
  // nothing; by default as MakeClone does (a clone of a clone).
  virtual Status MakeVolumeCopy(const std::string& clone_path, const std::string& volumes_dir,
                                const std::string& name) {
    return MakeClone(clone_path, volumes_dir, name);
  }
  // Removes area_dir/name (a published name or a hidden leftover) so that the name is gone
  // at once even if the space is reclaimed later.
  virtual Status Remove(const std::string& area_dir, const std::string& name) = 0;
  // Driver-specific recovery, after the shared one.
  virtual Status RecoverMore() { return Status::Ok(); }
  // UsedBytes of the existing volume `name` in `area`; by default its allocated blocks
  // (a plain directory owns all its data).
  virtual Result<uint64_t> ExclusiveBytes(Area area, const std::string& name) const;

  // Steps of a receive (ReceiveSnapshot), for drivers that receive other formats too.
  // Unprocessable if the received tree at `path` holds a device node (space_usage.h).
  Status RefuseDeviceNodesIn(const std::string& path) const;
  // syncfs of the file system holding `path`.
  static Status SyncTree(const std::string& path);
  // Renames the received tree `tmp` to volumes/<volume> (Conflict if it exists).
  Status PublishReceived(const std::string& tmp, const std::string& volume);
  // Removes volumes/<hidden> (a .recv- entry) if it exists; logs a failure (Recover retries).
  void DiscardReceived(const std::string& hidden);

 private:
  Status Destroy(Area area, const std::string& name);
  Status PruneOrigins();
  Status PruneMeta();
  // Removes the metadata record of a destroyed volume.
  Status RemoveMeta(Area area, const std::string& name);
};

}  // namespace zdap::storage
