#include "client/follow_job.h"

#include <fmt/format.h>

#include <thread>

#include "core/human_bytes.h"
#include "core/time.h"

namespace zdap::client {
namespace {

bool Running(const api::Job& job) {
  return job.state == api::JobState::kQueued || job.state == api::JobState::kRunning;
}

// Errors that asking again will not change: the job is unknown (the origin restarted and forgot
// it, or the id is wrong), or the caller may not see it.
bool IsFinal(const Status& s) {
  switch (s.code()) {
    case Code::kNotFound:
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
    case Code::kInvalidArgument:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<api::Job> FollowJob(const OriginApi& api, api::Job job,
                           const std::function<void(const api::Job&)>& on_update,
                           const FollowOptions& options) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + options.max_wait;
  auto last_answer = Clock::now();
  while (Running(job)) {
    if (Clock::now() > deadline) {
      return Unavailable(fmt::format(
          "refresh job {} still runs after {}; it goes on on the origin", job.id,
          FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(options.max_wait))));
    }
    std::this_thread::sleep_for(options.poll_interval);
    auto next = api.GetJob(job.id);
    if (!next.ok()) {
      if (IsFinal(next.status()) || Clock::now() - last_answer > options.unreachable_limit) {
        return next.status().Wrap("following refresh job " + job.id);
      }
      continue;
    }
    last_answer = Clock::now();
    job = std::move(*next);
    if (on_update) on_update(job);
  }
  return job;
}

std::string JobPhaseText(const api::Job& job) {
  const char* phase = api::JobPhaseName(job.phase);
  return *phase ? phase : api::JobStateName(job.state);
}

std::string JobProgressText(const api::Job& job) {
  std::string bytes = job.bytes_total > 0 ? fmt::format("{} / {}", HumanBytes(job.bytes_done),
                                                        HumanBytes(job.bytes_total))
                                          : HumanBytes(job.bytes_done);
  return fmt::format("{} {}", JobPhaseText(job), bytes);
}

std::string ProgressLines::Next(const api::Job& job) {
  std::string line = JobProgressText(job);
  std::string phase = JobPhaseText(job);
  auto now = std::chrono::steady_clock::now();
  bool due = phase != last_phase_ || (line != last_line_ && now - last_printed_ >= every_);
  if (!due) return "";
  last_phase_ = std::move(phase);
  last_line_ = line;
  last_printed_ = now;
  return line;
}

}  // namespace zdap::client
