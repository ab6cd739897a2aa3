#include "storage/dir_driver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "core/log.h"
#include "core/unique_fd.h"
#include "storage/snapshot_stream.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"
#include "storage/volume_meta.h"

namespace zdap::storage {

Result<std::string> DirDriver::CreateVolume(const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  std::string path = VolumePath(name);
  ZDAP_RETURN_IF_ERROR(RequireAbsent(path, "volume", name));
  Status st = MakeEmptyVolume(AreaDir("volumes"), name);
  if (st.code() == Code::kConflict)
    return Conflict(fmt::format("volume '{}' already exists", name));
  ZDAP_RETURN_IF_ERROR(st);
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("volumes")));
  return path;
}

Status DirDriver::SealVolume(const std::string& volume, const std::string& snapshot) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_RETURN_IF_ERROR(RequirePresent(VolumePath(volume), "volume", volume));
  std::string final_path = SnapshotPath(snapshot);
  ZDAP_RETURN_IF_ERROR(RequireAbsent(final_path, "snapshot", snapshot));
  std::string sealing = AreaDir("snapshots") + "/" + std::string(kSealingPrefix) + snapshot;
  if (PathExists(sealing)) {
    return Conflict(fmt::format("snapshot '{}' is being sealed already", snapshot));
  }
  // The volume's metadata goes to the snapshot before the commit point (a crash before it
  // leaves an orphan record, pruned on open) and leaves the volume after it.
  std::string volume_meta = MetaPath(Area::kVolume, volume);
  std::string snapshot_meta = MetaPath(Area::kSnapshot, snapshot);
  bool have_meta = PathExists(volume_meta);
  if (have_meta) {
    ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(volume_meta, 1 << 20));
    ZDAP_RETURN_IF_ERROR(WriteFileAtomic(snapshot_meta, text));
  }
  auto undo_meta = [&] {
    if (have_meta) ::unlink(snapshot_meta.c_str());
  };
  // The first rename is the commit point: from here on recovery finishes the seal.
  // (btrfs refuses to move a read-only subvolume to another directory, hence freezing
  // between two renames instead of before one.)
  if (Status st = RenameNoReplace(VolumePath(volume), sealing); !st.ok()) {
    undo_meta();
    return st;
  }
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("volumes")));
  if (Status frozen = Freeze(sealing); !frozen.ok()) {
    // Put the volume back rather than leave it for recovery to seal on the next open.
    if (RenameNoReplace(sealing, VolumePath(volume)).ok()) undo_meta();
    return frozen.Wrap(fmt::format("seal volume '{}'", volume));
  }
  Status st = RenameNoReplace(sealing, final_path);
  if (st.code() == Code::kConflict) {
    return Conflict(
        fmt::format("snapshot '{}' appeared while sealing volume '{}'", snapshot, volume));
  }
  ZDAP_RETURN_IF_ERROR(st);
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("snapshots")));
  return RemoveMeta(Area::kVolume, volume);
}

Result<std::string> DirDriver::Clone(const std::string& snapshot, const std::string& clone) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(clone));
  ZDAP_RETURN_IF_ERROR(RequirePresent(SnapshotPath(snapshot), "snapshot", snapshot));
  std::string path = ClonePath(clone);
  ZDAP_RETURN_IF_ERROR(RequireAbsent(path, "clone", clone));
  // A clone never takes a snapshot's name: whoever later asks to destroy "x" must not be
  // able to hit the wrong kind of volume by a mix-up of areas.
  if (PathExists(SnapshotPath(clone))) {
    return Conflict(fmt::format("clone name '{}' is taken by a snapshot", clone));
  }
  // The record goes first: a snapshot must never lose a clone it does not know about.
  std::string origin = OriginsDir() + "/" + clone;
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(origin, snapshot + "\n"));
  Status st = MakeClone(SnapshotPath(snapshot), AreaDir("clones"), clone);
  if (!st.ok()) ::unlink(origin.c_str());
  if (st.code() == Code::kConflict)
    return Conflict(fmt::format("clone '{}' already exists", clone));
  ZDAP_RETURN_IF_ERROR(st.ok() ? st : st.Wrap(fmt::format("clone snapshot '{}'", snapshot)));
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("clones")));
  return path;
}

Result<std::string> DirDriver::CopyLiveVolume(const std::string& volume, const std::string& copy) {
  if (!copies_live_volumes()) return Driver::CopyLiveVolume(volume, copy);
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(copy));
  ZDAP_RETURN_IF_ERROR(RequirePresent(VolumePath(volume), "volume", volume));
  ZDAP_RETURN_IF_ERROR(RequireAbsent(VolumePath(copy), "volume", copy));
  ZDAP_RETURN_IF_ERROR(MakeVolumeCopy(VolumePath(volume), AreaDir("volumes"), copy));
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("volumes")));
  return VolumePath(copy);
}

