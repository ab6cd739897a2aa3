// The `overlay` driver: clones are overlayfs mounts over the snapshot directory, so a clone
// costs one mount and copies a file only when it is first written (copy-up of the whole
// file: a database's 1 GB segment files are copied on their first write). Works on ext4
// and most local file systems; needs root and the overlay module.
//
//   volume    a plain directory; snapshot: the sealed volume, renamed (as in copy)
//   clone     clones/<name> is the mount point of lowerdir=snapshots/<snapshot>,
//             upperdir/workdir in <root>/.overlay/<name>/{upper,work}
//
// Crash protocol for a clone: the state is built in .overlay/.tmp-<name> and renamed to
// .overlay/<name> (the commit point), then clones/<name> is created and mounted. On open,
// committed state is (re)mounted (mounts do not survive a reboot), and a clones/<name>
// without state is unmounted and removed. Destroy renames the state to trash first.
//
// Snapshots are read-only by contract as in copy (copy_driver.h); they are also the lower
// layer of mounted clones, which overlayfs requires to stay unchanged.
#pragma once

#include <memory>
#include <string>

#include "storage/copy_driver.h"

namespace zdap::storage {

class OverlayDriver : public CopyDriver {
 public:
  // Fails, saying what to use instead, unless an overlay mount works in `root`.
  static Result<std::unique_ptr<Driver>> Open(const std::string& root);

  const char* name() const override { return "overlay"; }

 protected:
  explicit OverlayDriver(std::string root) : CopyDriver(std::move(root)) {}

  Status MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                   const std::string& name) override;
  // A volume is a plain directory: the clone's merged view is copied into it.
  Status MakeVolumeCopy(const std::string& clone_path, const std::string& volumes_dir,
                        const std::string& name) override {
    return CopyClone(clone_path, volumes_dir, name, FileData::kCopy);
  }
  Status Remove(const std::string& area_dir, const std::string& name) override;
  Status RecoverMore() override;
  // A clone owns its upper dir (files copied up on write); the rest is the snapshot's.
  Result<uint64_t> ExclusiveBytes(Area area, const std::string& name) const override;

 private:
  std::string StateDir() const { return root_ + "/.overlay"; }
  Status Mount(const std::string& name);
};

}  // namespace zdap::storage
