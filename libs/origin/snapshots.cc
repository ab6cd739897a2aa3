#include "origin/snapshots.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/log.h"
#include "core/names.h"

namespace zdap::origin {
namespace {

// Metadata keys and values (storage VolumeMeta).
constexpr const char* kResourceKey = "resource";
constexpr const char* kStateKey = "state";
constexpr const char* kSealed = "sealed";
constexpr const char* kBranchOfKey = "branch_of";
// How a snapshot's fresh clones keep TCP closed until their password is set
// (engine::CloneLock). Absent in snapshots made before Engine::PrepareSnapshot, and in
// branches: both hold a password.
constexpr const char* kCloneLockKey = "clone_lock";
constexpr const char* kCloneLockNoPassword = "no-password";
constexpr const char* kDataAsOfKey = "data_as_of";  // RFC 3339
constexpr const char* kOriginKey = "origin";        // the origin it was pulled from

}  // namespace

Snapshots::Snapshots(Env& env, const ResourceSet& resources, storage::Driver& store,
                     const catalog::Catalog& catalog, const ObserverSlot* observer)
    : env_(env), resources_(resources), store_(store), catalog_(catalog), observer_(observer) {}

Result<std::vector<SnapshotInfo>> Snapshots::List(const std::string& resource) const {
  ZDAP_RETURN_IF_ERROR(resources_.Find(resource).status());
  ZDAP_ASSIGN_OR_RETURN(auto names, store_.ListSnapshots());
  auto clones = catalog_.List();
  std::vector<SnapshotInfo> out;
  for (const auto& n : names) {
    SnapshotId id;
    if (!ParseSnapshotId(n, &id).ok() || id.resource != resource) continue;
    SnapshotInfo info;
    info.id = n;
    info.created_at = ParseCompactUtc(id.stamp).value();
    KnownMeta known = Known(n);
    info.data_as_of = known.data_as_of;
    info.origin = std::move(known.origin);
    info.clones = static_cast<int>(
        std::count_if(clones.begin(), clones.end(),
                      [&](const catalog::CloneRecord& c) { return c.snapshot == n; }));
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.id > b.id; });
  return out;
}

Result<std::string> Snapshots::Resolve(const config::Resource& resource,
                                       const std::string& requested) const {
  if (requested.empty()) {
    ZDAP_ASSIGN_OR_RETURN(auto snaps, List(resource.name));
    if (snaps.empty()) {
      return Conflict(
          fmt::format("resource '{}' has no snapshot yet: refresh it first (zdapd refresh {})",
                      resource.name, resource.name));
    }
    return snaps.front().id;
  }
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(requested, &sid));
  if (sid.resource != resource.name || !env_.FileExists(store_.SnapshotPath(requested))) {
    return NotFound(fmt::format("snapshot '{}' not found", requested));
  }
  return requested;
}

std::string Snapshots::NewId(const std::string& resource) {
  // Ids have one-second resolution: two snapshots begun within one second (a refresh and a
  // branch, two branches) take consecutive seconds rather than wait for the clock, which a
  // test's clock may never move.
  std::lock_guard lock(ids_mu_);
  SystemTime t = std::chrono::floor<std::chrono::seconds>(env_.Now());
  if (auto it = last_id_.find(resource); it != last_id_.end() && t <= it->second) {
    t = it->second + std::chrono::seconds(1);
  }
  std::string id;
  for (;; t += std::chrono::seconds(1)) {
    id = resource + "@" + FormatCompactUtc(t);
    if (!env_.FileExists(store_.SnapshotPath(id)) && !env_.FileExists(store_.VolumePath(id))) {
      break;
    }
  }
  last_id_[resource] = t;
  return id;
}

