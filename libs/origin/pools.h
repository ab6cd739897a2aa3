// Pools: ready, unowned clones of each resource's newest snapshot (`pool: {min, max}`), made
// ahead of time so that a claim answers in milliseconds. The timed work's maintenance pass
// keeps them (stale ones, of an older snapshot, and those beyond max go; new ones are made
// up to min); a claim hands one over: a new password set on the running server (the pool's
// stops working), the caller as owner, expiry from now. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "core/env.h"
#include "origin/busy.h"
#include "origin/caller.h"
#include "origin/clone_service.h"
#include "origin/clone_view.h"
#include "origin/journal.h"
#include "origin/lifecycle_rules.h"
#include "origin/observer.h"
#include "origin/quota.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "storage/driver.h"

namespace zdap::origin {

struct ClaimResult {
  CloneView clone;
  // True: a ready pool clone was handed over. False: the pool had none ready, and the clone
  // was made for this claim (a create's latency).
  bool from_pool = false;
};

// What the pools work with; each part outlives them.
struct PoolParts {
  Env& env;
  const ResourceSet& resources;
  storage::Driver& store;
  catalog::Catalog& catalog;
  Journal& journal;
  SecretStore& secrets;
  Servers& servers;
  Snapshots& snapshots;
  CloneService& clones;
  const CloneViews& views;
  const Quota& quota;
  IdleTracker& idle;
  BusySet& busy;
  const ObserverSlot* observer = nullptr;  // told of claims and of claims that found none
};

class Pools {
 public:
  explicit Pools(PoolParts parts) : p_(std::move(parts)) {}

  // Pool clones of the resource by state (ready of the newest snapshot, being made, stale).
  PoolCounts CountsOf(const config::Resource& resource) const;
  // Ready pool clones of the resource's newest snapshot: what a claim can take now.
  int Ready(const std::string& resource) const;
  // One pass over every pool (the timed work's thread, never a request's).
  void Maintain(SystemTime now);
  // Hands the caller a ready pool clone of the newest snapshot: a new password (`password`
  // when not "", else a random one), owner, expiry from now. When the pool has none ready, a
  // clone is created for the claim instead, and the answer says so (from_pool false).
  Result<ClaimResult> Claim(const std::string& resource, std::optional<std::chrono::seconds> ttl,
                            const Caller& caller, const std::string& password = "");
  // Called when a claim has taken a pool clone (or found none), so that the pool is refilled
  // soon (the scheduler's Kick). Set before serving.
  void OnTaken(std::function<void()> kick) { kick_ = std::move(kick); }

 private:
  // Gives the pool clone `rec` (busy, ready) to `caller`: password (`chosen`, else a random
  // one), owner, expiry.
  Status HandOver(catalog::CloneRecord& rec, std::chrono::seconds ttl, const Caller& caller,
                  const std::string& chosen);
  void Kick() const;

  PoolParts p_;
  std::function<void()> kick_;
  std::mutex retry_mu_;
  std::map<std::string, SystemTime> retry_at_;  // resource -> after a failed refill
};

}  // namespace zdap::origin
