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

  // Host, credentials and URI of a clone, for the API's clone object.
  CloneAccess AccessFor(const catalog::CloneRecord& record) const;

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
  // Makes a new random password for `clone` and stores it in SecretPath.
  Result<std::string> MakeClonePassword(const std::string& clone) const;
  // Starts the server and waits until it answers its wire protocol (bounded); on failure the
  // server is stopped and the error carries its last log lines. `clone` and `owner` label it.
  // A non-empty `password` is the clone's own (Engine::PrepareClone/ActivateClone): the
  // server is ready once it answers on TCP with it in force. Empty: an import's server.
  Result<runtime::ServerHandle> StartAndWait(const config::Resource& resource,
                                             const std::string& data_dir,
                                             const std::string& run_dir, const std::string& bind,
                                             int port, const std::string& clone,
                                             const std::string& owner,
                                             const std::string& password = "");
  // Stops the server and removes volume, run dir, secret, port and record. Used by destroy and
  // by undo (a failed create, recovery). Idempotent; the record goes only once all else has.
  Status TearDown(const catalog::CloneRecord& record);
  // The one crash-safe way a clone goes (DELETE, expiry; pool trim and idle checks to come):
  // journalled, marked deleting, torn down; a failure leaves the record `failed` and the
  // journal entry for Recover(). The caller holds the clone's BusyGuard.
  Status Destroy(catalog::CloneRecord record);
  static runtime::ServerHandle HandleOf(const catalog::CloneRecord& record);
  // Stops every server still running from `data_dir` that no record may keep: those the
  // runtime finds (its ListServers: process by cwd, docker by `label`), and the one the
  // engine's pid file in `run_dir` names. `resource` null = unknown: every engine is asked.
  void StopServersOf(const std::string& data_dir, const std::string& run_dir,
                     const std::string& label, const config::Resource* resource);
  // Finishes or undoes one operation a crash interrupted (Recover()); Ok = the entry can go.
  Status RecoverEntry(const JournalEntry& entry);

  config::DaemonConfig config_;
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
  std::set<std::string> busy_;  // clone ids with an operation in flight
  std::mutex prune_mu_;         // one pruning at a time (refresh end, clone destroy)
  JobTable jobs_;
  std::function<void(const JobInfo&)> job_observer_;
  std::mutex job_threads_mu_;
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> job_threads_;  // joined when done
};

}  // namespace zdap::origin
