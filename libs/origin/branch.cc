// Origin::BranchClone: a clone's current data saved as a new snapshot of its resource.
//
// Consistency: the clone's server is stopped cleanly (postgres: fast shutdown, which ends
// with a checkpoint; MariaDB: a normal shutdown that flushes InnoDB), the data is copied
// into a new snapshot by the store (btrfs: one subvolume snapshot; reflink: shared extents;
// overlay and copy: a copy), and the server is started again on the same port with the same
// password. The snapshot is thus a clean shutdown's data directory, like a refresh's, on
// every storage driver; clients connected during the branch are disconnected and reconnect.
// A running server's files copied one by one would not be a consistent image, so no driver
// copies while the server runs.
//
// Journalled ("branch", with the snapshot it makes) before the server stops. After a crash
// Recover() keeps a snapshot the store finished (SnapshotClone is atomic), removes what a
// copy cut short left, and the clone's server is started again (RecoverEntry).
#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "origin/busy.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

storage::VolumeMeta Origin::BranchMeta(const config::Resource& resource, const std::string& clone) {
  return {{"resource", resource.name}, {"state", "sealed"}, {"branch_of", clone}};
}

Result<SnapshotInfo> Origin::BranchClone(const std::string& id, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, GetClone(id, caller));
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(rec.resource));
  BusyGuard busy(busy_mu_, busy_, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  ZDAP_ASSIGN_OR_RETURN(rec, GetClone(id, caller));
  if (rec.state != CloneState::kReady) {
    return Conflict(
        fmt::format("clone '{}' is {}, not ready", id, catalog::CloneStateName(rec.state)));
  }
  auto started = SteadyClock::now();
  std::string snapshot = NewSnapshotId(*res);
  ZDAP_ASSIGN_OR_RETURN(
      JournalEntry entry,
      journal_->Begin("branch", id,
                      {{"clone", id}, {"resource", res->name}, {"snapshot", snapshot}}));
  auto over = [&] {
    if (Status done = journal_->Commit(entry); !done.ok()) {
      log::Error("branch {}: journal: {}", id, done.message());
    }
  };
  if (Status st = StopCloneServer(&rec, *res); !st.ok()) {
    over();
    return st.Wrap(fmt::format("branch {}: stop", id));
  }
  Status saved = store_->SnapshotClone(rec.Volume(), snapshot);
  if (saved.ok()) {
    Status meta = store_->WriteMeta(storage::Area::kSnapshot, snapshot, BranchMeta(*res, id));
    if (!meta.ok()) log::Warn("branch {}: snapshot metadata: {}", id, meta.message());
    if (Status s = journal_->Step(&entry, "saved"); !s.ok()) {
      log::Warn("branch {}: journal step: {}", id, s.message());
    }
  }
  Status restarted = StartCloneServer(&rec, *res);
  if (!restarted.ok()) {
    rec.state = CloneState::kFailed;
    rec.error = fmt::format("branch to {}: the server does not start again: {}", snapshot,
                            restarted.message());
    log::Error("branch {}: the server does not start again: {}", id, restarted.message());
  }
  if (Status st = catalog_->Update(rec); !st.ok()) {
    log::Error("branch {}: cannot save its record: {}", id, st.message());
  } else {
    over();
  }
  if (!saved.ok()) return saved.Wrap(fmt::format("branch {}", id));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  log::Info("clone {} saved as snapshot {} in {} ms (by {})", id, snapshot, ms, caller.user);
  if (!restarted.ok()) {
    return restarted.Wrap(
        fmt::format("branch {}: snapshot {} was saved, but the clone failed", id, snapshot));
  }
  PruneSnapshots(*res);
  SnapshotInfo info;
  info.id = snapshot;
  SnapshotId sid;
  if (ParseSnapshotId(snapshot, &sid).ok()) {
    if (auto t = ParseCompactUtc(sid.stamp); t.ok()) info.created_at = *t;
  }
  return info;
}

}  // namespace zdap::origin
