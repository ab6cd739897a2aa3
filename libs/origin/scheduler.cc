#include "origin/scheduler.h"

#include "core/log.h"

namespace zdap::origin {

Scheduler::Scheduler(Env& env, std::vector<ScheduledRefresh> refreshes, SchedulerActions actions)
    : env_(env), actions_(std::move(actions)) {
  SystemTime now = env_.Now();
  for (auto& r : refreshes) {
    Entry e{std::move(r), std::nullopt};
    e.due = e.refresh.cron.NextAfter(now);
    entries_.push_back(std::move(e));
  }
}

Scheduler::~Scheduler() {
  Stop();
}

void Scheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  stopping_ = true;
  wake_.Wake();
  if (thread_.joinable()) thread_.join();
}

SystemTime Scheduler::last_pass() const {
  std::lock_guard lock(mu_);
  return last_pass_;
}

uint64_t Scheduler::passes() const {
  std::lock_guard lock(mu_);
  return passes_;
}

std::optional<SystemTime> Scheduler::NextRefresh(const std::string& resource) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_) {
    if (e.refresh.resource == resource) return e.due;
  }
  return std::nullopt;
}

void Scheduler::Loop() {
  while (!stopping_) {
    SystemTime now = env_.Now();
    SystemTime next = Pass(now);
    {
      std::lock_guard lock(mu_);
      last_pass_ = now;
      ++passes_;
    }
    if (stopping_) break;
    env_.WaitUntil(next, wake_);
  }
}

SystemTime Scheduler::Pass(SystemTime now) {
  SystemTime next = now + kExpiryInterval;
  for (auto& e : entries_) {
    if (e.due && *e.due <= now) {
      // One start per due time however late we are: a clock jump does not replay a backlog.
      Status st = actions_.start_refresh(e.refresh.resource);
      if (st.code() == Code::kConflict) {
        log::Info("cron: refresh of '{}' skipped: {}", e.refresh.resource, st.message());
      } else if (!st.ok()) {
        log::Error("cron: refresh of '{}' did not start: {}", e.refresh.resource, st.message());
      }
      std::optional<SystemTime> due = e.refresh.cron.NextAfter(now);
      std::lock_guard lock(mu_);
      e.due = due;
    }
    if (e.due && *e.due < next) next = *e.due;
  }
  if (actions_.expire_clones) actions_.expire_clones(now);
  if (actions_.maintain) actions_.maintain(now);
  return next;
}

}  // namespace zdap::origin
