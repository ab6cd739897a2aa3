// The answer to GET /v1/events (issue 24): a long-lived text/event-stream that the transport
// writes piece by piece as events arrive. The route makes it from an EventBus subscription
// (the caller's view, resumed after Last-Event-ID); the transport asks Next() for what to
// write whenever the stream wakes it, and Heartbeat() when the connection has been quiet.
//
//   retry: 3000                 once, first
//   event: gap                  when the resume point was older than the history
//   data: {"last_event_id":..}
//   id: 1733...                 then one message per event, the event's type as its name
//   event: clone.created
//   data: {...}
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "events/event_bus.h"

namespace zdap::daemon {

// What the transport needs of a response that it writes over time.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Called (from any thread) whenever Next() has something new. Set once by the transport;
  // a wake that came before it is delivered at once.
  virtual void SetWake(std::function<void()> wake) = 0;
  // The text to write now ("" = nothing yet). Not thread-safe: one writer.
  virtual std::string Next() = 0;
  // No more will come: the transport closes the connection once Next() is written.
  virtual bool ended() const = 0;
  // A comment to keep an idle connection (and proxies in between) open.
  virtual std::string Heartbeat() = 0;
};

// Relays the bus's wake-ups to whatever the transport sets later.
class Waker {
 public:
  void Wake();
  void Set(std::function<void()> wake);

 private:
  std::mutex mu_;
  std::function<void()> wake_;
  bool pending_ = false;
};

class EventStream : public ResponseStream {
 public:
  // `waker` must be the one the subscription wakes.
  EventStream(std::unique_ptr<events::Subscription> subscription, std::shared_ptr<Waker> waker,
              std::optional<uint64_t> resumed_after);
  void SetWake(std::function<void()> wake) override { waker_->Set(std::move(wake)); }
  std::string Next() override;
  bool ended() const override { return ended_; }
  std::string Heartbeat() override;

 private:
  std::unique_ptr<events::Subscription> subscription_;
  std::shared_ptr<Waker> waker_;
  std::optional<uint64_t> resumed_after_;
  bool started_ = false;
  bool ended_ = false;
};

// Parses a Last-Event-ID header: digits only ("" = absent); InvalidArgument otherwise.
Result<std::optional<uint64_t>> ParseLastEventId(std::string_view header);

}  // namespace zdap::daemon
