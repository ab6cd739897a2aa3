#include "events/webhook_dispatcher.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "events/webhook_signature.h"
#include "net/http_client.h"
#include "net/http_url.h"

namespace zdap::events {
namespace {

using Steady = std::chrono::steady_clock;

int64_t UnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class HttpWebhookTransport : public WebhookTransport {
 public:
  explicit HttpWebhookTransport(std::string user_agent) : user_agent_(std::move(user_agent)) {}

  Result<int> Post(const WebhookTarget& target,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const std::string& body) override {
    ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(target.url));
    net::HttpRequest req;
    req.method = "POST";
    req.target = url.path.empty() ? "/" : url.path;
    if (target.url.size() > 1 && target.url.back() == '/' && req.target.back() != '/') {
      req.target += '/';
    }
    url.path.clear();
    req.headers = headers;
    req.body = body;
    net::HttpClientOptions options;
    options.connect_timeout = std::chrono::seconds(5);
    options.io_timeout = std::chrono::seconds(10);
    options.max_body_bytes = 64u << 10;  // the receiver's reply is read and ignored
    options.user_agent = user_agent_;
    options.ca_file = target.ca_file;
    options.ca_hint = "give the webhook's CA in zdapd's config (webhooks: [{url, ca: FILE}])";
    net::HttpClient client(std::move(url), std::move(options));
    ZDAP_ASSIGN_OR_RETURN(net::HttpResponse resp, client.Send(req));
    return resp.status;
  }

 private:
  std::string user_agent_;
};

DeliveryRecord RecordOf(const api::Event& ev, const std::string& url, std::string state) {
  DeliveryRecord r;
  r.event_id = ev.id;
  r.type = ev.type;
  r.url = url;
  r.state = std::move(state);
  return r;
}

}  // namespace

std::string RedactedUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(not a URL)";
  size_t path = url.find('/', scheme + 3);
  if (path == std::string_view::npos || path + 1 >= url.size()) return std::string(url);
  return std::string(url.substr(0, path)) + "/...";
}

bool EventPatternMatches(std::string_view pattern, std::string_view type) {
  if (pattern == "*" || pattern == type) return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ".*") {
    std::string_view family = pattern.substr(0, pattern.size() - 1);  // "clone."
    return type.substr(0, family.size()) == family;
  }
  return false;
}

Status ValidateEventPattern(std::string_view pattern) {
  size_t n = 0;
  const std::string_view* types = api::EventTypes(&n);
  for (size_t i = 0; i < n; ++i) {
    if (EventPatternMatches(pattern, types[i])) return Status::Ok();
  }
  std::string known;
  for (size_t i = 0; i < n; ++i) {
    if (!known.empty()) known += ", ";
    known += types[i];
  }
  return InvalidArgument(
      fmt::format("'{}' matches no event type; use one of {}, a family such "
                  "as clone.*, or *",
                  pattern.substr(0, 64), known));
}

std::unique_ptr<WebhookTransport> MakeHttpWebhookTransport(std::string user_agent) {
  return std::make_unique<HttpWebhookTransport>(std::move(user_agent));
}

struct WebhookDispatcher::Hook {
  struct Item {
    uint64_t seq;
    PublishedPtr event;
    Steady::time_point queued;
    SystemTime queued_wall;
  };
  WebhookTarget target;
  std::string name;  // RedactedUrl(target.url): what logs, metrics and records show
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;  // guarded by mu
  uint64_t next_seq = 0;   // guarded by mu
  bool stopping = false;   // guarded by mu
  WebhookStats stats;      // guarded by mu (queued is computed)
  std::thread thread;
};

struct WebhookDispatcher::Log {
  mutable std::mutex mu;
  std::deque<DeliveryRecord> records;  // oldest first
};

WebhookDispatcher::WebhookDispatcher(std::vector<WebhookTarget> targets,
                                     std::unique_ptr<WebhookTransport> transport,
                                     WebhookOptions options, Observer observer)
    : transport_(std::move(transport)),
      options_(options),
      observer_(std::move(observer)),
      log_(std::make_unique<Log>()) {
  if (options_.queue_limit == 0) options_.queue_limit = 1;
  for (auto& t : targets) {
    auto hook = std::make_unique<Hook>();
    hook->name = RedactedUrl(t.url);
    hook->stats.url = hook->name;
    hook->target = std::move(t);
    hooks_.push_back(std::move(hook));
  }
}

WebhookDispatcher::~WebhookDispatcher() {
  Stop();
}

void WebhookDispatcher::Start() {
  for (auto& hook : hooks_) {
    if (hook->thread.joinable()) continue;
    Hook* h = hook.get();
    hook->thread = std::thread([this, h] { Run(*h); });
  }
}

void WebhookDispatcher::Stop() {
  for (auto& hook : hooks_) {
    {
      std::lock_guard lock(hook->mu);
      hook->stopping = true;
    }
    hook->cv.notify_all();
  }
  for (auto& hook : hooks_) {
    if (hook->thread.joinable()) hook->thread.join();
    std::lock_guard lock(hook->mu);
    if (!hook->queue.empty()) {
      log::Warn("webhook {}: {} event(s) not delivered at shutdown", hook->name,
                hook->queue.size());
    }
  }
}

