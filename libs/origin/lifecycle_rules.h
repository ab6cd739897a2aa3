// The origin's lifecycle rules (a clone's ttl and expiry, pools, idle expiry, quotas) as pure
// functions of records, counts and times, so that unit tests run them with a fake clock and
// the origin runs the same code.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/clone_record.h"
#include "config/resource.h"
#include "core/result.h"
#include "core/time.h"

namespace zdap::origin {

// True when `clone` is due for the expiry sweep at `now`: ready or failed (a failed clone is
// kept for its owner to read why, until deleted or expired), not protected, and past its
// expires_at (a clone without one never expires).
bool ExpiredAt(const catalog::CloneRecord& clone, SystemTime now);

// The ttl a new clone of `resource` gets: `requested`, or the resource's clone.ttl (0 = none).
// InvalidArgument when it is longer than clone.max_ttl (and "none" is longer than any).
Result<std::chrono::seconds> CloneTtl(const config::Resource& resource,
                                      std::optional<std::chrono::seconds> requested);

// A resource's pool as the catalog shows it now.
struct PoolCounts {
  int min = 0;
  int max = 0;          // pool clones at most, those being made included
  int fresh_ready = 0;  // ready, of the newest snapshot: claimable
  int making = 0;       // being made (always of the newest snapshot when they started)
  int stale_ready = 0;  // ready, of an older snapshot: replaced
};

// What one maintenance pass does to a pool.
struct PoolPlan {
  int destroy_stale = 0;  // every stale clone goes: claims take the newest snapshot only
  int destroy_fresh = 0;  // fresh clones beyond max (max lowered)
  int start = 0;          // new clones to make, one after the other
};

PoolPlan PlanPool(const PoolCounts& counts);

// When each clone last had a client session, by the engine's own account. The clock starts
// at a clone's first sighting (creation, claim or the daemon's start) and restarts whenever a
// probe sees a session. Thread-safe.
class IdleTracker {
 public:
  // A probe of `clone` at `now` found `sessions` client sessions.
  void Observe(const std::string& clone, int sessions, SystemTime now);
  // Starts (or restarts) the clock of `clone` at `now` without a probe (a claim).
  void Touch(const std::string& clone, SystemTime now);
  // True if `clone` should be probed at `now`: never probed, or last probed at least
  // ProbeInterval(timeout) ago.
  bool ProbeDue(const std::string& clone, std::chrono::seconds timeout, SystemTime now) const;
  // True once `clone` has had no session for `timeout` (and has been probed at least once
  // since the clock started, so an unprobed clone is never judged).
  bool Idle(const std::string& clone, std::chrono::seconds timeout, SystemTime now) const;
  void Forget(const std::string& clone);

  // Probes come at a quarter of the timeout, between 1 s and 60 s apart.
  static std::chrono::seconds ProbeInterval(std::chrono::seconds timeout);

 private:
  struct Entry {
    SystemTime last_active{};
    std::optional<SystemTime> last_probe;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// A per-user limit (0 = none) and what the user holds now.
struct QuotaCheck {
  int clones_limit = 0;
  int clones_held = 0;
  int protected_limit = 0;
  int protected_held = 0;
  std::string scope;  // "" = the daemon's quota, else "resource 'NAME'"
};

// PermissionDenied naming the limit and the count when one more clone (protected if
// `wants_protected`) would pass a limit; OK otherwise and always for an admin.
Status QuotaAllows(const QuotaCheck& q, const std::string& user, bool admin, bool wants_protected);

}  // namespace zdap::origin
