// Env: what the origin asks of the world outside its own data (LevelDB's Env is the model).
// Today that is time: the origin's lifecycle rules (ttl, expiry) and its timed work read the
// clock through an Env, so tests run the same rules with a FakeClock instead of waiting.
// Servers, volumes and files are reached through the runtime, the store and core's helpers.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>

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

class Env {
 public:
  virtual ~Env() = default;
  // The real environment (system clock); lives as long as the process.
  static Env* Default();

  virtual Clock& clock() = 0;
  SystemTime Now() { return clock().Now(); }
};

// The real environment with another clock (tests: a FakeClock). `clock` must outlive it.
class EnvWithClock : public Env {
 public:
  explicit EnvWithClock(Clock& clock) : clock_(clock) {}
  Clock& clock() override { return clock_; }

 private:
  Clock& clock_;
};

}  // namespace zdap::origin
