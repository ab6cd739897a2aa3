// Source: where a resource's snapshots come from. One kind per file behind this interface,
// made for each resource by MakeSource (source.cc):
//   dump_import.h   a dump file, a script that names one, or a command that streams one,
//                   imported into a fresh server (today's only kind);
//   replica_source.h  a PostgreSQL standby that zdapd keeps following (standby.h),
//                   snapshotted without stopping it (`source.replica`);
//   origin_pull.h   a snapshot pulled from another origin, keeping upstream's id
//                   (`source.origin`).
//
// The Refresher (refresher.h) does what every refresh needs, whatever its source: one refresh
// per resource at a time, the journal entry that lets Recovery undo a crash, the job (state,
// phases, progress), the undo of a failed run (the volume and the run dir go), the seal of
// the volume into the snapshot and its metadata, pruning by `refresh.keep`, and telling
// observers. A source decides the steps: the new snapshot's id (the refresher's next stamp,
// or one the source keeps) or that there is nothing new, and how the volume gets its data.
//
// A source that keeps something running between refreshes (a standby) declares it through
// the lifecycle hooks: adopted at recovery, stopped or removed with the resource, and a state
// for /v1/status. A dump keeps nothing running: its hooks are the defaults.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/resource.h"
#include "core/env.h"
#include "core/result.h"
#include "core/time.h"
#include "engine/engine.h"
#include "origin/job.h"
#include "origin/observer.h"
#include "storage/driver.h"

namespace zdap::origin {

class Servers;

// What a refresh will make, decided before anything is made.
struct SourcePlan {
  // True: the source has nothing newer than `existing` (a pull whose upstream has no new
  // snapshot); the refresh ends there, successfully, naming `existing`.
  bool nothing_new = false;
  std::string existing;
  // The new snapshot's id: "" = the refresher's next stamp (Snapshots::NewId); else kept as
  // the source gives it (a pull keeps upstream's). Either way <resource>@<stamp>.
  std::string id;
};

// One refresh, as the source sees it.
struct SourceRun {
  std::string snapshot;  // the new snapshot's id: the volume of this name is the source's
  std::string run_dir;   // empty, private to this refresh (sockets, logs); removed after
  std::string label;     // what the runtime tells this refresh's servers apart by
  Job* job = nullptr;    // null for a blocking refresh (zdapd refresh without a daemon)
  void Phase(const char* phase) const {
    if (job != nullptr) job->SetPhase(phase);
  }
};

// What the source leaves for the snapshot's metadata (snapshots.h SnapshotMeta).
struct SourceResult {
  engine::CloneLock clone_lock = engine::CloneLock::kConfig;
  // When the data was current (snapshots.h SnapshotMeta::data_as_of); unset when unknown.
  std::optional<SystemTime> data_as_of;
  std::string origin;  // a pulled snapshot: the origin that made it
};

// A follower's pulls (origin_pull.h), for /v1/status and /metrics.
struct PullState {
  std::string upstream;                  // the upstream origin's URL
  std::string upstream_newest;           // its newest snapshot at the last look; "" = not yet
  std::optional<SystemTime> checked_at;  // that look
  uint64_t last_bytes = 0;               // payload of the last pull that moved data
  std::string last_format;               // its stream format
  std::string last_base;                 // its base; "" = full
  uint64_t total_bytes = 0;              // payload moved by this process's pulls
};

// What runs for a source between refreshes, for /v1/status and /metrics.
struct SourceState {
  // "" = nothing runs (a dump). A standby: not_synced (no first sync yet), streaming,
  // catching_up, disconnected (no WAL from the primary), stopped (its server is down).
  std::string state;
  std::string detail;  // what to do about it, for people
  // A standby's replay lag: how far behind the primary's last reported WAL it replays, and
  // since when its last replayed commit was made (0 when nothing is left to replay).
  std::optional<double> lag_seconds;
  std::optional<uint64_t> lag_bytes;
  std::optional<SystemTime> last_replayed;  // commit time of the last replayed transaction
  std::optional<SystemTime> disconnected_since;
  std::optional<PullState> pull;  // a follower's
};

class Source {
 public:
  virtual ~Source() = default;
  virtual const char* kind() const = 0;  // "dump", "replica"
  // The job's phase while the refresher seals the volume into the snapshot.
  virtual const char* seal_phase() const { return "snapshot"; }

  // Before the journal entry and the volume. Default: a new snapshot, the refresher's id.
  virtual Result<SourcePlan> Plan() { return SourcePlan{}; }
  // Creates the volume `run.snapshot` in the store and fills it; returns once its data is
  // whole and durable (the refresher seals it next). On failure it stops what it started
  // (servers, helpers); the refresher removes the volume and the run dir.
  virtual Result<SourceResult> Build(const SourceRun& run) = 0;

  // Lifecycle of what runs between refreshes.
  // At recovery, once the journal is replayed: adopt what still runs, or start it again.
  virtual Status Adopt() { return Status::Ok(); }
  // Stops what runs (the resource leaves the config); with `remove`, also removes what the
  // source keeps beside its snapshots (a standby's volume, a replication slot).
  virtual Status Stop(bool remove) { return Status::Ok(); }
  virtual SourceState State() const { return {}; }
};

// What a source may use; each part outlives it.
struct SourceParts {
  Env& env;
  storage::Driver& store;
  Servers& servers;
  engine::Engine& engine;
  const ObserverSlot* observer = nullptr;  // told of a standby's changes of state
  uint64_t pull_rate_limit = 0;            // a follower's pulls: bytes/s, 0 = no limit
};

// The source `resource` names (config::Resource::source). `resource` outlives the source.
Result<std::unique_ptr<Source>> MakeSource(const config::Resource& resource,
                                           const SourceParts& parts);
// How the refresher makes its sources: MakeSource, or a test's own kind.
using SourceFactory =
    std::function<Result<std::unique_ptr<Source>>(const config::Resource&, const SourceParts&)>;

}  // namespace zdap::origin
