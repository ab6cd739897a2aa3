// WebhookDispatcher: delivers the event stream to the webhooks an admin configured (issue 24,
// `webhooks: [{url, events, secret_file}]`): a signed POST of each matching event's JSON
// (events/webhook_signature.h), retried with exponential back-off until it is accepted (2xx)
// or `give_up_after` has passed since it was queued.
//
// Each webhook has its own bounded queue and its own sender thread, and delivers in event
// order: while the oldest event waits for a retry, the newer ones wait behind it, so a
// receiver that comes back gets every event, in order, once (receivers drop repeats by
// X-Zdap-Delivery: a reply lost on the way back is retried). Enqueue (the event bus's sink)
// never blocks: a full queue drops its oldest event, counted as dropped. What happened to the
// last deliveries is kept for GET /v1/webhooks/deliveries; counts go to the observer
// (zdapd's /metrics).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "events/event_bus.h"

namespace zdap::events {

struct WebhookTarget {
  std::string url;                  // https:// (http:// only to a loopback receiver)
  std::vector<std::string> events;  // patterns: "clone.created", "clone.*", "*"
  std::string secret;               // the HMAC key (from secret_file)
  std::string ca_file;              // https: extra CA bundle; "" = the system's CAs
};

// `url` as logs, metrics and GET /v1/webhooks/deliveries show it: scheme, host and port, the
// path cut to "/..." (chat services put their secret into a webhook URL's path).
std::string RedactedUrl(std::string_view url);

// True if `type` matches `pattern`: equal, "*", or "prefix.*" for every type in "prefix.".
bool EventPatternMatches(std::string_view pattern, std::string_view type);
// A pattern names a known type or family ("clone.*"), or is "*"; else InvalidArgument.
Status ValidateEventPattern(std::string_view pattern);

// The POST itself, behind an interface so that tests and the transport can be swapped.
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // POSTs `body` (JSON) to `target.url` with `headers`; the reply's HTTP status, or an error
  // (unreachable, TLS, timeout) whose message says what failed.
  virtual Result<int> Post(const WebhookTarget& target,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body) = 0;
};

// The real transport: net::HttpClient, certificates verified (system CAs plus ca_file).
std::unique_ptr<WebhookTransport> MakeHttpWebhookTransport(std::string user_agent);

struct RetryPolicy {
  std::chrono::milliseconds first_delay{1000};
  std::chrono::milliseconds max_delay{15000};
  std::chrono::seconds give_up_after{3600};  // from when the event was queued
};

struct WebhookOptions {
  size_t queue_limit = 10000;    // events waiting per webhook
  size_t deliveries_kept = 500;  // outcomes kept for Deliveries()
  RetryPolicy retry;
};

// One delivery's state, newest state of each (event, webhook).
struct DeliveryRecord {
  uint64_t event_id = 0;
  std::string type;
  std::string url;    // RedactedUrl
  std::string state;  // queued | retrying | delivered | failed (gave up) | dropped (queue full)
  int attempts = 0;
  int last_status = 0;     // the last reply's HTTP status, 0 = none
  std::string last_error;  // the last attempt's transport error or non-2xx reason
  SystemTime queued_at{};
  SystemTime last_attempt_at{};
  SystemTime next_attempt_at{};  // retrying only
};

// Totals per webhook since start.
struct WebhookStats {
  std::string url;    // RedactedUrl
  size_t queued = 0;  // waiting now
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t given_up = 0;
  uint64_t dropped = 0;
};

class WebhookDispatcher {
 public:
  // Called for each outcome: "delivered", "attempt_failed", "given_up", "dropped", with the
  // webhook's RedactedUrl.
  using Observer = std::function<void(const std::string& url, std::string_view outcome)>;

  WebhookDispatcher(std::vector<WebhookTarget> targets, std::unique_ptr<WebhookTransport> transport,
                    WebhookOptions options = {}, Observer observer = nullptr);
  ~WebhookDispatcher();  // Stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void Start();
  // Ends the sender threads after their current attempt; events still queued are logged and
  // lost (the queue is in memory).
  void Stop();

  // The bus's sink: queues the event for every webhook whose patterns match it. Never blocks.
  void Enqueue(const PublishedPtr& event);

  // The newest outcomes first, at most `limit`.
  std::vector<DeliveryRecord> Deliveries(size_t limit) const;
  std::vector<WebhookStats> Stats() const;

 private:
  struct Hook;
  void Run(Hook& hook);
  void Record(const DeliveryRecord& record);

  std::unique_ptr<WebhookTransport> transport_;
  WebhookOptions options_;
  Observer observer_;
  std::vector<std::unique_ptr<Hook>> hooks_;
  struct Log;
  std::unique_ptr<Log> log_;
};

}  // namespace zdap::events
