#include "origin/lifecycle_rules.h"

#include <fmt/format.h>

#include <algorithm>

namespace zdap::origin {

bool ExpiredAt(const catalog::CloneRecord& clone, SystemTime now) {
  return !clone.is_protected && clone.expires_at && *clone.expires_at <= now &&
         (clone.state == catalog::CloneState::kReady ||
          clone.state == catalog::CloneState::kFailed);
}

Result<std::chrono::seconds> CloneTtl(const config::Resource& resource,
                                      std::optional<std::chrono::seconds> requested) {
  std::chrono::seconds ttl = requested.value_or(resource.clone_ttl);
  if (resource.clone_max_ttl.count() > 0 && (ttl.count() == 0 || ttl > resource.clone_max_ttl)) {
    return InvalidArgument(fmt::format("ttl {} is longer than resource '{}' allows ({})",
                                       FormatDuration(ttl), resource.name,
                                       FormatDuration(resource.clone_max_ttl)));
  }
  return ttl;
}

PoolPlan PlanPool(const PoolCounts& c) {
  PoolPlan p;
  p.destroy_stale = c.stale_ready;
  int cap = std::max(c.max, c.min);
  int kept = c.fresh_ready + c.making;
  if (kept > cap) p.destroy_fresh = std::min(c.fresh_ready, kept - cap);
  kept -= p.destroy_fresh;
  p.start = std::max(0, std::min(c.min - kept, cap - kept));
  return p;
}

void IdleTracker::Observe(const std::string& clone, int sessions, SystemTime now) {
  std::lock_guard lock(mu_);
  auto [it, added] = entries_.try_emplace(clone, Entry{now, std::nullopt});
  if (sessions > 0) it->second.last_active = now;
  it->second.last_probe = now;
}

void IdleTracker::Touch(const std::string& clone, SystemTime now) {
  std::lock_guard lock(mu_);
  entries_[clone] = Entry{now, std::nullopt};
}

bool IdleTracker::ProbeDue(const std::string& clone, std::chrono::seconds timeout,
                           SystemTime now) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(clone);
  if (it == entries_.end() || !it->second.last_probe) return true;
  return now - *it->second.last_probe >= ProbeInterval(timeout);
}

bool IdleTracker::Idle(const std::string& clone, std::chrono::seconds timeout,
                       SystemTime now) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(clone);
  if (it == entries_.end() || !it->second.last_probe) return false;
  return now - it->second.last_active >= timeout;
}

void IdleTracker::Forget(const std::string& clone) {
  std::lock_guard lock(mu_);
  entries_.erase(clone);
}

std::chrono::seconds IdleTracker::ProbeInterval(std::chrono::seconds timeout) {
  return std::clamp(timeout / 4, std::chrono::seconds(1), std::chrono::seconds(60));
}

Status QuotaAllows(const QuotaCheck& q, const std::string& user, bool admin, bool wants_protected) {
  if (admin) return Status::Ok();
  std::string where = q.scope.empty() ? "" : " of " + q.scope;
  if (q.clones_limit > 0 && q.clones_held >= q.clones_limit) {
    return Status(Code::kPermissionDenied,
                  fmt::format("quota: '{}' already has {} clones{} (clones_per_user is {}); "
                              "destroy one first",
                              user, q.clones_held, where, q.clones_limit));
  }
  if (wants_protected && q.protected_limit > 0 && q.protected_held >= q.protected_limit) {
    return Status(Code::kPermissionDenied,
                  fmt::format("quota: '{}' already has {} protected clones{} "
                              "(protected_per_user is {}); unprotect or destroy one first",
                              user, q.protected_held, where, q.protected_limit));
  }
  return Status::Ok();
}

}  // namespace zdap::origin
