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
#include <thread>

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
  // A replica resource's standby went from `previous` to `state` (replica_source.h), on its
  // monitor's thread.
  virtual void StandbyStateChanged(const std::string& /*resource*/, const std::string& /*state*/,
                                   const std::string& /*previous*/) {}
  // The timed work's expiry sweep has run at `now` (once a second): time-based notices.
  virtual void ExpirySwept(SystemTime /*now*/) {}
};

class ObserverSlot;

// One call to the observer of a slot: while it lives the slot counts it as in flight, so that
// replacing the observer waits for it (a refresh job may be telling the old observer just as
// its owner goes). Use it as a temporary: `ObserverSlot::Of(slot)->CloneCreated(...)`.
class ObserverCall {
 public:
  ObserverCall(const ObserverCall&) = delete;
  ObserverCall& operator=(const ObserverCall&) = delete;
  ~ObserverCall();
  OriginObserver* operator->() const { return observer_; }

 private:
  friend class ObserverSlot;
  ObserverCall(const ObserverSlot* slot, OriginObserver* observer)
      : slot_(slot), observer_(observer) {}
  const ObserverSlot* slot_;  // nullptr: nothing counted
  OriginObserver* observer_;
};

// Where the parts find the observer: set by the owner of the Origin before serving; until
// then (and for parts made without a slot, as tests make them) nothing is told.
class ObserverSlot {
 public:
  // Replaces the observer and returns once no call to the one before is running: after
  // Set(nullptr) the old observer may be destroyed. Calls are quick, so this waits briefly.
  void Set(OriginObserver* observer) {
    observer_.store(observer);
    while (in_flight_.load() != 0) std::this_thread::yield();
  }
  // The observer of `slot`, or one that ignores everything. The count goes up before the
  // pointer is read (both sequentially consistent): a Set that saw no call in flight has
  // stored its pointer before any later call reads it.
  static ObserverCall Of(const ObserverSlot* slot) {
    static OriginObserver none;
    if (slot == nullptr) return ObserverCall(nullptr, &none);
    slot->in_flight_.fetch_add(1);
    OriginObserver* o = slot->observer_.load();
    return ObserverCall(slot, o != nullptr ? o : &none);
  }

 private:
  friend class ObserverCall;
  std::atomic<OriginObserver*> observer_{nullptr};
  mutable std::atomic<int> in_flight_{0};
};

inline ObserverCall::~ObserverCall() {
  if (slot_ != nullptr) slot_->in_flight_.fetch_sub(1);
}

}  // namespace zdap::origin
