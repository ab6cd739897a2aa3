#include "proxy/target_set.h"

#include <algorithm>
#include <random>

namespace zdap::proxy {

int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TargetSet::TargetSet(const std::vector<HostPort>& targets, Balance balance,
                     const HealthCheckConfig& check)
    : balance_(balance), check_(check) {
  for (const HostPort& t : targets) targets_.emplace_back(t);
}

bool TargetSet::IsUsable(const Target& t, int64_t now_ms) const {
  if (t.up.load(std::memory_order_relaxed)) return true;
  return check_.kind == CheckKind::kNone && now_ms >= t.retry_at_ms.load(std::memory_order_relaxed);
}

size_t TargetSet::UpCount() const {
  int64_t now = SteadyNowMs();
  size_t n = 0;
  for (const Target& t : targets_) n += IsUsable(t, now) ? 1 : 0;
  return n;
}

void TargetSet::Plan(size_t max_attempts, std::vector<size_t>* order) {
  order->clear();
  const size_t n = targets_.size();
  int64_t now = SteadyNowMs();
  // Candidates in failover order; `up` first.
  size_t up_count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (IsUsable(targets_[i], now)) {
      order->push_back(i);
      ++up_count;
    }
  }
  auto up_end = order->begin() + static_cast<std::ptrdiff_t>(up_count);
  if (up_count > 1) {
    switch (balance_) {
      case Balance::kFirst:
        break;
      case Balance::kRoundRobin: {
        size_t start = next_.fetch_add(1, std::memory_order_relaxed) % up_count;
        std::rotate(order->begin(), order->begin() + static_cast<std::ptrdiff_t>(start), up_end);
        break;
      }
      case Balance::kLeastConn: {
        // Rotate first so that ties are spread, then a stable sort by active connections.
        size_t start = next_.fetch_add(1, std::memory_order_relaxed) % up_count;
        std::rotate(order->begin(), order->begin() + static_cast<std::ptrdiff_t>(start), up_end);
        std::stable_sort(order->begin(), up_end, [this](size_t a, size_t b) {
          return targets_[a].active.load(std::memory_order_relaxed) <
                 targets_[b].active.load(std::memory_order_relaxed);
        });
        break;
      }
      case Balance::kRandom: {
        thread_local std::minstd_rand rng{std::random_device{}()};
        std::shuffle(order->begin(), up_end, rng);
        break;
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!IsUsable(targets_[i], now)) order->push_back(i);
  }
  if (order->size() > max_attempts) order->resize(max_attempts);
}

void TargetSet::ReportConnectFailure(size_t i) {
  Target& t = targets_[i];
  t.connect_failures.fetch_add(1, std::memory_order_relaxed);
  t.up.store(false, std::memory_order_relaxed);
  t.streak.store(0, std::memory_order_relaxed);
  t.retry_at_ms.store(SteadyNowMs() + check_.interval.count(), std::memory_order_relaxed);
}

void TargetSet::ReportConnectSuccess(size_t i) {
  Target& t = targets_[i];
  t.connections.fetch_add(1, std::memory_order_relaxed);
  if (check_.kind == CheckKind::kNone) t.up.store(true, std::memory_order_relaxed);
}

bool TargetSet::ReportCheck(size_t i, bool passed) {
  Target& t = targets_[i];
  int s = t.streak.load(std::memory_order_relaxed);
  if (passed) {
    s = s > 0 ? std::min(s + 1, 1000) : 1;
  } else {
    s = s < 0 ? std::max(s - 1, -1000) : -1;
    t.checks_failed.fetch_add(1, std::memory_order_relaxed);
  }
  t.streak.store(s, std::memory_order_relaxed);
  bool up = t.up.load(std::memory_order_relaxed);
  if (!up && s >= check_.rise) {
    t.up.store(true, std::memory_order_relaxed);
    return true;
  }
  if (up && -s >= check_.fall) {
    t.up.store(false, std::memory_order_relaxed);
    return true;
  }
  return false;
}

}  // namespace zdap::proxy
