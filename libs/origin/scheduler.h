// The daemon's timed work: refreshes due by each resource's `refresh.cron`, and the clone
// expiry sweep once a second. Driven by a Clock so tests advance time instead of sleeping.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cron.h"
#include "core/result.h"
#include "core/time.h"

namespace zdap::origin {

// Wall-clock time and waiting on it. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime Now() = 0;
  // Returns once Now() >= deadline or Wake() has been called since the last return.
  virtual void SleepUntil(SystemTime deadline) = 0;
  virtual void Wake() = 0;
};

// The system clock.
class RealClock : public Clock {
 public:
  SystemTime Now() override;
  void SleepUntil(SystemTime deadline) override;
  void Wake() override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// A clock that moves only when told to (tests).
class FakeClock : public Clock {
 public:
  explicit FakeClock(SystemTime start) : now_(start) {}
  SystemTime Now() override;
  void SleepUntil(SystemTime deadline) override;
  void Wake() override;
  void Advance(std::chrono::seconds by);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  SystemTime now_;
  bool woken_ = false;
};

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
