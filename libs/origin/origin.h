// Origin: everything one zdapd host does, independent of HTTP. It wires the layers together
// (config -> storage, engine, runtime -> catalog) and enforces SPEC's lifecycle rules:
// a refresh imports into a new volume and only a finished import becomes a snapshot; a
// clone is returned only once its server answers its wire protocol; any failure midway
// undoes what was done; Recover() finishes or undoes what a crash left half-done.
// Thread-safe: the HTTP layer calls it from worker threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/port_allocator.h"
#include "config/daemon_config.h"
#include "config/resource.h"
#include "engine/engine.h"
#include "origin/env.h"
#include "origin/job.h"
#include "origin/journal.h"
#include "origin/lifecycle_rules.h"
#include "runtime/runtime.h"
#include "storage/driver.h"

namespace zdap::origin {

struct Caller {
  std::string user;
  bool admin = false;
};

struct CreateCloneRequest {
  std::string resource;
  std::string snapshot;  // "" = newest
  std::string name;      // "" = generated <resource>-<4 hex>
  std::optional<std::chrono::seconds> ttl;
  bool is_protected = false;
  bool pooled = false;  // a pool clone: no owner, no expiry, outside quotas
  // The owner's choice (ValidateClonePassword, core/clone_password.h); "" = a random one.
  // Either way it is the clone's secret file and nothing else keeps it.
  std::string password;
};

// PATCH of a clone: what is absent stays as it is.
struct UpdateCloneRequest {
  std::optional<std::chrono::seconds> ttl;  // new expires_at = now + ttl; 0 = never
  std::optional<bool> is_protected;
};

// How to connect to a clone: what the API adds to a catalog record to form SPEC's clone object.
struct CloneAccess {
  std::string host;
  std::string database;
  std::string user;
  std::string password;
  std::string uri;
  std::string origin;
  std::string engine;
};

struct SnapshotInfo {
  std::string id;
  SystemTime created_at;
  int clones = 0;
};

class Origin {
 public:
  // Loads resources and opens the store, catalog and runtime. Does not touch servers:
  // call Recover() before serving. `env` (null = Env::Default()) must outlive the Origin.
  static Result<std::unique_ptr<Origin>> Open(const config::DaemonConfig& config,
                                              Env* env = nullptr);
  ~Origin();

  Status Recover();

  const config::DaemonConfig& config() const { return config_; }
  Env& env() const { return *env_; }
  const std::vector<config::Resource>& resources() const { return resources_; }
  Result<const config::Resource*> FindResource(const std::string& name) const;
  const char* storage_driver() const { return store_->name(); }
  const char* runtime_driver() const { return runtime_->name(); }
  storage::Driver& store() { return *store_; }

  // Snapshots of a resource, newest first.
  Result<std::vector<SnapshotInfo>> Snapshots(const std::string& resource) const;
  // Imports the resource's source into a new snapshot; returns its id. Blocks until done.
  Result<std::string> Refresh(const std::string& resource);
  // Starts a refresh on its own thread and returns its job at once (queued or running).
  // Conflict, naming the job, while the resource's previous refresh has not finished.
  // Clones keep being made from the newest finished snapshot meanwhile.
  Result<JobInfo> StartRefresh(const std::string& resource);
  Result<JobInfo> GetJob(const std::string& id) const;
  std::vector<JobInfo> ListJobs() const;  // unfinished and the last 50 finished, newest first
  // Called on a job's thread as it finishes (metrics). Set once, before serving.
  void OnJobFinished(std::function<void(const JobInfo&)> observer) {
    job_observer_ = std::move(observer);
  }
  // Removes a snapshot of `resource`: NotFound for an unknown id, Conflict while clones use it.
  Status DeleteSnapshot(const std::string& resource, const std::string& id);

