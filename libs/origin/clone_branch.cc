// CloneService::Branch: a clone's current data saved as a new snapshot of its resource.
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
// Recovery keeps a snapshot the store finished (SnapshotClone is atomic), removes what a
// copy cut short left, and the clone's server is started again.
#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "origin/clone_service.h"

namespace zdap::origin {

using catalog::CloneRecord;
using catalog::CloneState;

Result<SnapshotInfo> CloneService::Branch(const std::string& id, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, Visible(id, caller));
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(rec.resource));
  BusyGuard busy(p_.busy, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  ZDAP_ASSIGN_OR_RETURN(rec, Visible(id, caller));
  if (rec.state != CloneState::kReady) {
    return Conflict(
        fmt::format("clone '{}' is {}, not ready", id, catalog::CloneStateName(rec.state)));
  }
  const SteadyTime started = p_.env.MonotonicNow();
  std::string snapshot = p_.snapshots.NewId(res->name);
  ZDAP_ASSIGN_OR_RETURN(
      JournalEntry entry,
      p_.journal.Begin("branch", id,
                       {{"clone", id}, {"resource", res->name}, {"snapshot", snapshot}}));
  auto over = [&] {
    if (Status done = p_.journal.Commit(entry); !done.ok()) {
      log::Error("branch {}: journal: {}", id, done.message());
    }
  };
  if (Status st = p_.servers.StopClone(&rec, *res); !st.ok()) {
    over();
    return st.Wrap(fmt::format("branch {}: stop", id));
  }
  Status saved = p_.store.SnapshotClone(rec.Volume(), snapshot);
  if (saved.ok()) {
    Status meta =
        p_.snapshots.WriteMeta(snapshot, SnapshotMeta{res->name, {}, id, p_.env.Now(), ""});
    if (!meta.ok()) log::Warn("branch {}: snapshot metadata: {}", id, meta.message());
    if (Status s = p_.journal.Step(&entry, "saved"); !s.ok()) {
      log::Warn("branch {}: journal step: {}", id, s.message());
    }
  }
  Status restarted = p_.servers.StartClone(&rec, *res);
  if (!restarted.ok()) {
    rec.state = CloneState::kFailed;
    rec.error = fmt::format("branch to {}: the server does not start again: {}", snapshot,
                            restarted.message());
    log::Error("branch {}: the server does not start again: {}", id, restarted.message());
  }
  if (Status st = p_.catalog.Update(rec); !st.ok()) {
    log::Error("branch {}: cannot save its record: {}", id, st.message());
  } else {
    over();
  }
  if (!saved.ok()) return saved.Wrap(fmt::format("branch {}", id));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p_.env.MonotonicNow() - started)
                .count();
  log::Info("clone {} saved as snapshot {} in {} ms (by {})", id, snapshot, ms, caller.user);
  if (!restarted.ok()) {
    return restarted.Wrap(
        fmt::format("branch {}: snapshot {} was saved, but the clone failed", id, snapshot));
  }
  p_.snapshots.Prune(*res);
  SnapshotInfo info;
  info.id = snapshot;
  SnapshotId sid;
  if (ParseSnapshotId(snapshot, &sid).ok()) {
    if (auto t = ParseCompactUtc(sid.stamp); t.ok()) info.created_at = *t;
  }
  info.data_as_of = p_.snapshots.DataAsOf(snapshot);
  return info;
}

}  // namespace zdap::origin