Status Snapshots::Delete(const std::string& resource, const std::string& id,
                         const std::string& actor) {
  ZDAP_ASSIGN_OR_RETURN(auto snaps, List(resource));
  auto it =
      std::find_if(snaps.begin(), snaps.end(), [&](const SnapshotInfo& s) { return s.id == id; });
  if (it == snaps.end()) {
    return NotFound(
        fmt::format("snapshot '{}' of resource '{}' not found", id.substr(0, 80), resource));
  }
  if (it->clones > 0) {
    return Conflict(
        fmt::format("snapshot '{}' has {} clone(s); destroy them first", id, it->clones));
  }
  std::lock_guard lock(prune_mu_);
  ZDAP_RETURN_IF_ERROR(store_.DestroySnapshot(id));
  Forget(id);
  log::Info("snapshot {} deleted", id);
  ObserverSlot::Of(observer_)->SnapshotDeleted(resource, id, actor);
  return Status::Ok();
}

void Snapshots::Prune(const config::Resource& resource) {
  // Keep `keep` snapshots; an older one with clones stays until it has none.
  std::lock_guard lock(prune_mu_);
  auto snaps = List(resource.name);
  if (!snaps.ok()) return;
  for (size_t i = static_cast<size_t>(resource.keep); i < snaps->size(); ++i) {
    const auto& s = (*snaps)[i];
    if (s.clones > 0) continue;
    Status d = store_.DestroySnapshot(s.id);
    if (!d.ok()) {
      log::Warn("refresh {}: could not remove old snapshot {}: {}", resource.name, s.id,
                d.message());
      continue;
    }
    Forget(s.id);
    log::Info("refresh {}: removed old snapshot {}", resource.name, s.id);
    ObserverSlot::Of(observer_)->SnapshotDeleted(resource.name, s.id, "");
  }
}

Status Snapshots::WriteMeta(const std::string& id, const SnapshotMeta& meta) {
  storage::VolumeMeta m = {{kResourceKey, meta.resource}, {kStateKey, kSealed}};
  if (meta.clone_lock == engine::CloneLock::kNoPassword) m[kCloneLockKey] = kCloneLockNoPassword;
  if (!meta.branch_of.empty()) m[kBranchOfKey] = meta.branch_of;
  if (meta.data_as_of) m[kDataAsOfKey] = FormatRfc3339(*meta.data_as_of);
  if (!meta.origin.empty()) m[kOriginKey] = meta.origin;
  Status st = store_.WriteMeta(storage::Area::kSnapshot, id, m);
  Forget(id);  // after the write: a read that began before it must not be kept (Known)
  return st;
}

bool Snapshots::LacksMeta(const std::string& id) const {
  auto meta = store_.ReadMeta(storage::Area::kSnapshot, id);
  return meta.ok() && meta->empty();
}

engine::CloneLock Snapshots::FreshCloneLock(const std::string& id) const {
  return Known(id).clone_lock;
}

std::optional<SystemTime> Snapshots::DataAsOf(const std::string& id) const {
  return Known(id).data_as_of;
}

std::string Snapshots::OriginOf(const std::string& id) const {
  return Known(id).origin;
}

Snapshots::KnownMeta Snapshots::Known(const std::string& id) const {
  {
    std::lock_guard lock(known_mu_);
    if (auto it = known_.find(id); it != known_.end()) return it->second;
  }
  uint64_t generation;
  {
    std::lock_guard lock(known_mu_);
    generation = forgotten_;
  }
  KnownMeta known;
  auto meta = store_.ReadMeta(storage::Area::kSnapshot, id);
  if (!meta.ok()) return known;  // not kept: the next read may succeed
  if (auto it = meta->find(kCloneLockKey);
      it != meta->end() && it->second == kCloneLockNoPassword) {
    known.clone_lock = engine::CloneLock::kNoPassword;
  }
  if (auto it = meta->find(kDataAsOfKey); it != meta->end()) {
    if (auto t = ParseRfc3339(it->second); t.ok()) known.data_as_of = *t;
  }
  if (auto it = meta->find(kOriginKey); it != meta->end()) known.origin = it->second;
  std::lock_guard guard(known_mu_);
  // A record written (or a snapshot deleted) while this read ran may be newer than what it
  // read: kept only when nothing was forgotten meanwhile.
  if (forgotten_ == generation) known_[id] = known;
  return known;
}

void Snapshots::Forget(const std::string& id) {
  std::lock_guard guard(known_mu_);
  known_.erase(id);
  ++forgotten_;
}

}  // namespace zdap::origin
