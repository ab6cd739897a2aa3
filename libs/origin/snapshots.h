// Snapshots: the sealed, read-only images of each resource that clones are made from. A
// snapshot's id is <resource>@<UTC stamp> (core/names.h), so ids sort by age; its clone count
// is the catalog's. Kept with each snapshot (storage VolumeMeta): its resource, whether a
// branch made it, and how its fresh clones may start (engine::CloneLock), read once and then
// remembered (zfs: a `zfs get` per read). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/env.h"
#include "core/result.h"
#include "core/time.h"
#include "engine/engine.h"
#include "origin/observer.h"
#include "origin/resource_set.h"
#include "storage/driver.h"

namespace zdap::origin {

struct SnapshotInfo {
  std::string id;
  SystemTime created_at;
  std::optional<SystemTime> data_as_of;  // how current its data is, where the source says
  std::string origin;                    // pulled from another origin: its name; "" = made here
  int clones = 0;
};

// What is kept with a snapshot besides its data.
struct SnapshotMeta {
  std::string resource;
  // kNoPassword: Engine::PrepareSnapshot readied it, so its fresh clones start without one.
  engine::CloneLock clone_lock = engine::CloneLock::kConfig;
  std::string branch_of;  // a branch: the clone whose data it is
  // When the data was current: a dump file's mtime, the start of a command, script or live
  // dump; a branch: when it was made. Unset when unknown (snapshots made before it was kept).
  std::optional<SystemTime> data_as_of;
  // Pulled from another origin (origin/origin_pull.h): that origin's name. "" = made here.
  std::string origin;
};

class Snapshots {
 public:
  Snapshots(Env& env, const ResourceSet& resources, storage::Driver& store,
            const catalog::Catalog& catalog, const ObserverSlot* observer = nullptr);

  // The resource's snapshots, newest first. NotFound for an unknown resource.
  Result<std::vector<SnapshotInfo>> List(const std::string& resource) const;
  // `requested` checked to be a snapshot of `resource` (NotFound otherwise), or when "" its
  // newest (Conflict, saying to refresh, when it has none).
  Result<std::string> Resolve(const config::Resource& resource, const std::string& requested) const;
  // An id for a new snapshot of `resource`: the current second's stamp, or the next one that
  // no snapshot or volume has and this process has not handed out. Never waits.
  std::string NewId(const std::string& resource);
  // NotFound for an unknown id, Conflict while clones use it.
  Status Delete(const std::string& resource, const std::string& id, const std::string& actor = "");
  // Removes snapshots past the resource's `refresh.keep`, newest kept; one with clones stays.
  void Prune(const config::Resource& resource);

  // Best effort: the snapshot is whole without it (its clones then take the kConfig start).
  Status WriteMeta(const std::string& id, const SnapshotMeta& meta);
  // True if the store read `id`'s metadata and found none (a branch that a crash cut short
  // before its metadata was written).
  bool LacksMeta(const std::string& id) const;
  // How the snapshot's fresh clones start: kNoPassword when its metadata says so.
  engine::CloneLock FreshCloneLock(const std::string& id) const;
  // Its metadata's data_as_of; unset when unknown.
  std::optional<SystemTime> DataAsOf(const std::string& id) const;
  // Its metadata's origin: "" when made here.
  std::string OriginOf(const std::string& id) const;

 private:
  Env& env_;
  const ResourceSet& resources_;
  storage::Driver& store_;
  const catalog::Catalog& catalog_;
  const ObserverSlot* observer_;  // told of each snapshot deleted
  std::mutex prune_mu_;           // one removal at a time (refresh end, clone destroy, DELETE)
  std::mutex ids_mu_;
  std::map<std::string, SystemTime> last_id_;  // by resource: the newest stamp handed out
  // What a snapshot's metadata says, read once: listings and clone starts stay off the disk.
  struct KnownMeta {
    engine::CloneLock clone_lock = engine::CloneLock::kConfig;
    std::optional<SystemTime> data_as_of;
    std::string origin;
  };
  // The snapshot's KnownMeta; kept only when the store could read it.
  KnownMeta Known(const std::string& id) const;
  void Forget(const std::string& id);  // its id may come again
  mutable std::mutex known_mu_;
  mutable std::map<std::string, KnownMeta> known_;  // by snapshot
  uint64_t forgotten_ = 0;  // Forget calls so far: a read older than the last is not kept
};

}  // namespace zdap::origin
