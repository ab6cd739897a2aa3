// The daemon's timed work: refreshes due by each resource's `refresh.cron`, and the clone
// expiry sweep once a second. Driven by a Clock so tests advance time instead of sleeping.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cron.h"
#include "core/result.h"
#include "core/time.h"
#include "origin/env.h"

namespace zdap::origin {

struct ScheduledRefresh {
  std::string resource;
  CronSchedule cron;
};

struct SchedulerActions {
  // Starts a refresh; Conflict = one still runs (skipped until the next due time).
  std::function<Status(const std::string& resource)> start_refresh;
  // Destroys clones expired at `now`.
  std::function<void(SystemTime now)> expire_clones;
};

class Scheduler {
 public:
  static constexpr auto kExpiryInterval = std::chrono::seconds(1);

  Scheduler(Clock& clock, std::vector<ScheduledRefresh> refreshes, SchedulerActions actions);
  ~Scheduler();  // stops

  void Start();  // runs on its own thread until Stop()
  void Stop();

  // The clock time of the last completed pass (tests wait on it after Advance).
  SystemTime last_pass() const;

 private:
  struct Entry {
    ScheduledRefresh refresh;
    std::optional<SystemTime> due;
  };
  void Loop();
  // Runs what is due at `now`; returns when to look again.
  SystemTime Pass(SystemTime now);

  Clock& clock_;
  SchedulerActions actions_;
  std::vector<Entry> entries_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  SystemTime last_pass_{};
  std::thread thread_;
};

}  // namespace zdap::origin
