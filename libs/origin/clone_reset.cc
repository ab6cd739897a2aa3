// CloneService::Reset: fresh data for a clone under the same id, port, owner and password.
//
// Journalled ("reset", with the new and the old volume) before the first step; the steps,
// and what Recovery makes of a crash after each (the record's volume decides):
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

#include "core/log.h"
#include "origin/clone_service.h"

namespace zdap::origin {
namespace {

// A volume name for the clone's next data: <id>.<8 hex>, never another clone's id.
std::string NextVolumeName(const std::string& id) {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{}.{:08x}", id, rng());
}

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

Result<CloneView> CloneService::Reset(const std::string& id, const std::string& snapshot_arg,
                                      const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, Visible(id, caller));
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(rec.resource));
  ZDAP_ASSIGN_OR_RETURN(std::string snapshot, p_.snapshots.Resolve(*res, snapshot_arg));
  BusyGuard busy(p_.busy, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  ZDAP_ASSIGN_OR_RETURN(rec, Visible(id, caller));
  if (rec.state != CloneState::kReady && rec.state != CloneState::kFailed) {
    return Conflict(
        fmt::format("clone '{}' is {}; try again", id, catalog::CloneStateName(rec.state)));
  }
  const SteadyTime started = p_.env.MonotonicNow();
  const CloneRecord before = rec;
  std::string next = NextVolumeName(id);
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry, p_.journal.Begin("reset", id,
                                                             {{"clone", id},
                                                              {"resource", rec.resource},
                                                              {"volume", next},
                                                              {"old_volume", before.Volume()}}));
  // The operation is over (done or undone): the entry goes. A failed commit only leaves
  // work for Recovery, which finds the same state.
  auto over = [&] {
    if (Status done = p_.journal.Commit(entry); !done.ok()) {
      log::Error("reset {}: journal: {}", id, done.message());
    }
  };
  auto step = [&](const char* name) {
    if (Status s = p_.journal.Step(&entry, name); !s.ok()) {
      log::Warn("reset {}: journal step {}: {}", id, name, s.message());
    }
  };

  // 1. The new data first, while the old server still serves.
  if (auto cloned = p_.store.Clone(snapshot, next); !cloned.ok()) {
    if (p_.env.FileExists(p_.store.ClonePath(next))) (void)p_.store.DestroyClone(next);
    over();
    return cloned.status().Wrap(fmt::format("reset {}", id));
  }
  step("cloned");
  auto drop_next = [&] {
    Status d = p_.store.DestroyClone(next);
    if (!d.ok()) log::Error("reset {}: cannot remove volume {}: {}", id, next, d.message());
    return d;
  };
  // 2. Clients connected now are disconnected by the server's shutdown.
  if (Status st = p_.servers.StopClone(&rec, *res); !st.ok()) {
    if (drop_next().ok()) over();
    return st.Wrap(fmt::format("reset {}: stop the server", id));
  }
  step("stopped");
  // 3. The commit point.
  rec.volume = next;
  rec.snapshot = snapshot;
  rec.state = CloneState::kReady;
  rec.error.clear();
  Status st = p_.catalog.Update(rec);
  // 4.
  if (st.ok()) {
    step("switched");
    st = p_.servers.StartClone(&rec, *res);
  }
  if (st.ok()) st = p_.catalog.Update(rec);
  if (!st.ok()) {
    log::Error("reset {} to {} failed: {}; restoring its data", id, snapshot, st.message());
    CloneRecord old = before;
    old.pid = -1;
    old.container_id.clear();
    (void)p_.servers.StopClone(&rec, *res);  // whatever half-started on the new volume
    Status back = p_.servers.StartClone(&old, *res);
    if (!back.ok()) {
      old.state = CloneState::kFailed;
      old.error = fmt::format("reset to {} failed ({}), and the old data does not start: {}",
                              snapshot, st.message(), back.message());
      log::Error("reset {}: the old data does not start either: {}", id, back.message());
    }
    if (Status saved = p_.catalog.Update(old); !saved.ok()) {
      log::Error("reset {}: cannot save its record: {}", id, saved.message());
      return st.Wrap(fmt::format("reset {}", id));  // the entry stays: Recovery sorts it out
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
  // 5. The old data goes; a failure here leaves the entry, and Recovery removes the volume.
  if (Status meta = WriteCloneMeta(rec); !meta.ok()) {
    log::Warn("reset {}: volume metadata: {}", id, meta.message());
  }
  if (Status d = p_.store.DestroyClone(before.Volume()); !d.ok()) {
    log::Error("reset {}: cannot remove old volume {}: {}", id, before.Volume(), d.message());
  } else {
    over();
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p_.env.MonotonicNow() - started)
                .count();
  log::Info("clone {} reset to {} in {} ms (by {})", id, snapshot, ms, caller.user);
  observer()->CloneReset(rec, caller.user);
  // The snapshot it left may now be past `refresh.keep` with no clone.
  p_.snapshots.Prune(*res);
  return p_.views.Of(rec, caller);
}

}  // namespace zdap::origin
