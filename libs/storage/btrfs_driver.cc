#include "storage/btrfs_driver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_util.h"
#include "core/log.h"
#include "storage/btrfs_ioctl.h"
#include "storage/snapshot_stream.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"

namespace zdap::storage {

namespace {

// Moves read-only subvolume `from` to `to`, in another directory. Moving a directory to
// another parent rewrites its "..", a write the kernel refuses in a read-only subvolume
// (EROFS, even for root), so it is writable for the rename only. The flag is flipped by the
// ioctl, which keeps the received UUID (`btrfs property set ro false` clears it on purpose):
// an incremental receive finds its base by that UUID.
Status MoveReadOnly(const std::string& from, const std::string& to) {
  ZDAP_RETURN_IF_ERROR(btrfs::SetReadOnly(from, false));
  Status st = RenameNoReplace(from, to);
  Status frozen = btrfs::SetReadOnly(st.ok() ? to : from, true);
  ZDAP_RETURN_IF_ERROR(st);
  return frozen;
}

// Requires `path` to be a read-only subvolume, which `btrfs send` needs.
Status RequireSendable(const std::string& path, const std::string& snapshot) {
  ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(path));
  bool read_only = false;
  if (subvolume) {
    ZDAP_ASSIGN_OR_RETURN(read_only, btrfs::IsReadOnly(path));
  }
  if (!read_only) {
    return IoError(fmt::format(
        "snapshot '{}' ({}) is not a read-only btrfs subvolume (made by another driver?); send "
        "it as {}",
        snapshot, path, kStreamTarZstd));
  }
  return Status::Ok();
}

// A name from a stream, for a message: no control or odd bytes, not too long.
std::string Shown(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

// Destroys the subvolumes directly in the plain directory `dir`.
Status DestroySubvolumesIn(const std::string& dir) {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListHidden(dir, ""));
  for (const std::string& entry : entries) {
    ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(dir + "/" + entry));
    if (subvolume) ZDAP_RETURN_IF_ERROR(btrfs::DestroySubvolume(dir, entry));
  }
  return Status::Ok();
}

}  // namespace

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
  // A plain directory (made by hand or by another driver, or a btrfs receive's .recv-):
  // out of sight first, then removed. The subvolumes in it go first: to RemoveTree they are
  // other file systems (another st_dev), which it does not enter.
  if (name[0] != '.') {
    std::string trash = TrashPath(area_dir, name);
    ZDAP_RETURN_IF_ERROR(RenameNoReplace(path, trash));
    path = trash;
  }
  ZDAP_RETURN_IF_ERROR(DestroySubvolumesIn(path));
  return RemoveTree(path);
}

std::vector<std::string> BtrfsDriver::stream_formats() const {
  return {std::string(kStreamBtrfs), std::string(kStreamTarZstd)};
}

Result<std::unique_ptr<SnapshotSender>> BtrfsDriver::SendSnapshot(const std::string& snapshot,
                                                                  const std::string& format,
                                                                  const std::string& base) {
  if (format != kStreamBtrfs) return DirDriver::SendSnapshot(snapshot, format, base);
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  if (!base.empty()) ZDAP_RETURN_IF_ERROR(ValidateVolumeName(base));
  if (base == snapshot) {
    return InvalidArgument(fmt::format("snapshot '{}' cannot be its own base", snapshot));
  }
  std::string path = SnapshotPath(snapshot);
  ZDAP_RETURN_IF_ERROR(RequirePresent(path, "snapshot", snapshot));
  ZDAP_RETURN_IF_ERROR(RequireSendable(path, snapshot));
  // -q: stderr holds errors only, for the message if it fails.
  std::vector<std::string> argv = {"btrfs", "-q", "send"};
  uint64_t size_hint = 0;  // an increment's size is not known before it is made
  if (base.empty()) {
    ZDAP_ASSIGN_OR_RETURN(size_hint, FileBytes(path));
  } else {
    std::string base_path = SnapshotPath(base);
    ZDAP_RETURN_IF_ERROR(RequirePresent(base_path, "base snapshot", base));
    ZDAP_RETURN_IF_ERROR(RequireSendable(base_path, base));
    argv.insert(argv.end(), {"-p", base_path});
  }
  argv.push_back(path);
  return StartSender(std::move(argv), size_hint);
}

