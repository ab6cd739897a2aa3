// Lifecycle rules driven by a FakeClockEnv: no test here waits for a ttl.
#include <catch2/catch.hpp>

#include "core/env.h"
#include "origin/lifecycle_rules.h"

using namespace zdap;
using namespace zdap::origin;
using catalog::CloneRecord;
using catalog::CloneState;

namespace {

SystemTime Utc(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

config::Resource ResourceWith(std::chrono::seconds ttl, std::chrono::seconds max_ttl) {
  config::Resource r;
  r.name = "shop";
  r.clone_ttl = ttl;
  r.clone_max_ttl = max_ttl;
  return r;
}

// A ready clone made "now" on `env`'s clock with the ttl the rules give it.
CloneRecord MadeNow(Env& env, const config::Resource& r, std::optional<std::chrono::seconds> ttl) {
  CloneRecord c;
  c.id = "shop-0001";
  c.state = CloneState::kReady;
  c.created_at = env.Now();
  auto t = CloneTtl(r, ttl);
  REQUIRE(t.ok());
  if (t->count() > 0) c.expires_at = c.created_at + *t;
  return c;
}

}  // namespace

TEST_CASE("a clone expires exactly at its ttl on the env's clock, not before") {
  FakeClockEnv env(Utc("2026-03-01T12:00:00Z"));
  auto r = ResourceWith(std::chrono::hours(8), std::chrono::hours(0));
  CloneRecord c = MadeNow(env, r, std::nullopt);
  REQUIRE(c.expires_at);
  CHECK(*c.expires_at == Utc("2026-03-01T20:00:00Z"));
  env.Advance(std::chrono::hours(8) - std::chrono::seconds(1));
  CHECK_FALSE(ExpiredAt(c, env.Now()));
  env.Advance(std::chrono::seconds(1));
  CHECK(ExpiredAt(c, env.Now()));
  env.Advance(std::chrono::hours(24 * 365));
  CHECK(ExpiredAt(c, env.Now()));
}

TEST_CASE("a protected clone never expires; unprotected it does") {
  FakeClockEnv env(Utc("2026-03-01T12:00:00Z"));
  CloneRecord c =
      MadeNow(env, ResourceWith(std::chrono::minutes(5), std::chrono::seconds(0)), std::nullopt);
  c.is_protected = true;
  env.Advance(std::chrono::hours(24 * 3650));
  CHECK_FALSE(ExpiredAt(c, env.Now()));
  c.is_protected = false;
  CHECK(ExpiredAt(c, env.Now()));
}

TEST_CASE("a clone without a ttl, or being created or deleted, is not swept; a failed one is") {
  FakeClockEnv env(Utc("2026-03-01T12:00:00Z"));
  CloneRecord forever =
      MadeNow(env, ResourceWith(std::chrono::seconds(0), std::chrono::seconds(0)), std::nullopt);
  CHECK_FALSE(forever.expires_at);
  CloneRecord brief = MadeNow(env, ResourceWith(std::chrono::seconds(0), std::chrono::seconds(0)),
                              std::chrono::seconds(30));
  env.Advance(std::chrono::hours(1));
  CHECK_FALSE(ExpiredAt(forever, env.Now()));
  CHECK(ExpiredAt(brief, env.Now()));
  // Creating and deleting clones belong to their operation (or to recovery).
  for (auto state : {CloneState::kCreating, CloneState::kDeleting}) {
    brief.state = state;
    CHECK_FALSE(ExpiredAt(brief, env.Now()));
  }
  // A failed clone is kept for its owner to read why, until its ttl (unless protected).
  brief.state = CloneState::kFailed;
  CHECK(ExpiredAt(brief, env.Now()));
  brief.is_protected = true;
  CHECK_FALSE(ExpiredAt(brief, env.Now()));
  forever.state = CloneState::kFailed;
  CHECK_FALSE(ExpiredAt(forever, env.Now()));
}

TEST_CASE("max_ttl bounds the ttl asked for, and 'no ttl' is longer than any") {
  auto r = ResourceWith(std::chrono::hours(1), std::chrono::hours(24));
  CHECK(CloneTtl(r, std::nullopt).value() == std::chrono::hours(1));
  CHECK(CloneTtl(r, std::chrono::hours(24)).value() == std::chrono::hours(24));
  auto too_long = CloneTtl(r, std::chrono::hours(25));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.status().code() == Code::kInvalidArgument);
  CHECK_THAT(too_long.status().message(), Catch::Contains("shop"));
  CHECK_FALSE(CloneTtl(r, std::chrono::seconds(0)).ok());
  // Without a max_ttl anything goes, none included.
  auto free = ResourceWith(std::chrono::seconds(0), std::chrono::seconds(0));
  CHECK(CloneTtl(free, std::chrono::seconds(0)).value().count() == 0);
}

TEST_CASE("the default Env runs on the system clock") {
  auto before = SystemNow();
  auto now = Env::Default()->Now();
  CHECK(now >= before);
  CHECK(now - before < std::chrono::seconds(5));
}
