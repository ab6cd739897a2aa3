// Counters of one listener and their Prometheus text exposition (format 0.0.4). Counters are
// relaxed atomics bumped per connection or per buffer-sized chunk, never per byte.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/target_set.h"

namespace zdap::proxy {

struct ListenerStats {
  std::atomic<int64_t> active{0};          // client connections open now
  std::atomic<uint64_t> accepted{0};       // client connections accepted
  std::atomic<uint64_t> failed{0};         // clients closed because no target could be reached
  std::atomic<uint64_t> retries{0};        // connects tried again on another target
  std::atomic<uint64_t> idle_timeouts{0};  // connections closed by --idle-timeout
};

struct ListenerView {
  std::string name;
  const ListenerStats* stats;
  const TargetSet* targets;
};

std::string RenderMetrics(const std::vector<ListenerView>& listeners);

}  // namespace zdap::proxy