Status DirDriver::SnapshotClone(const std::string& clone, const std::string& snapshot) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(clone));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_RETURN_IF_ERROR(RequirePresent(ClonePath(clone), "clone", clone));
  ZDAP_RETURN_IF_ERROR(RequireAbsent(SnapshotPath(snapshot), "snapshot", snapshot));
  ZDAP_RETURN_IF_ERROR(RequireAbsent(VolumePath(snapshot), "volume", snapshot));
  // A volume first (what a crash leaves is an unsealed volume, removed by the owner's
  // recovery), then the usual seal.
  Status st = MakeVolumeCopy(ClonePath(clone), AreaDir("volumes"), snapshot);
  if (!st.ok()) return st.Wrap(fmt::format("copy clone '{}'", clone));
  ZDAP_RETURN_IF_ERROR(SyncDir(AreaDir("volumes")));
  st = SealVolume(snapshot, snapshot);
  if (!st.ok()) (void)Destroy(Area::kVolume, snapshot);
  return st;
}

Result<std::unique_ptr<SnapshotReceiver>> DirDriver::ReceiveSnapshot(const std::string& volume,
                                                                     const std::string& format) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  if (format != kStreamTarZstd) {
    return InvalidArgument(fmt::format("the {} store cannot receive a '{}' stream; it receives {}",
                                       name(), format, fmt::join(stream_formats(), ", ")));
  }
  ZDAP_RETURN_IF_ERROR(RequireAbsent(VolumePath(volume), "volume", volume));
  std::string volumes = AreaDir("volumes");
  std::string hidden = std::string(kRecvPrefix) + volume;
  // Made as any empty volume (a subvolume on btrfs), so that it is one once renamed.
  Status made = MakeEmptyVolume(volumes, hidden);
  if (made.code() == Code::kConflict) {
    return Conflict(fmt::format("volume '{}' is being received already", volume));
  }
  ZDAP_RETURN_IF_ERROR(made);
  std::string tmp = volumes + "/" + hidden;
  ReceiveSteps steps;
  steps.publish = [this, tmp, volume]() -> Status {
    ZDAP_RETURN_IF_ERROR(RefuseDeviceNodesIn(tmp));
    ZDAP_RETURN_IF_ERROR(SyncTree(tmp));
    return PublishReceived(tmp, volume);
  };
  steps.discard = [this, hidden] { DiscardReceived(hidden); };
  return StartReceiver(TarReceiveCommand(tmp), std::move(steps));
}

Status DirDriver::RefuseDeviceNodesIn(const std::string& path) const {
  ZDAP_ASSIGN_OR_RETURN(std::string device, FindDeviceNode(path));
  if (device.empty()) return Status::Ok();
  return Unprocessable(fmt::format(
      "the snapshot stream holds a device node ({}); a snapshot of a database has none, and a "
      "clone must not get one",
      device.substr(path.size() + 1)));
}

Status DirDriver::SyncTree(const std::string& path) {
  // The rename that publishes it must not become durable before the data it publishes.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::syncfs(fd.get()) != 0) {
    return ErrnoError(fmt::format("sync {}", path), errno);
  }
  return Status::Ok();
}

Status DirDriver::PublishReceived(const std::string& tmp, const std::string& volume) {
  Status st = RenameNoReplace(tmp, VolumePath(volume));
  if (st.code() == Code::kConflict) {
    return Conflict(fmt::format("volume '{}' appeared while it was received", volume));
  }
  ZDAP_RETURN_IF_ERROR(st);
  return SyncDir(AreaDir("volumes"));
}

void DirDriver::DiscardReceived(const std::string& hidden) {
  std::string volumes = AreaDir("volumes");
  if (!PathExists(volumes + "/" + hidden)) return;
  if (Status st = Remove(volumes, hidden); !st.ok()) {
    log::Warn("storage: cannot remove {}/{} of a failed receive ({}); the next open removes it",
              volumes, hidden, st.ToString());
  }
}

Status DirDriver::Destroy(Area area, const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  const char* what = AreaNoun(area);
  std::string dir = AreaDir(AreaDirName(area));
  ZDAP_RETURN_IF_ERROR(RequirePresent(dir + "/" + name, what, name));
  if (area == Area::kSnapshot) {
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> clones, ClonesOf(name));
    if (!clones.empty()) {
      return Conflict(fmt::format("snapshot '{}' has clones ({}); destroy them first", name,
                                  fmt::join(clones, ", ")));
    }
  }
  Status st = Remove(dir, name);
  if (!st.ok()) return st.Wrap(fmt::format("destroy {} '{}'", what, name));
  if (area == Area::kClone) {
    std::string origin = OriginsDir() + "/" + name;
    if (::unlink(origin.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(fmt::format("remove {}", origin), errno);
    }
  }
  ZDAP_RETURN_IF_ERROR(RemoveMeta(area, name));
  return SyncDir(dir);
}

Status DirDriver::RemoveMeta(Area area, const std::string& name) {
  std::string path = MetaPath(area, name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(fmt::format("remove {}", path), errno);
  }
  return Status::Ok();
}

Status DirDriver::WriteMeta(Area area, const std::string& name, const VolumeMeta& meta) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeMeta(meta));
  ZDAP_RETURN_IF_ERROR(
      RequirePresent(AreaDir(AreaDirName(area)) + "/" + name, AreaNoun(area), name));
  return WriteFileAtomic(MetaPath(area, name), FormatVolumeMeta(meta));
}

