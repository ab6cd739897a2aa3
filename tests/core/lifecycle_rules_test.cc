// The pool, idle and quota rules as pure functions, driven by a fake clock: the same code the
// origin's maintenance pass runs (libs/origin/pools.cc, clone_expiry.cc, quota.cc).
#include <catch2/catch.hpp>

#include "core/env.h"
#include "origin/lifecycle_rules.h"

using namespace zdap;
using namespace zdap::origin;
using std::chrono::seconds;

namespace {

SystemTime Utc(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

PoolCounts Pool(int min, int max, int fresh, int making, int stale) {
  PoolCounts c;
  c.min = min;
  c.max = max;
  c.fresh_ready = fresh;
  c.making = making;
  c.stale_ready = stale;
  return c;
}

}  // namespace

TEST_CASE("a pool is filled up to min, counting clones being made") {
  PoolPlan p = PlanPool(Pool(2, 2, 0, 0, 0));
  CHECK(p.start == 2);
  CHECK(p.destroy_stale == 0);
  CHECK(p.destroy_fresh == 0);
  CHECK(PlanPool(Pool(2, 2, 1, 0, 0)).start == 1);  // after one claim
  CHECK(PlanPool(Pool(2, 2, 1, 1, 0)).start == 0);  // the refill is under way
  CHECK(PlanPool(Pool(2, 2, 2, 0, 0)).start == 0);
  CHECK(PlanPool(Pool(0, 0, 0, 0, 0)).start == 0);  // no pool
}

TEST_CASE("after a refresh every stale pool clone is replaced by one of the new snapshot") {
  PoolPlan p = PlanPool(Pool(2, 2, 0, 0, 2));
  CHECK(p.destroy_stale == 2);
  CHECK(p.start == 2);
  p = PlanPool(Pool(3, 4, 1, 0, 3));
  CHECK(p.destroy_stale == 3);
  CHECK(p.start == 2);
}

TEST_CASE("max bounds pool clones, those being made included; a lowered max trims") {
  CHECK(PlanPool(Pool(3, 3, 0, 2, 0)).start == 1);
  CHECK(PlanPool(Pool(3, 3, 2, 1, 0)).start == 0);
  PoolPlan p = PlanPool(Pool(1, 2, 3, 1, 0));  // max lowered from 4
  CHECK(p.destroy_fresh == 2);
  CHECK(p.start == 0);
  p = PlanPool(Pool(0, 0, 2, 0, 1));  // pool removed from the config
  CHECK(p.destroy_fresh == 2);
  CHECK(p.destroy_stale == 1);
  CHECK(p.start == 0);
  // A max below min (not accepted at load) never makes more than min.
  CHECK(PlanPool(Pool(2, 1, 0, 0, 0)).start == 2);
}

TEST_CASE("a clone without sessions is idle after the timeout, judged by probes") {
  FakeClockEnv clock(Utc("2026-03-01T10:00:00Z"));
  IdleTracker idle;
  const seconds timeout(60);
  CHECK(idle.ProbeDue("a", timeout, clock.Now()));
  CHECK_FALSE(idle.Idle("a", timeout, clock.Now()));  // never probed: never judged
  idle.Observe("a", 0, clock.Now());
  CHECK_FALSE(idle.ProbeDue("a", timeout, clock.Now()));
  clock.Advance(seconds(14));
  CHECK_FALSE(idle.ProbeDue("a", timeout, clock.Now()));
  clock.Advance(seconds(1));
  CHECK(idle.ProbeDue("a", timeout, clock.Now()));  // a quarter of the timeout
  idle.Observe("a", 0, clock.Now());
  clock.Advance(seconds(44));
  CHECK_FALSE(idle.Idle("a", timeout, clock.Now()));
  clock.Advance(seconds(1));
  CHECK(idle.Idle("a", timeout, clock.Now()));
}

TEST_CASE("a session restarts the idle clock, and so does a claim") {
  FakeClockEnv clock(Utc("2026-03-01T10:00:00Z"));
  IdleTracker idle;
  const seconds timeout(10);
  idle.Observe("a", 0, clock.Now());
  clock.Advance(seconds(8));
  idle.Observe("a", 2, clock.Now());  // someone connected
  clock.Advance(seconds(9));
  idle.Observe("a", 0, clock.Now());
  CHECK_FALSE(idle.Idle("a", timeout, clock.Now()));
  clock.Advance(seconds(1));
  CHECK(idle.Idle("a", timeout, clock.Now()));

  idle.Touch("a", clock.Now());  // claimed: the clock restarts and waits for a probe
  CHECK_FALSE(idle.Idle("a", timeout, clock.Now()));
  CHECK(idle.ProbeDue("a", timeout, clock.Now()));
  idle.Observe("a", 0, clock.Now());
  clock.Advance(seconds(10));
  CHECK(idle.Idle("a", timeout, clock.Now()));
  idle.Forget("a");
  CHECK_FALSE(idle.Idle("a", timeout, clock.Now()));
}

TEST_CASE("probe intervals stay between 1 s and 60 s") {
  CHECK(IdleTracker::ProbeInterval(seconds(2)) == seconds(1));
  CHECK(IdleTracker::ProbeInterval(seconds(40)) == seconds(10));
  CHECK(IdleTracker::ProbeInterval(seconds(7200)) == seconds(60));
}

TEST_CASE("quotas name the limit and the count; admins and unlimited pass") {
  QuotaCheck q{2, 2, 1, 0, ""};
  Status st = QuotaAllows(q, "bob", false, false);
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK(st.message().find("clones_per_user is 2") != std::string::npos);
  CHECK(st.message().find("already has 2 clones") != std::string::npos);
  CHECK(QuotaAllows(q, "root", true, false).ok());
  q.clones_held = 1;
  CHECK(QuotaAllows(q, "bob", false, true).ok());
  q.protected_held = 1;
  st = QuotaAllows(q, "bob", false, true);
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK(st.message().find("protected_per_user is 1") != std::string::npos);
  CHECK(QuotaAllows(q, "bob", false, false).ok());  // unprotected: the protected limit is moot
  QuotaCheck per{1, 1, 0, 0, "resource 'chinook'"};
  CHECK(QuotaAllows(per, "bob", false, false).message().find("of resource 'chinook'") !=
        std::string::npos);
  CHECK(QuotaAllows(QuotaCheck{0, 500, 0, 500, ""}, "bob", false, true).ok());
}