Result<std::unique_ptr<SnapshotReceiver>> BtrfsDriver::ReceiveSnapshot(const std::string& volume,
                                                                       const std::string& format) {
  if (format != kStreamBtrfs) return DirDriver::ReceiveSnapshot(volume, format);
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  ZDAP_RETURN_IF_ERROR(RequireAbsent(VolumePath(volume), "volume", volume));
  std::string hidden = std::string(kRecvPrefix) + volume;
  std::string tmp = AreaDir("volumes") + "/" + hidden;
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    if (errno == EEXIST)
      return Conflict(fmt::format("volume '{}' is being received already", volume));
    return ErrnoError(fmt::format("mkdir {}", tmp), errno);
  }
  ReceiveSteps steps;
  steps.publish = [this, tmp, volume]() -> Status {
    // btrfs receive names the subvolume after the sender's: snapshots/<id> arrives as <id>.
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> made, ListHidden(tmp, ""));
    if (made.size() != 1 || made[0] != volume) {
      std::vector<std::string> shown;
      for (const std::string& m : made) shown.push_back("'" + Shown(m) + "'");
      return IoError(fmt::format(
          "the btrfs stream for volume '{}' made {}, not one subvolume named '{}': a volume "
          "receives the stream of the snapshot of the same name",
          volume, shown.empty() ? "nothing" : fmt::format("{}", fmt::join(shown, ", ")), volume));
    }
    std::string received = tmp + "/" + volume;
    ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(received));
    bool read_only = false;
    if (subvolume) {
      ZDAP_ASSIGN_OR_RETURN(read_only, btrfs::IsReadOnly(received));
    }
    if (!read_only) {
      return IoError(
          fmt::format("btrfs receive left {} without making it a read-only subvolume", received));
    }
    ZDAP_RETURN_IF_ERROR(RefuseDeviceNodesIn(received));
    ZDAP_RETURN_IF_ERROR(SyncTree(received));
    Status st = MoveReadOnly(received, VolumePath(volume));
    if (st.code() == Code::kConflict) {
      return Conflict(fmt::format("volume '{}' appeared while it was received", volume));
    }
    ZDAP_RETURN_IF_ERROR(st);
    if (::rmdir(tmp.c_str()) != 0) {
      // Published already: the empty directory is for the next open to remove.
      log::Warn("storage: cannot remove {}: {}", tmp, std::strerror(errno));
    }
    return SyncDir(AreaDir("volumes"));
  };
  steps.discard = [this, hidden] { DiscardReceived(hidden); };
  // -C: chrooted into the directory, no path in the stream can reach outside it (the base of
  // an increment is still found, through a descriptor opened before). -e: done at the end
  // marker, so that a stream cut short at a command boundary is an error, not a success.
  return StartReceiver({"btrfs", "-q", "receive", "-C", "-e", tmp}, std::move(steps));
}

Status BtrfsDriver::SealVolume(const std::string& volume, const std::string& snapshot) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  // A received volume is read-only, and cannot move to snapshots/ so (see MoveReadOnly): it
  // is made writable for the seal's first rename, and Freeze makes it read-only again with
  // its received UUID. Nobody writes to it meanwhile: the caller seals a volume it is done
  // with.
  std::string path = VolumePath(volume);
  bool thawed = false;
  if (PathExists(path)) {
    ZDAP_ASSIGN_OR_RETURN(bool subvolume, btrfs::IsSubvolume(path));
    if (subvolume) {
      ZDAP_ASSIGN_OR_RETURN(bool read_only, btrfs::IsReadOnly(path));
      if (read_only) {
        ZDAP_RETURN_IF_ERROR(btrfs::SetReadOnly(path, false));
        thawed = true;
      }
    }
  }
  Status st = DirDriver::SealVolume(volume, snapshot);
  if (!st.ok() && thawed && PathExists(path)) (void)btrfs::SetReadOnly(path, true);
  return st;
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
