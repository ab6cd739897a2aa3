// Idle expiry: a clone whose resource sets `clone.idle_timeout` goes once its server has
// reported no client session for that long. Sessions are counted by the engine itself over
// the clone's unix socket; a failed probe judges nothing.
#include <fmt/format.h>

#include "core/log.h"
#include "origin/origin.h"

namespace zdap::origin {

using catalog::CloneState;

int Origin::ExpireIdleClones(SystemTime now) {
  int n = 0;
  for (const auto& r : catalog_->List()) {
    // Pool clones wait unowned on purpose; protected clones never expire.
    if (r.pooled || r.is_protected || r.state != CloneState::kReady) continue;
    auto res = FindResource(r.resource);
    if (!res.ok() || !(*res)->idle_timeout) continue;
    std::chrono::seconds timeout = *(*res)->idle_timeout;
    if (idle_.ProbeDue(r.id, timeout, now)) {
      engine::Endpoint socket;
      socket.socket_dir = RunDir(r.id);
      socket.port = r.port;
      auto sessions =
          EngineFor(**res)->ClientSessions(**res, socket, run_as_, std::chrono::seconds(5));
      if (!sessions.ok()) {
        log::Warn("idle check of clone {} failed: {}", r.id, sessions.status().message());
        continue;
      }
      idle_.Observe(r.id, *sessions, now);
    }
    if (!idle_.Idle(r.id, timeout, now)) continue;
    log::Info("clone {} had no client session for {}; destroying it", r.id,
              FormatDuration(timeout));
    if (DestroyClone(r.id, Caller{"zdapd", true}).ok()) ++n;
  }
  return n;
}

}  // namespace zdap::origin
