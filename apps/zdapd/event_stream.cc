#include "event_stream.h"

#include <fmt/format.h>

#include "api/sse.h"

namespace zdap::daemon {
namespace {

constexpr int64_t kRetryMs = 3000;  // a dropped client comes back after this, with its last id

}  // namespace

void Waker::Wake() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (!wake_) {
      pending_ = true;
      return;
    }
    wake = wake_;
  }
  wake();
}

void Waker::Set(std::function<void()> wake) {
  bool pending;
  {
    std::lock_guard lock(mu_);
    wake_ = wake;
    pending = std::exchange(pending_, false);
  }
  if (pending && wake) wake();
}

EventStream::EventStream(std::unique_ptr<events::Subscription> subscription,
                         std::shared_ptr<Waker> waker, std::optional<uint64_t> resumed_after)
    : subscription_(std::move(subscription)),
      waker_(std::move(waker)),
      resumed_after_(resumed_after) {}

std::string EventStream::Next() {
  std::string out;
  if (!started_) {
    started_ = true;
    out += api::SseRetry(kRetryMs);
    if (subscription_->gap()) {
      out += api::SseEvent("", "gap",
                           fmt::format("{{\"last_event_id\":{},\"message\":\"events after it are "
                                       "no longer kept; re-read the lists\"}}",
                                       resumed_after_.value_or(0)));
    }
  }
  for (const events::PublishedPtr& p : subscription_->Take()) {
    out += api::SseEvent(std::to_string(p->event.id), p->event.type, p->json);
  }
  if (subscription_->overflowed()) {
    // Too slow to keep up: end here; the client reconnects with its last id and resumes.
    ended_ = true;
  }
  return out;
}

std::string EventStream::Heartbeat() {
  return api::SseComment("keep-alive");
}

Result<std::optional<uint64_t>> ParseLastEventId(std::string_view header) {
  if (header.empty()) return std::optional<uint64_t>();
  if (header.size() > 19 || header.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgument("Last-Event-ID must be the decimal id of an event from this stream");
  }
  uint64_t v = 0;
  for (char c : header) v = v * 10 + static_cast<uint64_t>(c - '0');
  return std::optional<uint64_t>(v);
}

}  // namespace zdap::daemon
