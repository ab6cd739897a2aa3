#include "origin/job.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "core/names.h"

namespace zdap::origin {
namespace {

std::string NewJobId() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu);
  return fmt::format("job-{:012x}", rng() & 0xffffffffffffULL);
}

}  // namespace

Job::Job(Env& env, std::string id, std::string resource)
    : env_(env), id_(std::move(id)), resource_(std::move(resource)), created_at_(env.Now()) {}

void Job::Start() {
  std::lock_guard lock(mu_);
  state_ = JobState::kRunning;
  phase_ = "import";
  started_at_ = env_.Now();
  started_ = env_.MonotonicNow();
}

void Job::SetPhase(const char* phase) {
  std::lock_guard lock(mu_);
  phase_ = phase;
}

void Job::Succeed(const std::string& snapshot) {
  std::lock_guard lock(mu_);
  state_ = JobState::kDone;
  snapshot_ = snapshot;
  finished_at_ = env_.Now();
  finished_ = env_.MonotonicNow();
}

void Job::Fail(const std::string& error) {
  progress_.AddOutput(error);
  std::lock_guard lock(mu_);
  state_ = JobState::kFailed;
  error_ = error;
  finished_at_ = env_.Now();
  finished_ = env_.MonotonicNow();
}

bool Job::finished() const {
  std::lock_guard lock(mu_);
  return state_ == JobState::kDone || state_ == JobState::kFailed;
}

JobInfo Job::Info() const {
  JobInfo i;
  i.id = id_;
  i.resource = resource_;
  i.created_at = created_at_;
  i.bytes_done = progress_.bytes_done.load();
  i.bytes_total = progress_.bytes_total.load();
  i.log_tail = progress_.Tail();
  std::lock_guard lock(mu_);
  i.state = state_;
  i.phase = phase_;
  // "after" is reported by the engine opening its second input (the first `after` script).
  if (state_ == JobState::kRunning && phase_ == "import" && progress_.inputs_opened.load() > 1) {
    i.phase = "after";
  }
  i.started_at = started_at_;
  i.finished_at = finished_at_;
  if (started_at_) {
    auto end = finished_at_ ? finished_ : env_.MonotonicNow();
    i.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(end - started_);
  }
  i.snapshot = snapshot_;
  i.error = error_;
  return i;
}

Result<std::shared_ptr<Job>> JobTable::Begin(const std::string& resource) {
  std::lock_guard lock(mu_);
  for (const auto& j : jobs_) {
    if (j->resource() == resource && !j->finished()) {
      return Conflict(
          fmt::format("a refresh of '{}' is already running: job {}", resource, j->id()));
    }
  }
  auto job = std::make_shared<Job>(env_, NewJobId(), resource);
  jobs_.push_back(job);
  ForgetOldLocked();
  return job;
}

void JobTable::ForgetOldLocked() {
  size_t finished = static_cast<size_t>(
      std::count_if(jobs_.begin(), jobs_.end(), [](const auto& j) { return j->finished(); }));
  for (auto it = jobs_.begin(); finished > keep_finished_ && it != jobs_.end();) {
    if ((*it)->finished()) {
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
}

Result<JobInfo> JobTable::Get(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("job", id));
  std::lock_guard lock(mu_);
  for (const auto& j : jobs_) {
    if (j->id() == id) return j->Info();
  }
  return NotFound(fmt::format("job '{}' not found", id));
}

std::vector<JobInfo> JobTable::List() const {
  std::lock_guard lock(mu_);
  std::vector<JobInfo> out;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) out.push_back((*it)->Info());
  return out;
}

}  // namespace zdap::origin