void WebhookDispatcher::Enqueue(const PublishedPtr& event) {
  for (auto& hook : hooks_) {
    bool wanted = false;
    for (const auto& pattern : hook->target.events) {
      if (EventPatternMatches(pattern, event->event.type)) wanted = true;
    }
    if (!wanted) continue;
    std::optional<Hook::Item> dropped;
    SystemTime now = SystemNow();
    {
      std::lock_guard lock(hook->mu);
      if (hook->queue.size() >= options_.queue_limit) {
        dropped = std::move(hook->queue.front());
        hook->queue.pop_front();
        ++hook->stats.dropped;
      }
      hook->queue.push_back(Hook::Item{hook->next_seq++, event, Steady::now(), now});
    }
    hook->cv.notify_one();
    DeliveryRecord rec = RecordOf(event->event, hook->name, "queued");
    rec.queued_at = now;
    Record(rec);
    if (dropped) {
      DeliveryRecord d = RecordOf(dropped->event->event, hook->name, "dropped");
      d.queued_at = dropped->queued_wall;
      d.last_error = fmt::format("the webhook's queue was full ({} events)", options_.queue_limit);
      Record(d);
      if (observer_) observer_(hook->name, "dropped");
    }
  }
}

void WebhookDispatcher::Run(Hook& hook) {
  std::chrono::milliseconds delay = options_.retry.first_delay;
  int attempts = 0;
  uint64_t current = UINT64_MAX;  // seq of the item the attempts count belongs to
  while (true) {
    Hook::Item item;
    {
      std::unique_lock lock(hook.mu);
      hook.cv.wait(lock, [&] { return hook.stopping || !hook.queue.empty(); });
      if (hook.stopping) return;
      item = hook.queue.front();
    }
    if (item.seq != current) {  // a new head: its own attempts and back-off
      current = item.seq;
      attempts = 0;
      delay = options_.retry.first_delay;
    }
    const api::Event& ev = item.event->event;
    SystemTime sent_at = SystemNow();
    int64_t timestamp = UnixSeconds(sent_at);
    std::vector<std::pair<std::string, std::string>> headers = {
        {std::string(kEventHeader), ev.type},
        {std::string(kDeliveryHeader), std::to_string(ev.id)},
        {std::string(kTimestampHeader), std::to_string(timestamp)},
        {std::string(kSignatureHeader),
         WebhookSignature(hook.target.secret, timestamp, item.event->json)},
    };
    Result<int> reply = transport_->Post(hook.target, headers, item.event->json);
    ++attempts;
    DeliveryRecord rec = RecordOf(ev, hook.name, "");
    rec.attempts = attempts;
    rec.queued_at = item.queued_wall;
    rec.last_attempt_at = sent_at;
    bool delivered = reply.ok() && *reply >= 200 && *reply < 300;
    if (reply.ok()) rec.last_status = *reply;
    if (!reply.ok()) {
      rec.last_error = reply.status().message();
    } else if (!delivered) {
      rec.last_error = fmt::format("the receiver answered HTTP {}", *reply);
    }
    auto now = Steady::now();
    auto give_up_at = item.queued + options_.retry.give_up_after;
    bool give_up = !delivered && now >= give_up_at;
    std::string_view outcome;
    {
      std::lock_guard lock(hook.mu);
      if (delivered || give_up) {
        if (!hook.queue.empty() && hook.queue.front().seq == item.seq) hook.queue.pop_front();
        if (delivered) {
          ++hook.stats.delivered;
        } else {
          ++hook.stats.given_up;
          ++hook.stats.failed_attempts;
        }
      } else {
        ++hook.stats.failed_attempts;
      }
    }
    if (delivered) {
      rec.state = "delivered";
      outcome = "delivered";
    } else if (give_up) {
      rec.state = "failed";
      outcome = "given_up";
      log::Warn("webhook {}: gave up on event {} ({}) after {} attempt(s): {}", hook.name, ev.id,
                ev.type, attempts, rec.last_error);
    } else {
      auto wait = std::min<Steady::duration>(delay, give_up_at - now);
      rec.state = "retrying";
      rec.next_attempt_at = sent_at + std::chrono::duration_cast<SystemTime::duration>(wait);
      outcome = "attempt_failed";
      if (attempts == 1) {
        log::Warn("webhook {}: event {} ({}) not delivered, retrying: {}", hook.name, ev.id,
                  ev.type, rec.last_error);
      }
      Record(rec);
      if (observer_) observer_(hook.name, outcome);
      delay = std::min(delay * 2, options_.retry.max_delay);
      std::unique_lock lock(hook.mu);
      hook.cv.wait_until(lock, now + wait, [&] { return hook.stopping; });
      continue;
    }
    Record(rec);
    if (observer_) observer_(hook.name, outcome);
  }
}

void WebhookDispatcher::Record(const DeliveryRecord& record) {
  std::lock_guard lock(log_->mu);
  auto& records = log_->records;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->event_id == record.event_id && it->url == record.url) {
      records.erase(std::next(it).base());
      break;
    }
  }
  records.push_back(record);
  while (records.size() > options_.deliveries_kept) records.pop_front();
}

std::vector<DeliveryRecord> WebhookDispatcher::Deliveries(size_t limit) const {
  std::lock_guard lock(log_->mu);
  std::vector<DeliveryRecord> out;
  for (auto it = log_->records.rbegin(); it != log_->records.rend() && out.size() < limit; ++it) {
    out.push_back(*it);
  }
  return out;
}

std::vector<WebhookStats> WebhookDispatcher::Stats() const {
  std::vector<WebhookStats> out;
  for (const auto& hook : hooks_) {
    std::lock_guard lock(hook->mu);
    WebhookStats s = hook->stats;
    s.queued = hook->queue.size();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace zdap::events
