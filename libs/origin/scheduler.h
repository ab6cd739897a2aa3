// The daemon's timed work: refreshes due by each resource's `refresh.cron`, and once a second
// the clone expiry sweep and the maintenance pass (pool refill, idle expiry). Driven by the
// Env's calendar clock, so tests advance time (FakeClockEnv) instead of sleeping.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cron.h"
#include "core/env.h"
#include "core/result.h"
#include "core/time.h"

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
  // Optional: keeps pools filled and destroys idle clones; runs after the expiry sweep.
  std::function<void(SystemTime now)> maintain;
};

class Scheduler {
 public:
  static constexpr auto kExpiryInterval = std::chrono::seconds(1);

  Scheduler(Env& env, std::vector<ScheduledRefresh> refreshes, SchedulerActions actions);
  ~Scheduler();  // stops

  void Start();  // runs on its own thread until Stop()
  void Stop();
  // Makes the next pass run now instead of at its time (a claim took a pool clone).
  void Kick() { wake_.Wake(); }

  // The clock time of the last completed pass (tests wait on it after Advance).
  SystemTime last_pass() const;
  // How many passes have completed (tests wait on it after a Kick, when time stands still).
  uint64_t passes() const;
  // When `resource`'s next cron refresh is due; none if it has no schedule (or no next time).
  std::optional<SystemTime> NextRefresh(const std::string& resource) const;

 private:
  struct Entry {
    ScheduledRefresh refresh;
    std::optional<SystemTime> due;
  };
  void Loop();
  // Runs what is due at `now`; returns when to look again.
  SystemTime Pass(SystemTime now);

  Env& env_;
  WakeSignal wake_;
  SchedulerActions actions_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;       // entries_' due times and the pass counters
  std::vector<Entry> entries_;  // written by the scheduler's thread only
  SystemTime last_pass_{};
  uint64_t passes_ = 0;
  std::thread thread_;
};

}  // namespace zdap::origin
