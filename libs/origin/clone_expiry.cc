// The expiry sweeps (the scheduler's thread): clones past expires_at, and idle clones. A
// clone whose resource sets `clone.idle_timeout` goes once its server has reported no client
// session for that long; sessions are counted by the engine itself over the clone's unix
// socket, and a failed probe judges nothing.
#include <fmt/format.h>

#include "core/log.h"
#include "origin/clone_service.h"

namespace zdap::origin {

using catalog::CloneState;

int CloneService::ExpireClones(SystemTime now) {
  int n = 0;
  for (const auto& r : p_.catalog.List()) {
    if (!ExpiredAt(r, now)) continue;
    log::Info("clone {} expired at {}; destroying it", r.id, FormatRfc3339(*r.expires_at));
    if (DestroyFor(r.id, DaemonCaller(), DestroyReason::kExpiry).ok()) ++n;
  }
  return n;
}

int CloneService::ExpireIdle(SystemTime now) {
  int n = 0;
  for (const auto& r : p_.catalog.List()) {
    // Pool clones wait unowned on purpose; protected clones never expire.
    if (r.pooled || r.is_protected || r.state != CloneState::kReady) continue;
    auto res = p_.resources.Find(r.resource);
    if (!res.ok() || !(*res)->idle_timeout) continue;
    std::chrono::seconds timeout = *(*res)->idle_timeout;
    if (p_.idle.ProbeDue(r.id, timeout, now)) {
      engine::Endpoint socket;
      socket.socket_dir = p_.servers.RunDir(r.id);
      socket.port = r.port;
      auto sessions = p_.resources.EngineFor(**res).ClientSessions(
          **res, socket, p_.servers.run_as(), std::chrono::seconds(5));
      if (!sessions.ok()) {
        log::Warn("idle check of clone {} failed: {}", r.id, sessions.status().message());
        continue;
      }
      p_.idle.Observe(r.id, *sessions, now);
    }
    if (!p_.idle.Idle(r.id, timeout, now)) continue;
    log::Info("clone {} had no client session for {}; destroying it", r.id,
              FormatDuration(timeout));
    if (DestroyFor(r.id, DaemonCaller(), DestroyReason::kIdle).ok()) ++n;
  }
  return n;
}

}  // namespace zdap::origin
