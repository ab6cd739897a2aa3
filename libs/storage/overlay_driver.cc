#include "storage/overlay_driver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "core/log.h"
#include "storage/overlay_mount.h"
#include "storage/probe.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"

namespace zdap::storage {

namespace {

// The merged root takes its owner, mode and times from the upper root: make them the
// snapshot's, so the clone's data directory looks exactly like the snapshot's.
Status CopyRootMetadata(const std::string& from, const std::string& to) {
  struct stat st;
  if (::stat(from.c_str(), &st) != 0) return ErrnoError(fmt::format("stat {}", from), errno);
  if (::chown(to.c_str(), st.st_uid, st.st_gid) != 0 && ::geteuid() == 0) {
    return ErrnoError(fmt::format("chown {}", to), errno);
  }
  if (::chmod(to.c_str(), st.st_mode & 07777) != 0) {
    return ErrnoError(fmt::format("chmod {}", to), errno);
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, 0) != 0) {
    return ErrnoError(fmt::format("utimes {}", to), errno);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Driver>> OverlayDriver::Open(const std::string& root) {
  if (root.find_first_of(",:\\") != std::string::npos) {
    return InvalidArgument(fmt::format(
        "storage driver overlay cannot use {}: the path contains ',', ':' or '\\'", root));
  }
  ZDAP_RETURN_IF_ERROR(PrepareLayout(root));
  Probe probe = ProbeOverlay(root + "/clones");
  if (!probe.supported) {
    return InvalidArgument(fmt::format(
        "storage driver overlay cannot mount overlays in {}: {}; run zdapd as root with the "
        "overlay module (modprobe overlay), or use driver auto or copy",
        root, probe.reason));
  }
  std::unique_ptr<OverlayDriver> driver(new OverlayDriver(root));
  ZDAP_RETURN_IF_ERROR(MakeDirs(driver->StateDir(), 0700));
  ZDAP_RETURN_IF_ERROR(driver->Recover());
  return std::unique_ptr<Driver>(std::move(driver));
}

Status OverlayDriver::Mount(const std::string& name) {
  std::string state = StateDir() + "/" + name;
  ZDAP_ASSIGN_OR_RETURN(std::string snapshot, ReadFile(state + "/snapshot", 4096));
  while (!snapshot.empty() && snapshot.back() == '\n') snapshot.pop_back();
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_RETURN_IF_ERROR(RequirePresent(SnapshotPath(snapshot), "snapshot", snapshot));
  return MountOverlay(SnapshotPath(snapshot), state + "/upper", state + "/work", ClonePath(name));
}

Status OverlayDriver::MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                                const std::string& name) {
  std::string tmp = StateDir() + "/" + std::string(kTempPrefix) + name;
  std::string state = StateDir() + "/" + name;
  if (PathExists(tmp)) ZDAP_RETURN_IF_ERROR(RemoveTree(tmp));
  Status st = MakeDirs(tmp + "/work", 0700);
  if (st.ok()) st = MakeDirs(tmp + "/upper", 0700);
  if (st.ok()) st = CopyRootMetadata(snapshot_path, tmp + "/upper");
  std::string snapshot = snapshot_path.substr(snapshot_path.rfind('/') + 1);
  if (st.ok()) st = WriteFileAtomic(tmp + "/snapshot", snapshot + "\n");
  if (st.ok()) st = RenameNoReplace(tmp, state);  // commit point
  if (!st.ok()) {
    (void)RemoveTree(tmp);
    return st;
  }
  std::string target = clones_dir + "/" + name;
  if (::mkdir(target.c_str(), 0755) != 0) {
    st = ErrnoError(fmt::format("mkdir {}", target), errno);
  } else {
    st = Mount(name);
    if (!st.ok()) ::rmdir(target.c_str());
  }
  if (!st.ok()) (void)RemoveTree(state);
  return st;
}

Status OverlayDriver::Remove(const std::string& area_dir, const std::string& name) {
  if (area_dir != AreaDir("clones")) return CopyDriver::Remove(area_dir, name);
  std::string path = area_dir + "/" + name;
  std::string state = StateDir() + "/" + name;
  std::string trash;
  if (name[0] != '.' && PathExists(state)) {
    trash = TrashPath(StateDir(), name);
    ZDAP_RETURN_IF_ERROR(RenameNoReplace(state, trash));  // the clone is going from here on
  }
  ZDAP_ASSIGN_OR_RETURN(bool mounted, IsMountPoint(path));
  if (mounted) ZDAP_RETURN_IF_ERROR(UnmountOverlay(path));
  if (name[0] == '.') ZDAP_RETURN_IF_ERROR(UnmountBelow(path));  // e.g. a probe's mount
  if (::rmdir(path.c_str()) != 0) {
    int err = errno;
    if (err != ENOTEMPTY && err != EEXIST) return ErrnoError(fmt::format("rmdir {}", path), err);
    // Not an overlay mount point: a leftover or a directory made by another driver.
    ZDAP_RETURN_IF_ERROR(CopyDriver::Remove(area_dir, name));
  }
  if (!trash.empty()) ZDAP_RETURN_IF_ERROR(RemoveTree(trash));
  return Status::Ok();
}

Result<uint64_t> OverlayDriver::ExclusiveBytes(Area area, const std::string& name) const {
  if (area != Area::kClone) return CopyDriver::ExclusiveBytes(area, name);
  return AllocatedBytes(StateDir() + "/" + name + "/upper");
}

Status OverlayDriver::RecoverMore() {
  std::string dir = StateDir();
  for (std::string_view prefix : {kTempPrefix, kTrashPrefix}) {
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> leftovers, ListHidden(dir, prefix));
    for (const std::string& entry : leftovers) {
      log::Info("storage: removing {}/{}, left by an interrupted operation", dir, entry);
      ZDAP_RETURN_IF_ERROR(RemoveTree(dir + "/" + entry));
    }
  }
  // Committed clones: make sure each is mounted (after a reboot none is).
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> states, ListArea(dir));
  for (const std::string& name : states) {
    std::string target = ClonePath(name);
    if (!PathExists(target) && ::mkdir(target.c_str(), 0755) != 0) {
      return ErrnoError(fmt::format("mkdir {}", target), errno);
    }
    ZDAP_ASSIGN_OR_RETURN(bool mounted, IsMountPoint(target));
    if (mounted) continue;
    log::Info("storage: mounting clone '{}'", name);
    Status st = Mount(name);
    if (!st.ok()) log::Error("storage: clone '{}' cannot be mounted: {}", name, st.ToString());
  }
  // Mount points whose state is gone: a destroy or a create that did not finish.
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> clones, ListClones());
  for (const std::string& name : clones) {
    if (PathExists(dir + "/" + name)) continue;
    std::string target = ClonePath(name);
    ZDAP_ASSIGN_OR_RETURN(bool mounted, IsMountPoint(target));
    if (mounted) ZDAP_RETURN_IF_ERROR(UnmountOverlay(target));
    if (::rmdir(target.c_str()) == 0) {
      log::Info("storage: removed clone '{}', whose creation or destruction was interrupted", name);
    } else {
      log::Warn("storage: clones/{} is not an overlay clone of this store; left alone", name);
    }
  }
  return Status::Ok();
}

}  // namespace zdap::storage