Result<VolumeMeta> DirDriver::ReadMeta(Area area, const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  ZDAP_RETURN_IF_ERROR(
      RequirePresent(AreaDir(AreaDirName(area)) + "/" + name, AreaNoun(area), name));
  std::string path = MetaPath(area, name);
  if (!PathExists(path)) return VolumeMeta{};
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 20));
  return ParseVolumeMeta(text, path);
}

Result<uint64_t> DirDriver::UsedBytes(Area area, const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  ZDAP_RETURN_IF_ERROR(
      RequirePresent(AreaDir(AreaDirName(area)) + "/" + name, AreaNoun(area), name));
  return ExclusiveBytes(area, name);
}

Result<uint64_t> DirDriver::ExclusiveBytes(Area area, const std::string& name) const {
  return AllocatedBytes(AreaDir(AreaDirName(area)) + "/" + name);
}

Status DirDriver::PruneMeta() {
  for (Area area : {Area::kVolume, Area::kSnapshot, Area::kClone}) {
    std::string dir = root_ + "/.meta/" + AreaDirName(area);
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> records, ListHidden(dir, ""));
    for (const std::string& record : records) {
      if (record[0] != '.' && PathExists(AreaDir(AreaDirName(area)) + "/" + record)) continue;
      std::string path = dir + "/" + record;
      log::Info("storage: removing {}, metadata of a volume that is gone", path);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return ErrnoError(fmt::format("remove {}", path), errno);
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<std::string>> DirDriver::ClonesOf(const std::string& snapshot) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> clones, ListClones());
  std::vector<std::string> out;
  for (const std::string& clone : clones) {
    auto text = ReadFile(OriginsDir() + "/" + clone, 4096);
    if (!text.ok()) continue;  // a clone made before records existed: origin unknown
    std::string s = *text;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    if (s == snapshot) out.push_back(clone);
  }
  return out;
}

Status DirDriver::PruneOrigins() {
  std::string dir = OriginsDir();
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> records,
                        ListHidden(dir, ""));  // every entry, temp files included
  for (const std::string& record : records) {
    if (record[0] != '.' && PathExists(ClonePath(record))) continue;
    std::string path = dir + "/" + record;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(fmt::format("remove {}", path), errno);
    }
  }
  return Status::Ok();
}

Status DirDriver::DestroyVolume(const std::string& name) {
  return Destroy(Area::kVolume, name);
}
Status DirDriver::DestroySnapshot(const std::string& name) {
  return Destroy(Area::kSnapshot, name);
}
Status DirDriver::DestroyClone(const std::string& name) {
  return Destroy(Area::kClone, name);
}

Result<std::vector<std::string>> DirDriver::ListVolumes() const {
  return ListArea(AreaDir("volumes"));
}
Result<std::vector<std::string>> DirDriver::ListSnapshots() const {
  return ListArea(AreaDir("snapshots"));
}
Result<std::vector<std::string>> DirDriver::ListClones() const {
  return ListArea(AreaDir("clones"));
}

Result<Space> DirDriver::StoreSpace() const {
  return SpaceOf(root_);
}

Status DirDriver::Recover() {
  ZDAP_RETURN_IF_ERROR(MakeDirs(OriginsDir(), 0755));
  for (Area area : {Area::kVolume, Area::kSnapshot, Area::kClone}) {
    ZDAP_RETURN_IF_ERROR(MakeDirs(root_ + "/.meta/" + AreaDirName(area), 0700));
  }
  for (const char* area : kAreas) {
    std::string dir = AreaDir(area);
    for (std::string_view prefix : {kTempPrefix, kTrashPrefix, kRecvPrefix}) {
      ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> leftovers, ListHidden(dir, prefix));
      for (const std::string& entry : leftovers) {
        log::Info("storage: removing {}/{}, left by an interrupted operation", dir, entry);
        ZDAP_RETURN_IF_ERROR(Remove(dir, entry));
      }
    }
  }
  std::string snapshots = AreaDir("snapshots");
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> sealing, ListHidden(snapshots, kSealingPrefix));
  for (const std::string& entry : sealing) {
    std::string name = entry.substr(kSealingPrefix.size());
    std::string path = snapshots + "/" + entry;
    if (!ValidateVolumeName(name).ok() || PathExists(snapshots + "/" + name)) {
      log::Warn("storage: removing {}: its seal cannot be finished", path);
      ZDAP_RETURN_IF_ERROR(Remove(snapshots, entry));
      continue;
    }
    log::Info("storage: finishing the interrupted seal of snapshot '{}'", name);
    ZDAP_RETURN_IF_ERROR(Freeze(path));
    ZDAP_RETURN_IF_ERROR(RenameNoReplace(path, snapshots + "/" + name));
  }
  ZDAP_RETURN_IF_ERROR(SyncDir(snapshots));
  ZDAP_RETURN_IF_ERROR(RecoverMore());
  ZDAP_RETURN_IF_ERROR(PruneOrigins());
  return PruneMeta();
}

}  // namespace zdap::storage
