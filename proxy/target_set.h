// TargetSet: the targets behind one listener, their health, and the balance rule that orders
// them for a new connection. Thread-safe without locks: every event loop reads and updates it
// through atomics, the health checker (one event loop) writes health.
//
// Health: every target starts up. A connect failure marks it down at once (passive). With an
// active check it comes back after `rise` consecutive passes and an up target goes down after
// `fall` consecutive failures; without one (check none) a down target is tried again after
// `retry_after`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "proxy/address.h"
#include "proxy/config.h"

namespace zdap::proxy {

struct Target {
  explicit Target(HostPort a) : address(std::move(a)), label(address.ToString()) {}

  const HostPort address;
  const std::string label;  // "db1:6003"

  std::atomic<bool> up{true};
  std::atomic<int> streak{0};           // > 0: passes in a row, < 0: failures in a row
  std::atomic<int64_t> retry_at_ms{0};  // check none: steady ms after which a down target is tried

  // Metrics.
  std::atomic<int64_t> active{0};
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> connect_failures{0};
  std::atomic<uint64_t> bytes_to_target{0};
  std::atomic<uint64_t> bytes_from_target{0};
  std::atomic<uint64_t> checks_failed{0};
};

class TargetSet {
 public:
  TargetSet(const std::vector<HostPort>& targets, Balance balance, const HealthCheckConfig& check);
  TargetSet(const TargetSet&) = delete;
  TargetSet& operator=(const TargetSet&) = delete;

  size_t size() const { return targets_.size(); }
  Target& at(size_t i) { return targets_[i]; }
  const Target& at(size_t i) const { return targets_[i]; }
  Balance balance() const { return balance_; }

  // The targets a new connection tries, in order: the up ones by the balance rule, then the
  // down ones in failover order (checks may be stale; better a late connect than none). Each
  // target at most once, at most `max_attempts` of them.
  void Plan(size_t max_attempts, std::vector<size_t>* order);

  // Passive health, from connection attempts.
  void ReportConnectFailure(size_t i);
  void ReportConnectSuccess(size_t i);
  // Active health. Returns true when the target's up/down state changed.
  bool ReportCheck(size_t i, bool passed);

  size_t UpCount() const;

 private:
  bool IsUsable(const Target& t, int64_t now_ms) const;

  std::deque<Target> targets_;  // deque: Target holds atomics and never moves
  const Balance balance_;
  const HealthCheckConfig check_;
  std::atomic<uint64_t> next_{0};  // roundrobin position
};

int64_t SteadyNowMs();

}  // namespace zdap::proxy
