// Storage layer: copy-on-write volumes under one root (SPEC "Layers of the core library").
//
// A store holds three kinds of volume, each a directory named by the caller:
//   volumes/<name>    writable, being filled (a refresh imports into one)
//   snapshots/<name>  read-only, immutable; made by sealing a volume
//   clones/<name>     writable copy-on-write copy of a snapshot
// Names are path components: the driver refuses anything but [A-Za-z0-9@._-] (no leading
// '.', at most 128 characters), so "chinook@20261122T030405Z" and "chinook-7f3a" are fine
// and "../x" is not.
//
// Ownership and modes of files are preserved by Clone (the database server runs as an
// unprivileged user and must own its data directory). Drivers are safe to use from several
// threads on different names; the caller serialises operations on the same name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::storage {

struct Space {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;  // available to zdap (statvfs f_bavail; zfs "available")
  uint64_t used_bytes = 0;  // taken by anything on the file system (zfs: by the dataset)
};

// The three areas of a store (see above).
enum class Area { kVolume, kSnapshot, kClone };
const char* AreaDirName(Area area);  // "volumes", "snapshots", "clones"
const char* AreaNoun(Area area);     // "volume", "snapshot", "clone"

// A small record kept with a volume and gone with it: resource, snapshot id, owner,
// created/expires, port, state... so that the store alone says what each volume is.
// Keys match [a-z0-9_.-]{1,64}; values are at most 1024 bytes without control characters; at
// most 64 entries. Directory drivers keep it in <root>/.meta/<area>/<name> (beside the
// volume, never inside it: a database server treats every subdirectory of its data dir
// as its own), zfs in user properties zdap:<key> of the volume's dataset.
using VolumeMeta = std::map<std::string, std::string>;
// InvalidArgument naming the bad key or value.
Status ValidateVolumeMeta(const VolumeMeta& meta);

// Snapshot streams (issue 23): a snapshot written as bytes on one origin and read back into a
// volume on another. Formats, by wire name (api/snapshot_stream.h):
//   "btrfs"    `btrfs send` / `btrfs receive`: the subvolume itself; with a base both sides
//              hold, only the difference from it
//   "tar.zst"  a tar of the snapshot's tree (numeric owners, modes, times, sparse files),
//              zstd-compressed: any driver to any driver
// A sender or receiver is a child process on a pipe; the caller moves the bytes (over HTTP).
// It must not outlive the Driver that made it. A write into a receiver whose child has
// exited (a bad stream) fails with EPIPE, and raises SIGPIPE unless the writing thread
// blocks or ignores it.
class SnapshotSender {
 public:
  // Kills the child if it still runs, and reaps it.
  virtual ~SnapshotSender() = default;
  // The read end of the pipe: the stream's bytes, then EOF.
  virtual int fd() const = 0;
  // The payload's expected size when known (a full stream: the snapshot's bytes of files), else 0.
  virtual uint64_t size_hint() const = 0;
  // After EOF: Ok if the child exited 0, else IoError with its last lines of stderr.
  virtual Status Finish() = 0;
};

class SnapshotReceiver {
 public:
  // Unless Finish succeeded: kills the child, reaps it, and removes what it made, so that no
  // volume, subvolume or temporary directory is left.
  virtual ~SnapshotReceiver() = default;
  // The write end of the pipe: the caller writes the stream's bytes.
  virtual int fd() const = 0;
  // Closes the write end and waits for the child. Ok: the volume named at ReceiveSnapshot
  // exists, whole, in volumes/ (already read-only for btrfs), ready for SealVolume. Error
  // (IoError with the child's last lines of stderr): nothing is left.
  virtual Status Finish() = 0;
};

struct StorageConfig {
  std::string driver = "auto";  // auto | btrfs | reflink | overlay | zfs | copy
  std::string path;             // root of the store; created if missing (not used by zfs)
  std::string dataset;          // zfs only: parent dataset, e.g. tank/zdap (SPEC daemon config)
};

class Driver {
 public:
  virtual ~Driver() = default;

  virtual const char* name() const = 0;  // "btrfs", "copy", ...
  const std::string& root() const { return root_; }

  // Creates an empty writable volume and returns its path. Conflict if it exists.
  virtual Result<std::string> CreateVolume(const std::string& name) = 0;
  // Turns volume `volume` into read-only snapshot `snapshot`; the volume is gone afterwards.
  // Atomic: after a crash either the volume or the snapshot exists, not both half-made.
  virtual Status SealVolume(const std::string& volume, const std::string& snapshot) = 0;
  // Makes writable clone `clone` of snapshot `snapshot`; returns its path.
  virtual Result<std::string> Clone(const std::string& snapshot, const std::string& clone) = 0;
  // Saves the current data of clone `clone` as new read-only snapshot `snapshot` (a branch);
  // the clone is left as it is. The caller keeps writers off the clone meanwhile (its server
  // is stopped). Atomic like SealVolume: a crash leaves a volume that recovery removes, or
  // the whole snapshot. Conflict if `snapshot` exists.
  virtual Status SnapshotClone(const std::string& clone, const std::string& snapshot) = 0;