  Result<catalog::CloneRecord> CreateClone(const CreateCloneRequest& request, const Caller& caller);
  Result<catalog::CloneRecord> GetClone(const std::string& id, const Caller& caller) const;
  std::vector<catalog::CloneRecord> ListClones(const Caller& caller, bool all) const;
  Status DestroyClone(const std::string& id, const Caller& caller);
  // Destroys clones past expires_at (unless protected); returns how many.
  int ExpireClones(SystemTime now);
  // Extends (expires_at = now + ttl) and/or protects a clone. A plain user cannot go past the
  // resource's max_ttl from now (Unprocessable naming it); an admin can.
  Result<catalog::CloneRecord> UpdateClone(const std::string& id, const UpdateCloneRequest& request,
                                           const Caller& caller);
  // Fresh data from `snapshot` ("" = the newest) under the same id, port, owner and password:
  // the new volume is cloned first, then the server is stopped, the record switched to the
  // new volume and the server started on it. On failure the clone is left as it was (old
  // volume, server restarted) or, if even that fails, `failed` with the reason.
  Result<catalog::CloneRecord> ResetClone(const std::string& id, const std::string& snapshot,
                                          const Caller& caller);
  // Saves the clone's data as a new snapshot of its resource (a branch): the server is
  // stopped cleanly for the copy and started again, so the image is a clean shutdown's.
  Result<SnapshotInfo> BranchClone(const std::string& id, const Caller& caller);

  // Host, credentials and URI of a clone, for the API's clone object.
  CloneAccess AccessFor(const catalog::CloneRecord& record) const;
  // The API's URL as clients reach it: scheme, advertised host (else the listen host), port.
  const std::string& advertised_url() const { return advertised_url_; }
  // Once the listener is bound (a configured port 0 becomes the real one).
  void SetListenPort(int port);

  // --- Pools, claim, idle expiry and quotas (pools.cc, idle.cc, quota.cc) ---
  // Hands the caller a ready pool clone of the newest snapshot: new owner, a new password
  // (`password` when not "", else a random one; the previous one no longer logs in), pooled
  // false, expiry from now. Falls back to a normal create when the pool has none.
  Result<catalog::CloneRecord> ClaimClone(const std::string& resource,
                                          std::optional<std::chrono::seconds> ttl,
                                          const Caller& caller, const std::string& password = "");
  // Ready pool clones of the resource's newest snapshot: what a claim can take now.
  int PoolReady(const std::string& resource) const;
  // Pool clones of the resource by state (ready of the newest snapshot, being made, stale).
  PoolCounts PoolCountsOf(const config::Resource& resource) const;
  // One pass over every pool (the scheduler's thread, never a request's): destroys stale
  // pool clones (older snapshot) and those beyond max, then makes clones up to min.
  void MaintainPools(SystemTime now);
  // Called after a claim has taken a pool clone, so the pool is refilled soon (the
  // scheduler's Kick). Set once, before serving.
  void OnPoolTaken(std::function<void()> kick) { pool_kick_ = std::move(kick); }
  // Probes clones whose resource has `clone.idle_timeout` (engine's own session count) and
  // destroys those without a client session for that long; returns how many.
  int ExpireIdleClones(SystemTime now);
  // PermissionDenied naming the limit and the count if `caller` may not hold one more clone
  // of `resource` (protected if `wants_protected`); daemon and resource quotas, admins exempt.
  // kProtectHeld: the clone is already held and only becomes protected, so the clone count
  // is not judged, only the protected count.
  enum class QuotaFor { kNewClone, kProtectHeld };
  Status CheckQuota(const config::Resource& resource, const Caller& caller, bool wants_protected,
                    QuotaFor what = QuotaFor::kNewClone) const;

 private:
  // How long a server gets to stop politely before it is killed.
  static constexpr auto kStopGrace = std::chrono::seconds(30);

