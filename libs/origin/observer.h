// OriginObserver: what happened on the origin, told as it happens, for whoever listens above
// it (zdapd turns it into the event stream of issue 24; libs/origin knows nothing of events).
// The parts call their ObserverSlot from the thread that did the work (a request's worker,
// the timed work's thread, a refresh job's thread), after the change is durable: an observer
// must be thread-safe, quick and must not call back into the origin's mutating calls. Pool
// clones are nobody's until claimed: their making and trimming are not told; a claim is a
// clone created for its claimer.
#pragma once

#include <atomic>
#include <string>

#include "catalog/catalog.h"
#include "core/env.h"
#include "origin/job.h"

namespace zdap::origin {

// Why a clone went (SPEC "Lifecycle rules").
enum class DestroyReason {
  kOwner,   // its owner destroyed it
  kAdmin,   // an admin destroyed another user's clone
  kExpiry,  // past expires_at
  kIdle,    // no client session for the resource's clone.idle_timeout
};
inline const char* DestroyReasonName(DestroyReason reason) {
  switch (reason) {
    case DestroyReason::kOwner:
      return "owner";
    case DestroyReason::kAdmin:
      return "admin";
    case DestroyReason::kExpiry:
      return "expiry";
    case DestroyReason::kIdle:
      return "idle";
  }
  return "admin";
}

// Every call has an empty default: an observer overrides what it wants. `actor` is the user
// whose request caused it, "" for the origin's own timed work.
class OriginObserver {
 public:
  virtual ~OriginObserver() = default;
  virtual void CloneCreated(const catalog::CloneRecord& /*clone*/, const std::string& /*actor*/) {}
  virtual void CloneReset(const catalog::CloneRecord& /*clone*/, const std::string& /*actor*/) {}
  // Extended or (un)protected.
  virtual void CloneUpdated(const catalog::CloneRecord& /*clone*/, const std::string& /*actor*/) {}
  virtual void CloneDestroyed(const catalog::CloneRecord& /*clone*/, DestroyReason /*reason*/,
                              const std::string& /*actor*/) {}
  // A claim found no ready clone in the pool of `resource` (one with `pool.min`) and makes
  // one at a create's latency.
  virtual void PoolExhausted(const std::string& /*resource*/) {}
  // Before the job's thread runs, so that its start is told before its end.
  virtual void RefreshStarted(const JobInfo& /*job*/, const std::string& /*actor*/) {}
  // Done (job.snapshot is the new snapshot) or failed (job.error), on the job's thread.
  virtual void RefreshFinished(const JobInfo& /*job*/) {}
  // A snapshot went: deleted by `actor`, or ("") past `refresh.keep` with no clone left.
  virtual void SnapshotDeleted(const std::string& /*resource*/, const std::string& /*id*/,
                               const std::string& /*actor*/) {}
  // The timed work's expiry sweep has run at `now` (once a second): time-based notices.
  virtual void ExpirySwept(SystemTime /*now*/) {}
};

// Where the parts find the observer: set by the owner of the Origin before serving; until
// then (and for parts made without a slot, as tests make them) nothing is told.
class ObserverSlot {
 public:
  void Set(OriginObserver* observer) { observer_.store(observer); }
  // The observer of `slot`, or one that ignores everything.
  static OriginObserver& Of(const ObserverSlot* slot) {
    static OriginObserver none;
    OriginObserver* o = slot != nullptr ? slot->observer_.load() : nullptr;
    return o != nullptr ? *o : none;
  }

 private:
  std::atomic<OriginObserver*> observer_{nullptr};
};

}  // namespace zdap::origin
