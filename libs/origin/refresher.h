// Refresher: makes new snapshots of resources from their sources (source.h) and keeps their
// retention (SPEC "Lifecycle rules": a refresh builds a new volume and only a whole one
// becomes a snapshot; a failed refresh leaves nothing behind and keeps the previous snapshot;
// clones are served from the previous snapshot the whole time).
//
// A refresh of one resource, whatever its source:
//   1. its lock (<data_dir>/locks/refresh-<resource>): one refresh per resource at a time;
//   2. the source's plan: the new snapshot's id, or nothing new (the refresh ends there);
//   3. a journal entry naming the volume, so that Recovery removes it after a crash;
//   4. the source builds the volume (its phases go to the job), in a private run dir
//      <data_dir>/run/import-<resource>;
//   5. the volume is sealed into the snapshot, with its metadata; the journal entry goes;
//   6. snapshots past `refresh.keep` are pruned; the job's observers hear of it;
//   7. how it ended (done, nothing new, or failed and why) is kept (refresh_record.h).
// A failure in 4 or 5 removes the volume and the run dir. Refreshes run on their own threads
// as jobs (Start), or on the caller's (Refresh). Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "origin/job.h"
#include "origin/journal.h"
#include "origin/observer.h"
#include "origin/refresh_record.h"
#include "origin/resource_set.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "origin/source.h"
#include "storage/driver.h"

namespace zdap::origin {

// What the refresher works with; each part outlives it.
struct RefresherParts {
  Env& env;
  const ResourceSet& resources;
  storage::Driver& store;
  Journal& journal;
  Servers& servers;
  Snapshots& snapshots;
  std::string locks_dir;      // <data_dir>/locks
  std::string records_dir{};  // <data_dir>/refreshes (refresh_record.h)
  SourceFactory make_source = MakeSource;
  const ObserverSlot* observer = nullptr;  // told of each job's start and end
  uint64_t pull_rate_limit = 0;            // bytes/s of a snapshot pull; 0 = none
};

class Refresher {
 public:
  // Makes each resource's source.
  static Result<std::unique_ptr<Refresher>> Make(RefresherParts parts);
  ~Refresher();  // waits for refreshes in flight: their volumes are ours to clean up

  // Refreshes on this thread; returns the new snapshot's id (or, when the source has nothing
  // new, the newest one's).
  Result<std::string> Refresh(const std::string& resource);
  // Starts a refresh on its own thread and returns its job at once. Conflict, naming the job,
  // while the resource's previous refresh has not finished.
  // `actor`: who asked ("" = the schedule), for the observer.
  Result<JobInfo> Start(const std::string& resource, const std::string& actor = "");
  Result<JobInfo> GetJob(const std::string& id) const;
  std::vector<JobInfo> Jobs() const;  // unfinished and the last 50 finished, newest first
  // Called on a job's thread as it finishes (metrics). Set once, before serving.
  void OnJobFinished(std::function<void(const JobInfo&)> observer) {
    observer_ = std::move(observer);
  }

  // How `resource`'s last refresh ended; none if it never ran here.
  std::optional<RefreshOutcome> LastOutcome(const std::string& resource) const {
    return records_->Last(resource);
  }

  Source& SourceOf(const config::Resource& resource) const;
  // True while a refresh of `resource` holds its lock (Recovery leaves its volume alone).
  bool Running(const std::string& resource) const;
  // The name of a refresh's run dir and server label: import-<resource>.
  static std::string ScratchName(const std::string& resource) { return "import-" + resource; }

 private:
  explicit Refresher(RefresherParts parts) : p_(std::move(parts)), jobs_(p_.env) {}
  Result<std::string> Run(const config::Resource& resource, Job* job);
  Result<std::string> RunLocked(const config::Resource& resource, Job* job);
  std::string LockPath(const std::string& resource) const;

  RefresherParts p_;
  std::map<std::string, std::unique_ptr<Source>> sources_;  // by resource
  std::unique_ptr<RefreshRecords> records_;
  JobTable jobs_;
  std::function<void(const JobInfo&)> observer_;
  std::mutex threads_mu_;
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads_;  // joined when done
};

}  // namespace zdap::origin
