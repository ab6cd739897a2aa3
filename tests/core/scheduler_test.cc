// The scheduler driven by a fake clock: no test here waits for real minutes.
#include <stdlib.h>
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "origin/scheduler.h"

using namespace zdap;
using namespace zdap::origin;

namespace {

SystemTime Utc(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

// What the scheduler asked for, and what a refresh start answers.
struct Recorder {
  std::mutex mu;
  std::map<std::string, int> starts;
  std::map<std::string, int> conflicts;
  std::set<std::string> running;  // a start of these answers Conflict
  int expiry_passes = 0;
  SystemTime last_expiry{};

  SchedulerActions Actions() {
    return {[this](const std::string& r) {
              std::lock_guard lock(mu);
              if (running.count(r)) {
                ++conflicts[r];
                return Conflict("a refresh of '" + r + "' is already running");
              }
              ++starts[r];
              return Status::Ok();
            },
            [this](SystemTime now) {
              std::lock_guard lock(mu);
              ++expiry_passes;
              last_expiry = now;
            },
            {}};
  }
  int Starts(const std::string& r) {
    std::lock_guard lock(mu);
    return starts[r];
  }
  int Conflicts(const std::string& r) {
    std::lock_guard lock(mu);
    return conflicts[r];
  }
};

// Advances the fake clock and waits (bounded, real time) until the scheduler has made a pass
// at the new time.
void AdvanceAndSettle(FakeClockEnv& clock, Scheduler& s, std::chrono::seconds by) {
  clock.Advance(by);
  SystemTime target = clock.Now();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.last_pass() < target) {
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

TEST_CASE("scheduler: starts refreshes when due, skips a running one, sweeps expiry") {
  ::setenv("TZ", "UTC0", 1);
  ::tzset();
  FakeClockEnv clock(Utc("2026-11-30T00:00:30Z"));
  Recorder rec;
  std::vector<ScheduledRefresh> plan = {
      {"every5", CronSchedule::Parse("*/5 * * * *").value()},
      {"nightly", CronSchedule::Parse("0 3 * * *").value()},
  };
  Scheduler s(clock, plan, rec.Actions());
  s.Start();
  AdvanceAndSettle(clock, s, std::chrono::seconds(0));
  CHECK(rec.Starts("every5") == 0);

  // 00:04:30: nothing due yet; expiry swept on every pass at the clock's time.
  AdvanceAndSettle(clock, s, std::chrono::seconds(240));
  CHECK(rec.Starts("every5") == 0);
  {
    std::lock_guard lock(rec.mu);
    CHECK(rec.expiry_passes >= 2);
    CHECK(rec.last_expiry == Utc("2026-11-30T00:04:30Z"));
  }
  // 00:05:30: due once.
  AdvanceAndSettle(clock, s, std::chrono::seconds(60));
  CHECK(rec.Starts("every5") == 1);
  AdvanceAndSettle(clock, s, std::chrono::seconds(60));
  CHECK(rec.Starts("every5") == 1);

  // 00:10:30 while the last refresh still runs: skipped, not queued.
  {
    std::lock_guard lock(rec.mu);
    rec.running.insert("every5");
  }
  AdvanceAndSettle(clock, s, std::chrono::seconds(240));
  CHECK(rec.Starts("every5") == 1);
  CHECK(rec.Conflicts("every5") == 1);
  {
    std::lock_guard lock(rec.mu);
    rec.running.clear();
  }
  AdvanceAndSettle(clock, s, std::chrono::seconds(300));  // 00:15:30
  CHECK(rec.Starts("every5") == 2);
  CHECK(rec.Starts("nightly") == 0);

  // A jump of 3 hours starts each due refresh once, not once per missed time.
  AdvanceAndSettle(clock, s, std::chrono::seconds(3 * 3600));  // 03:15:30
  CHECK(rec.Starts("every5") == 3);
  CHECK(rec.Starts("nightly") == 1);
  s.Stop();
  ::unsetenv("TZ");
  ::tzset();
}

TEST_CASE("scheduler: stops promptly while sleeping until a far due time") {
  FakeClockEnv clock(Utc("2026-11-30T00:00:00Z"));
  Recorder rec;
  Scheduler s(clock, {{"yearly", CronSchedule::Parse("0 0 1 1 *").value()}}, rec.Actions());
  s.Start();
  AdvanceAndSettle(clock, s, std::chrono::seconds(0));
  auto t0 = std::chrono::steady_clock::now();
  s.Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(rec.Starts("yearly") == 0);
}

TEST_CASE("scheduler: the maintenance pass runs after each sweep, and at once on Kick") {
  FakeClockEnv clock(Utc("2026-11-30T00:00:00Z"));
  Recorder rec;
  std::mutex mu;
  int passes = 0;
  SystemTime last{};
  SchedulerActions actions = rec.Actions();
  actions.maintain = [&](SystemTime now) {
    std::lock_guard lock(mu);
    ++passes;
    last = now;
  };
  Scheduler s(clock, {}, actions);
  s.Start();
  AdvanceAndSettle(clock, s, std::chrono::seconds(0));
  AdvanceAndSettle(clock, s, std::chrono::seconds(1));
  int before;
  {
    std::lock_guard lock(mu);
    before = passes;
    CHECK(before >= 1);
    CHECK(last == Utc("2026-11-30T00:00:01Z"));
  }
  // No time passes on the fake clock: only the kick can bring the next pass.
  s.Kick();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (passes > before) break;
    }
    REQUIRE(std::chrono::steady_clock::now() < until);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  s.Stop();
}