  Origin() = default;
  engine::Engine* EngineFor(const config::Resource& resource) const;
  std::string RunDir(const std::string& name) const;
  // Gives `path` to the user the database servers run as (no-op when that is us).
  Status ChownToServerUser(const std::string& path) const;
  // Removes snapshots past the resource's `refresh.keep`, newest kept; one with clones stays.
  void PruneSnapshots(const config::Resource& resource);
  // The refresh itself; `job` (may be null) is told its phases and gets the import's progress.
  Result<std::string> RunRefresh(const config::Resource& resource, Job* job);
  Status PrepareRunDir(const std::string& dir) const;
  // The clone's own password: a 0600 file under <data_dir>/secrets, never in the catalog.
  std::string SecretPath(const std::string& clone) const;
  // Stores `chosen` (already validated), or when "" a new random password, in SecretPath.
  Result<std::string> MakeClonePassword(const std::string& clone,
                                        const std::string& chosen = "") const;
  // `chosen` (already validated), or when "" a new random password (192 bits, URL-safe);
  // not stored anywhere yet.
  static Result<std::string> NewClonePassword(const std::string& chosen = "");
  // Stores `password` in SecretPath (durably) and in the cache ClonePassword reads.
  Status StoreClonePassword(const std::string& clone, const std::string& password) const;
  // StoreClonePassword in two steps, for a create: the file is written without fsyncs, and
  // made durable by SyncClonePassword later, before anything says the clone is ready.
  Status StageClonePassword(const std::string& clone, const std::string& password) const;
  Status SyncClonePassword(const std::string& clone) const;
  // The password in SecretPath, read once and then kept in memory: a list of N clones must
  // not open N files per request (bench/api). TearDown forgets it.
  Result<std::string> ClonePassword(const std::string& clone) const;
  // Puts a password just written to SecretPath into the cache ClonePassword reads.
  void RememberClonePassword(const std::string& clone, const std::string& password) const;
  // Starts the server and waits until it answers its wire protocol (bounded); on failure the
  // server is stopped and the error carries its last log lines. `clone` and `owner` label it.
  // A non-empty `password` is the clone's own (Engine::PrepareClone/ActivateClone, with
  // `lock`): the server is ready once it answers on TCP with it in force. Empty: an import's
  // server.
  Result<runtime::ServerHandle> StartAndWait(
      const config::Resource& resource, const std::string& data_dir, const std::string& run_dir,
      const std::string& bind, int port, const std::string& clone, const std::string& owner,
      const std::string& password = "", engine::CloneLock lock = engine::CloneLock::kConfig);
  // kNoPassword if `snapshot`'s metadata says Engine::PrepareSnapshot readied it (its fresh
  // clones may start so); kConfig otherwise (older snapshots, branches, no metadata).
  engine::CloneLock FreshCloneLock(const std::string& snapshot) const;
  // Drops FreshCloneLock's memory of a destroyed snapshot.
  void ForgetCloneLock(const std::string& snapshot);
  // Stops the server and removes volume, run dir, secret, port and record. Used by destroy and
  // by undo (a failed create, recovery). Idempotent; the record goes only once all else has.
  Status TearDown(const catalog::CloneRecord& record);
  // The one crash-safe way a clone goes (DELETE, expiry; pool trim and idle checks to come):
  // journalled, marked deleting, torn down; a failure leaves the record `failed` and the
  // journal entry for Recover(). The caller holds the clone's BusyGuard.
  Status Destroy(catalog::CloneRecord record);
  static runtime::ServerHandle HandleOf(const catalog::CloneRecord& record);
  // The clone's ttl: `requested` or the resource's default, checked against max_ttl.
  Result<std::chrono::seconds> ResolveTtl(const config::Resource& resource,
                                          std::optional<std::chrono::seconds> requested) const;
  // Gives the pool clone `rec` (busy, ready) to `caller`: password (`chosen`, else a random
  // one), owner, expiry.
  Status HandOver(catalog::CloneRecord& rec, std::chrono::seconds ttl, const Caller& caller,
                  const std::string& chosen);
  // Stops a clone's server cleanly (the engine's stop signal, kStopGrace) and forgets its
  // handle in `record` (not saved).
  Status StopCloneServer(catalog::CloneRecord* record, const config::Resource& resource);
  // Starts a ready clone's server on its volume, port and password; records the handle in
  // `record` (not saved).
  Status StartCloneServer(catalog::CloneRecord* record, const config::Resource& resource);
  // `requested` checked to be a snapshot of `resource`, or ("") its newest; NotFound or
  // Conflict (none yet) otherwise.
  Result<std::string> ResolveSnapshot(const config::Resource& resource,
                                      const std::string& requested) const;
  // Records what a ready clone's volume is with the volume (storage/driver.h VolumeMeta).
  Status WriteCloneMeta(const catalog::CloneRecord& record);
  // A snapshot id of `resource` for now that no snapshot or volume has (waits out a
  // collision of one-second stamps, up to 3 s).
  std::string NewSnapshotId(const config::Resource& resource);
  // Stops every server still running from `data_dir` that no record may keep: those the
  // runtime finds (its ListServers: process by cwd, docker by `label`), and the one the
  // engine's pid file in `run_dir` names. `resource` null = unknown: every engine is asked.
  void StopServersOf(const std::string& data_dir, const std::string& run_dir,
                     const std::string& label, const config::Resource* resource);
  // Finishes or undoes one operation a crash interrupted (Recover()); Ok = the entry can go.
  Status RecoverEntry(const JournalEntry& entry);
  // RecoverEntry of a reset, a claim and a branch (recovery.cc).
  Status RecoverReset(const JournalEntry& entry);
  Status RecoverClaim(const JournalEntry& entry);
  Status RecoverBranch(const JournalEntry& entry);
  // Stops servers running from a ready clone's volume that its record does not name (one
  // started just before a crash, before its handle was saved), so that Recover() starts it
  // afresh on its port; a server the record names is left alone.
  void StopUnrecordedServers(const catalog::CloneRecord& record, const config::Resource* resource);
  // Where HandOver stages a claimed clone's new password until the server has it.
  std::string StagedSecretPath(const std::string& clone) const;
  // The metadata of a snapshot saved from `clone` (a branch).
  static storage::VolumeMeta BranchMeta(const config::Resource& resource, const std::string& clone);

