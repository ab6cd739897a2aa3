// Refresh jobs: a refresh runs on its own thread and is observed through a Job (state, phase,
// bytes of the dump read, log tail). JobTable keeps the unfinished jobs and the last finished
// ones, and refuses a second job for a resource whose job has not finished.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/result.h"
#include "core/time.h"
#include "engine/dump_source.h"

namespace zdap::origin {

// The API's names for these are api::JobStateName's (zdapd maps one enum to the other).
enum class JobState { kQueued, kRunning, kDone, kFailed };

// A copy of a job's state at one moment, for the API.
struct JobInfo {
  std::string id;
  std::string kind = "refresh";
  std::string resource;
  JobState state = JobState::kQueued;
  std::string phase;  // "import", "after", "wipe", "stop", "snapshot"; "" before it runs
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;  // 0 = unknown (source.command, pg_dump custom archives)
  SystemTime created_at{};
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> finished_at;
  std::chrono::milliseconds elapsed{0};  // running: so far; finished: its duration
  std::string snapshot;                  // done: the new snapshot's id
  std::string error;                     // failed: why
  std::vector<std::string> log_tail;     // the import client's last output lines, then the error
};

// One job, written by the thread that runs it and read by anyone. Thread-safe.
class Job {
 public:
  // Times come from `env` (calendar for the API's stamps, monotonic for elapsed).
  Job(Env& env, std::string id, std::string resource);

  const std::string& id() const { return id_; }
  const std::string& resource() const { return resource_; }
  // Where the engine reports the import's bytes and output (engine::ScopedImportProgress).
  engine::ImportProgress& progress() { return progress_; }

  void Start();
  void SetPhase(const char* phase);
  void Succeed(const std::string& snapshot);
  void Fail(const std::string& error);
  bool finished() const;
  JobInfo Info() const;

 private:
  Env& env_;
  const std::string id_;
  const std::string resource_;
  const SystemTime created_at_;
  engine::ImportProgress progress_;
  mutable std::mutex mu_;
  JobState state_ = JobState::kQueued;
  std::string phase_;
  std::optional<SystemTime> started_at_, finished_at_;
  SteadyTime started_{}, finished_{};
  std::string snapshot_, error_;
};

class JobTable {
 public:
  explicit JobTable(Env& env, size_t keep_finished = 50)
      : env_(env), keep_finished_(keep_finished) {}
  // A new queued job for `resource`; Conflict naming the unfinished job if it has one.
  Result<std::shared_ptr<Job>> Begin(const std::string& resource);
  // NotFound for an unknown (or long forgotten) id.
  Result<JobInfo> Get(const std::string& id) const;
  // Newest first.
  std::vector<JobInfo> List() const;

 private:
  void ForgetOldLocked();
  Env& env_;
  const size_t keep_finished_;
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<Job>> jobs_;  // oldest first
};

}  // namespace zdap::origin
