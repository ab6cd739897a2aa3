// What issue 24 adds to the daemon beside the origin: the event bus and its webhooks, the
// audit log and the dashboard's sessions. zdapd's main makes them and hands them to the Api;
// each is optional (null) for tests and the fuzz target, and the routes that need a missing
// part answer 404 as if they did not exist.
#pragma once

#include <string>

namespace zdap::events {
class EventBus;
class WebhookDispatcher;
}  // namespace zdap::events

namespace zdap::daemon {

class AuditLog;
class SessionStore;

struct DashboardParts {
  events::EventBus* bus = nullptr;
  events::WebhookDispatcher* webhooks = nullptr;
  AuditLog* audit = nullptr;
  SessionStore* sessions = nullptr;
  std::string tokens_file;  // "" (open mode): no token routes
  bool tls = false;         // the API is served over TLS (the session cookie is Secure)
};

}  // namespace zdap::daemon