  // Makes writable volume `copy` holding volume `volume`'s data as of one instant while its
  // writers go on: a crash-consistent image, what a power cut at that instant would have
  // left (a standby's snapshot, origin/replica_source.h). Only drivers whose file system
  // snapshots a live directory in one step can (copies_live_volumes()); the others answer
  // Unprocessable, since a copy file by file is not one instant. Conflict if `copy` exists.
  virtual bool copies_live_volumes() const { return false; }
  virtual Result<std::string> CopyLiveVolume(const std::string& volume, const std::string& copy);

  // Stream formats this driver sends and receives, best first. Default: {"tar.zst"}.
  virtual std::vector<std::string> stream_formats() const;
  // Starts writing snapshot `snapshot` as a `format` stream (one of stream_formats()).
  // `base`: "" for a full stream, else a snapshot here that the receiver holds too (btrfs:
  // the stream then holds only the difference; formats without increments refuse a base).
  // NotFound for a missing snapshot or base, InvalidArgument for a format it does not speak.
  virtual Result<std::unique_ptr<SnapshotSender>> SendSnapshot(const std::string& snapshot,
                                                               const std::string& format,
                                                               const std::string& base);
  // Starts reading a `format` stream into new volume `volume` (Conflict if it exists). A
  // btrfs stream must carry a subvolume named `volume`, and an incremental one a base this
  // store holds as a snapshot (btrfs finds it by its received UUID). Whatever the child
  // makes stays out of sight (a hidden name, removed by Recover after a crash) until Finish
  // publishes volumes/<volume>.
  virtual Result<std::unique_ptr<SnapshotReceiver>> ReceiveSnapshot(const std::string& volume,
                                                                    const std::string& format);

  virtual Status DestroyVolume(const std::string& name) = 0;
  // Conflict while the snapshot has clones (see ClonesOf).
  virtual Status DestroySnapshot(const std::string& name) = 0;
  virtual Status DestroyClone(const std::string& name) = 0;

  std::string VolumePath(const std::string& name) const { return root_ + "/volumes/" + name; }
  std::string SnapshotPath(const std::string& name) const { return root_ + "/snapshots/" + name; }
  std::string ClonePath(const std::string& name) const { return root_ + "/clones/" + name; }

  // Names present in each area, sorted. Leftovers of interrupted operations are not listed.
  virtual Result<std::vector<std::string>> ListVolumes() const = 0;
  virtual Result<std::vector<std::string>> ListSnapshots() const = 0;
  virtual Result<std::vector<std::string>> ListClones() const = 0;

  // Clones made from `snapshot`, sorted. DestroySnapshot refuses (Conflict, naming them)
  // while this is not empty.
  virtual Result<std::vector<std::string>> ClonesOf(const std::string& snapshot) const = 0;

  virtual Result<Space> StoreSpace() const = 0;

  // Replaces the metadata of an existing volume, snapshot or clone, atomically (a crash
  // leaves the old record or the new one). NotFound if there is no such volume. Sealing a
  // volume moves its metadata to the snapshot; Clone starts with none; destroying removes it.
  virtual Status WriteMeta(Area area, const std::string& name, const VolumeMeta& meta) = 0;
  // Its metadata; empty if none was written. NotFound if there is no such volume.
  virtual Result<VolumeMeta> ReadMeta(Area area, const std::string& name) const = 0;

  // Bytes that only this volume holds, i.e. what it costs and what destroying it frees:
  // data shared copy-on-write with its snapshot or other clones is not counted (a fresh
  // clone of a copy-on-write driver is ~0; one of `copy` is the snapshot's size). File
  // system metadata is not counted either.
  virtual Result<uint64_t> UsedBytes(Area area, const std::string& name) const = 0;

 protected:
  explicit Driver(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// Opens (creating the directory layout if needed) the store described by `config`.
// driver "auto" probes the file system at `path` and picks the best driver it supports,
// logging the choice and the reason.
Result<std::unique_ptr<Driver>> OpenStore(const StorageConfig& config);

// InvalidArgument unless `name` is a safe single path component (see above).
Status ValidateVolumeName(const std::string& name);

}  // namespace zdap::storage