  config::DaemonConfig config_;
  std::string advertised_url_;
  Env* env_ = nullptr;
  std::vector<config::Resource> resources_;
  std::unique_ptr<storage::Driver> store_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::optional<RunAs> run_as_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Journal> journal_;  // <data_dir>/journal
  std::unique_ptr<catalog::PortAllocator> ports_;
  std::map<std::string, std::unique_ptr<engine::Engine>> engines_;
  mutable std::mutex busy_mu_;
  mutable std::mutex secrets_mu_;
  mutable std::map<std::string, std::string> secrets_;  // clone -> its password (SecretPath)
  // AccessFor's connection URI by clone, valid while the port and password are the ones it
  // was made for: GET /v1/clones lists hundreds of clones per request. Under secrets_mu_.
  struct CachedUri {
    int port = 0;
    std::string password;
    std::string uri;
  };
  mutable std::map<std::string, CachedUri> uris_;
  // FreshCloneLock's answer by snapshot: its metadata is read once (zfs: a `zfs get` per
  // read), not per create. A destroyed snapshot's entry goes (its id may come again).
  mutable std::mutex clone_locks_mu_;
  mutable std::map<std::string, engine::CloneLock> clone_locks_;
  std::set<std::string> busy_;  // clone ids with an operation in flight
  std::mutex prune_mu_;         // one pruning at a time (refresh end, clone destroy)
  JobTable jobs_;
  std::function<void(const JobInfo&)> job_observer_;
  std::mutex job_threads_mu_;
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> job_threads_;  // joined when done
  IdleTracker idle_;
  std::function<void()> pool_kick_;
  std::map<std::string, SystemTime> pool_retry_at_;  // resource -> after a failed refill
};

}  // namespace zdap::origin
