// Dashboard: issue 24's parts of a serving zdapd, made and owned in one place: the event bus,
// the webhook dispatcher (from `webhooks:`; every key works or start is refused), the audit
// log (<data_dir>/audit), the dashboard's sessions, clone.expiring notices, and their metrics.
#pragma once

#include <memory>

#include "audit_log.h"
#include "authenticator.h"
#include "config/daemon_config.h"
#include "core/result.h"
#include "dashboard.h"
#include "events/event_bus.h"
#include "events/expiry_notices.h"
#include "events/webhook_dispatcher.h"
#include "metrics.h"
#include "sessions.h"

namespace zdap::daemon {

class Dashboard {
 public:
  // Reads each webhook's secret file (refused: missing, empty, readable by others), checks its
  // URL and event patterns, opens the audit log, and starts the webhook senders. `metrics` and
  // `auth` must outlive it; `auth` accepts the session cookie from now on.
  static Result<std::unique_ptr<Dashboard>> Start(const config::DaemonConfig& config,
                                                  Metrics& metrics, Authenticator& auth);
  ~Dashboard();  // stops the webhook senders

  DashboardParts parts();
  events::EventBus& bus() { return bus_; }
  // The clone.expiring events due now among `clones` (the scheduler's once-a-second sweep).
  void AnnounceExpiring(const std::vector<events::ExpiringClone>& clones, SystemTime now);

 private:
  explicit Dashboard(const config::DaemonConfig& config);

  events::EventBus bus_;
  std::unique_ptr<events::WebhookDispatcher> webhooks_;
  std::unique_ptr<AuditLog> audit_;
  SessionStore sessions_;
  events::ExpiryNotices expiring_;
  std::string tokens_file_;
  bool tls_ = false;
};

}  // namespace zdap::daemon
