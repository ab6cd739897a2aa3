// EventBus: the one stream of what happens on an origin (issue 24): clones made, reset and
// destroyed, snapshots, refreshes, pools, the standby. Publishers (the origin's operations,
// on whatever thread they run) hand it events; it numbers them, keeps a bounded history for
// Last-Event-ID resume, and passes each to
//   - subscriptions (GET /v1/events), each with its viewer's filter and a bounded queue: a
//     subscriber that falls behind is marked overflowed (its stream ends; it resumes from the
//     history), never waited for;
//   - sinks (webhooks), called on the publisher's thread in id order; a sink must not block.
// A publisher never waits for a subscriber or a sink to do I/O. Thread-safe.
//
// Ids: the first is the bus's start time in microseconds since the epoch, then +1 per event,
// so that ids keep increasing across restarts (a client's Last-Event-ID from an earlier run
// is older than any id now, and is told so: a gap).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/event.h"
#include "core/time.h"

namespace zdap::events {

// Who is looking. A plain user sees events about their own clones and every event that is not
// about a clone (resources, snapshots, refreshes, pools, the standby); an admin sees all.
struct Viewer {
  std::string user;
  bool admin = false;
};
bool Visible(const Viewer& viewer, const api::Event& event);

// An event as published: numbered, stamped, and its JSON text made once for every reader.
struct Published {
  api::Event event;
  std::string json;  // api::EventJsonText(event)
};
using PublishedPtr = std::shared_ptr<const Published>;

struct BusOptions {
  size_t history = 2048;           // events kept for resume
  size_t subscriber_queue = 1024;  // events queued per subscriber before it counts as too slow
};

class EventBus;

// One reader of the stream (an SSE connection). Thread-safe. Unsubscribes when destroyed.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The events queued since the last Take, in id order (the resumed history first).
  std::vector<PublishedPtr> Take();
  // The subscriber fell `subscriber_queue` events behind: its queue was dropped. The
  // connection should end; the client resumes from the history with Last-Event-ID.
  bool overflowed() const;
  // The resume point was older than the history (or from another run, or unknown): events may
  // have been missed, and the client should re-read the lists it keeps.
  bool gap() const { return gap_; }
  const Viewer& viewer() const { return viewer_; }

 private:
  friend class EventBus;
  struct State;
  Subscription(std::shared_ptr<State> state, Viewer viewer, bool gap)
      : state_(std::move(state)), viewer_(std::move(viewer)), gap_(gap) {}
  std::shared_ptr<State> state_;
  Viewer viewer_;
  bool gap_ = false;
};

class EventBus {
 public:
  // `first_id` 0 = the clock's microseconds now. `now` stamps events (tests pass a fake).
  explicit EventBus(BusOptions options = {}, std::function<SystemTime()> now = SystemNow,
                    uint64_t first_id = 0);
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Numbers and stamps `event` (its id and time are overwritten), keeps it in the history and
  // hands it to every sink and every subscription whose viewer may see it. Returns the id.
  uint64_t Publish(api::Event event);

  // A sink sees every event (no filter), in id order, on the publisher's thread, with the
  // bus's lock held: it must only queue the event and return. Add sinks before publishing.
  using Sink = std::function<void(const PublishedPtr&)>;
  void AddSink(Sink sink);

  // A new reader for `viewer`. With `last_id`, the history after it that the viewer may see
  // is queued first (a gap is flagged when the history no longer reaches back to it). `wake`
  // is called (on a publisher's thread, without the bus's lock) whenever the queue goes from
  // empty to not empty, or overflows; it must only schedule the reader.
  std::unique_ptr<Subscription> Subscribe(Viewer viewer, std::optional<uint64_t> last_id,
                                          std::function<void()> wake);

  // The history the viewer may see, oldest first, at most `limit` newest events.
  std::vector<PublishedPtr> Recent(const Viewer& viewer, size_t limit) const;

  size_t subscribers() const;
  uint64_t overflows() const;  // subscriptions dropped for being too slow, since start
  uint64_t last_id() const;    // the newest id, first_id - 1 before any

 private:
  friend class Subscription;
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace zdap::events
