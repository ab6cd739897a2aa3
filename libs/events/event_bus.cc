#include "events/event_bus.h"

#include <deque>
#include <map>
#include <mutex>

namespace zdap::events {

bool Visible(const Viewer& viewer, const api::Event& event) {
  if (viewer.admin) return true;
  // A clone event is its owner's alone; a pool clone (no owner) is the admins'.
  if (!event.clone.empty()) return !event.owner.empty() && event.owner == viewer.user;
  return true;
}

struct Subscription::State {
  std::mutex mu;
  std::vector<PublishedPtr> queue;  // guarded by mu
  bool overflowed = false;          // guarded by mu
  bool woken = false;               // guarded by mu: wake() called since the last Take
  std::function<void()> wake;
  Viewer viewer;
  size_t limit = 0;
  uint64_t key = 0;
  std::weak_ptr<EventBus::Core> bus;
};

struct EventBus::Core {
  mutable std::mutex mu;
  BusOptions options;
  std::function<SystemTime()> now;
  uint64_t first_id = 1;
  uint64_t next_id = 1;
  std::deque<PublishedPtr> history;
  std::vector<Sink> sinks;
  std::map<uint64_t, std::shared_ptr<Subscription::State>> subs;
  uint64_t next_key = 0;
  uint64_t overflows = 0;

  // Queues `p` for `s` (both locks held by the caller's order: mu, then s.mu). Returns
  // whether the subscriber should be woken.
  bool Offer(Subscription::State& s, const PublishedPtr& p) {
    std::lock_guard lock(s.mu);
    if (s.overflowed) return false;
    if (s.queue.size() >= s.limit) {
      s.queue.clear();
      s.queue.shrink_to_fit();
      s.overflowed = true;
      ++overflows;
      s.woken = true;
      return true;
    }
    s.queue.push_back(p);
    if (s.woken) return false;
    s.woken = true;
    return true;
  }
};

Subscription::~Subscription() {
  if (auto bus = state_->bus.lock()) {
    std::lock_guard lock(bus->mu);
    bus->subs.erase(state_->key);
  }
}

std::vector<PublishedPtr> Subscription::Take() {
  std::lock_guard lock(state_->mu);
  state_->woken = false;
  std::vector<PublishedPtr> out;
  out.swap(state_->queue);
  return out;
}

bool Subscription::overflowed() const {
  std::lock_guard lock(state_->mu);
  return state_->overflowed;
}

EventBus::EventBus(BusOptions options, std::function<SystemTime()> now, uint64_t first_id)
    : core_(std::make_shared<Core>()) {
  core_->options = options;
  if (core_->options.history == 0) core_->options.history = 1;
  if (core_->options.subscriber_queue == 0) core_->options.subscriber_queue = 1;
  core_->now = std::move(now);
  if (first_id == 0) {
    auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(core_->now().time_since_epoch())
            .count();
    first_id = micros > 0 ? static_cast<uint64_t>(micros) : 1;
  }
  core_->first_id = first_id;
  core_->next_id = first_id;
}

EventBus::~EventBus() = default;

uint64_t EventBus::Publish(api::Event event) {
  std::vector<std::function<void()>> to_wake;
  uint64_t id;
  {
    std::lock_guard lock(core_->mu);
    id = core_->next_id++;
    event.id = id;
    event.time = FormatRfc3339Millis(core_->now());
    auto p = std::make_shared<Published>();
    p->json = api::EventJsonText(event);
    p->event = std::move(event);
    PublishedPtr published = std::move(p);
    core_->history.push_back(published);
    while (core_->history.size() > core_->options.history) core_->history.pop_front();
    for (const Sink& sink : core_->sinks) sink(published);
    for (auto& [key, s] : core_->subs) {
      if (!Visible(s->viewer, published->event)) continue;
      if (core_->Offer(*s, published) && s->wake) to_wake.push_back(s->wake);
    }
  }
  for (auto& wake : to_wake) wake();
  return id;
}

void EventBus::AddSink(Sink sink) {
  std::lock_guard lock(core_->mu);
  core_->sinks.push_back(std::move(sink));
}

std::unique_ptr<Subscription> EventBus::Subscribe(Viewer viewer, std::optional<uint64_t> last_id,
                                                  std::function<void()> wake) {
  auto state = std::make_shared<Subscription::State>();
  state->wake = std::move(wake);
  state->viewer = viewer;
  state->bus = core_;
  bool gap = false;
  {
    std::lock_guard lock(core_->mu);
    state->limit = std::max(core_->options.subscriber_queue, core_->options.history);
    if (last_id) {
      uint64_t oldest = core_->history.empty() ? core_->next_id : core_->history.front()->event.id;
      // Ids are consecutive within a run: the history reaches back to last_id + 1 or it does
      // not. An id from the future (another run, garbage) cannot be placed: all of it is sent.
      gap = *last_id + 1 < oldest || *last_id >= core_->next_id;
      for (const PublishedPtr& p : core_->history) {
        if ((gap || p->event.id > *last_id) && Visible(viewer, p->event)) {
          state->queue.push_back(p);
        }
      }
      state->woken = !state->queue.empty();  // the reader takes them without a wake
    }
    state->key = core_->next_key++;
    core_->subs.emplace(state->key, state);
  }
  return std::unique_ptr<Subscription>(new Subscription(std::move(state), std::move(viewer), gap));
}

std::vector<PublishedPtr> EventBus::Recent(const Viewer& viewer, size_t limit) const {
  std::vector<PublishedPtr> out;
  std::lock_guard lock(core_->mu);
  for (auto it = core_->history.rbegin(); it != core_->history.rend() && out.size() < limit; ++it) {
    if (Visible(viewer, (*it)->event)) out.push_back(*it);
  }
  return {out.rbegin(), out.rend()};
}

size_t EventBus::subscribers() const {
  std::lock_guard lock(core_->mu);
  return core_->subs.size();
}

uint64_t EventBus::overflows() const {
  std::lock_guard lock(core_->mu);
  return core_->overflows;
}

uint64_t EventBus::last_id() const {
  std::lock_guard lock(core_->mu);
  return core_->next_id - 1;
}

}  // namespace zdap::events
