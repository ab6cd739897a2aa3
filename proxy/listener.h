// The state one listener shares between its sessions, its health checker and the metrics page.
// Created before the event loops start and destroyed after they stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "proxy/clone_resolver.h"
#include "proxy/config.h"
#include "proxy/metrics.h"
#include "proxy/target_set.h"

namespace zdap::proxy {

struct ListenerRuntime {
  explicit ListenerRuntime(ListenerConfig c)
      : config(std::move(c)), targets(TargetsOf(config), config.balance, config.check) {
    if (config.clone) follow = std::make_unique<CloneResolver>(*config.clone, config.name);
  }

  const ListenerConfig config;
  TargetSet targets;  // following a clone: one target, named after the clone
  ListenerStats stats;
  std::unique_ptr<CloneResolver> follow;  // set when following a clone

 private:
  static std::vector<HostPort> TargetsOf(const ListenerConfig& c) {
    if (c.clone) return {HostPort{"clone/" + c.clone->id, 0}};
    return c.targets;
  }
};

// Counts the open sessions of the whole process so that a graceful shutdown knows when the
// last one has ended. `on_last_closed` runs on the thread that closed it, at most once per
// SetDraining().
class SessionTracker {
 public:
  void Opened() { open_.fetch_add(1, std::memory_order_relaxed); }
  void Closed() {
    if (open_.fetch_sub(1, std::memory_order_acq_rel) == 1 &&
        draining_.load(std::memory_order_acquire)) {
      if (!fired_.exchange(true)) on_last_closed_();
    }
  }
  int64_t open() const { return open_.load(std::memory_order_acquire); }
  // From now on, the session count reaching 0 calls `on_last_closed`. Returns true when there
  // is none open right now (the callback is then not called).
  bool SetDraining(std::function<void()> on_last_closed) {
    on_last_closed_ = std::move(on_last_closed);
    draining_.store(true, std::memory_order_release);
    if (open() == 0) return !fired_.exchange(true);
    return false;
  }

 private:
  std::atomic<int64_t> open_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> fired_{false};
  std::function<void()> on_last_closed_;
};

}  // namespace zdap::proxy
