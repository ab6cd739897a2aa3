// Origin::ResetClone: fresh data for a clone under the same id, port, owner and password.
//
// Journalled ("reset", with the new and the old volume) before the first step; the steps,
// and what Recover() makes of a crash after each (RecoverEntry: the record's volume decides):
//   1. clone the snapshot into a new volume <id>.<gen>   undone: the new volume goes
//   2. stop the clone's server                           undone: restarted on the old volume
//   3. switch the record to the new volume (commit)      finished: the old volume goes, the
//   4. start the server on the new volume                  server is (re)started on the new
//   5. destroy the old volume                              one
// A failure before 3 leaves the clone as it was; a failure in 4 switches back and restarts
// the server on the old volume, and only if that fails too is the clone `failed`, with the
// reason in its record.
#include <fmt/format.h>

#include <random>

#include "core/file_util.h"
#include "core/log.h"
#include "origin/busy.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A volume name for the clone's next data: <id>.<8 hex>, never another clone's id.
std::string NextVolumeName(const std::string& id) {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{}.{:08x}", id, rng());
}

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

Result<CloneRecord> Origin::ResetClone(const std::string& id, const std::string& snapshot_arg,
                                       const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, GetClone(id, caller));
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(rec.resource));
  ZDAP_ASSIGN_OR_RETURN(std::string snapshot, ResolveSnapshot(*res, snapshot_arg));
  BusyGuard busy(busy_mu_, busy_, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  ZDAP_ASSIGN_OR_RETURN(rec, GetClone(id, caller));
  if (rec.state != CloneState::kReady && rec.state != CloneState::kFailed) {
    return Conflict(
        fmt::format("clone '{}' is {}; try again", id, catalog::CloneStateName(rec.state)));
  }
  auto started = SteadyClock::now();
  const CloneRecord before = rec;
  std::string next = NextVolumeName(id);
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry, journal_->Begin("reset", id,
                                                            {{"clone", id},
                                                             {"resource", rec.resource},
                                                             {"volume", next},
                                                             {"old_volume", before.Volume()}}));
  // The operation is over (done or undone): the entry goes. A failed commit only leaves
  // work for Recover(), which finds the same state.
  auto over = [&] {
    if (Status done = journal_->Commit(entry); !done.ok()) {
      log::Error("reset {}: journal: {}", id, done.message());
    }
  };
  auto step = [&](const char* name) {
    if (Status s = journal_->Step(&entry, name); !s.ok()) {
      log::Warn("reset {}: journal step {}: {}", id, name, s.message());
    }
  };

  // 1. The new data first, while the old server still serves.
  if (auto cloned = store_->Clone(snapshot, next); !cloned.ok()) {
    if (PathExists(store_->ClonePath(next))) (void)store_->DestroyClone(next);
    over();
    return cloned.status().Wrap(fmt::format("reset {}", id));
  }
  step("cloned");
  auto drop_next = [&] {
    Status d = store_->DestroyClone(next);
    if (!d.ok()) log::Error("reset {}: cannot remove volume {}: {}", id, next, d.message());
    return d;
  };
  // 2. Clients connected now are disconnected by the server's shutdown.
  if (Status st = StopCloneServer(&rec, *res); !st.ok()) {
    if (drop_next().ok()) over();
    return st.Wrap(fmt::format("reset {}: stop the server", id));
  }
  step("stopped");
  // 3. The commit point.
  rec.volume = next;
  rec.snapshot = snapshot;
  rec.state = CloneState::kReady;
  rec.error.clear();
  Status st = catalog_->Update(rec);
  // 4.
  if (st.ok()) {
    step("switched");
    st = StartCloneServer(&rec, *res);
  }
  if (st.ok()) st = catalog_->Update(rec);
  if (!st.ok()) {
    log::Error("reset {} to {} failed: {}; restoring its data", id, snapshot, st.message());
    CloneRecord old = before;
    old.pid = -1;
    old.container_id.clear();
    (void)StopCloneServer(&rec, *res);  // whatever half-started on the new volume
    Status back = StartCloneServer(&old, *res);
    if (!back.ok()) {
      old.state = CloneState::kFailed;
      old.error = fmt::format("reset to {} failed ({}), and the old data does not start: {}",
                              snapshot, st.message(), back.message());
      log::Error("reset {}: the old data does not start either: {}", id, back.message());
    }
    if (Status saved = catalog_->Update(old); !saved.ok()) {
      log::Error("reset {}: cannot save its record: {}", id, saved.message());
      return st.Wrap(fmt::format("reset {}", id));  // the entry stays: Recover() sorts it out
    }
    if (drop_next().ok()) over();
    if (!back.ok()) {
      // Whatever the first error's code, the clone exists and is broken now: not a 404.
      return Internal(
          st.Wrap(fmt::format("reset {} (clone failed: {})", id, back.message())).message());
    }
    return st.Wrap(fmt::format("reset {} (clone kept its old data)", id));
  }
  step("started");
  // 5. The old data goes; a failure here leaves the entry, and Recover() removes the volume.
  if (Status meta = WriteCloneMeta(rec); !meta.ok()) {
    log::Warn("reset {}: volume metadata: {}", id, meta.message());
  }
  if (Status d = store_->DestroyClone(before.Volume()); !d.ok()) {
    log::Error("reset {}: cannot remove old volume {}: {}", id, before.Volume(), d.message());
  } else {
    over();
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  log::Info("clone {} reset to {} in {} ms (by {})", id, snapshot, ms, caller.user);
  // The snapshot it left may now be past `refresh.keep` with no clone.
  PruneSnapshots(*res);
  return rec;
}

}  // namespace zdap::origin
