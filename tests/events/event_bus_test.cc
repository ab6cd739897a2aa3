// The event bus: numbering, per-viewer filtering, Last-Event-ID resume over the bounded
// history (and the gap when it no longer reaches back), readers that fall behind, and
// publishers on several threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "events/event_bus.h"
#include "events/expiry_notices.h"

using namespace zdap;
using namespace zdap::events;

namespace {

api::Event CloneEvent(std::string_view type, const std::string& clone, const std::string& owner) {
  api::Event e;
  e.type = std::string(type);
  e.resource = "chinook";
  e.clone = clone;
  e.owner = owner;
  return e;
}

api::Event SnapshotEvent(const std::string& id) {
  api::Event e;
  e.type = std::string(api::event_type::kSnapshotCreated);
  e.resource = "chinook";
  e.snapshot = id;
  return e;
}

std::vector<uint64_t> Ids(const std::vector<PublishedPtr>& events) {
  std::vector<uint64_t> out;
  for (const auto& p : events) out.push_back(p->event.id);
  return out;
}

const Viewer kAlice{"alice", false};
const Viewer kBob{"bob", false};
const Viewer kAdmin{"root", true};

}  // namespace

TEST_CASE("events are numbered consecutively from the start id and stamped", "[bus]") {
  EventBus bus({}, SystemNow, 1000);
  CHECK(bus.last_id() == 999);
  CHECK(bus.Publish(SnapshotEvent("a")) == 1000);
  CHECK(bus.Publish(SnapshotEvent("b")) == 1001);
  auto recent = bus.Recent(kAlice, 10);
  REQUIRE(recent.size() == 2);
  CHECK(recent[0]->event.time.size() == std::string("2026-12-06T20:30:00.123Z").size());
  CHECK(recent[1]->json.find("\"id\":1001") != std::string::npos);
  // Without a start id, ids start at the clock's microseconds: a later run's ids are larger.
  EventBus a;
  uint64_t first = a.Publish(SnapshotEvent("x"));
  std::this_thread::sleep_for(std::chrono::microseconds(10));
  EventBus b;
  CHECK(b.Publish(SnapshotEvent("y")) > first);
}

TEST_CASE("a user sees their own clones' events and every non-clone event; an admin all", "[bus]") {
  EventBus bus({}, SystemNow, 1);
  auto alice = bus.Subscribe(kAlice, std::nullopt, nullptr);
  auto bob = bus.Subscribe(kBob, std::nullopt, nullptr);
  auto admin = bus.Subscribe(kAdmin, std::nullopt, nullptr);
  bus.Publish(CloneEvent(api::event_type::kCloneCreated, "c1", "alice"));  // 1
  bus.Publish(CloneEvent(api::event_type::kCloneCreated, "c2", "bob"));    // 2
  bus.Publish(CloneEvent(api::event_type::kCloneCreated, "pool-1", ""));   // 3: a pool clone
  bus.Publish(SnapshotEvent("chinook@1"));                                 // 4
  api::Event refresh;
  refresh.type = std::string(api::event_type::kRefreshFailed);
  refresh.resource = "chinook";
  refresh.error = "boom";
  bus.Publish(refresh);  // 5
  CHECK(Ids(alice->Take()) == std::vector<uint64_t>{1, 4, 5});
  CHECK(Ids(bob->Take()) == std::vector<uint64_t>{2, 4, 5});
  CHECK(Ids(admin->Take()) == std::vector<uint64_t>{1, 2, 3, 4, 5});
  CHECK(alice->Take().empty());
  // Case matters: "Alice" is not alice.
  CHECK_FALSE(Visible(Viewer{"Alice", false}, CloneEvent("clone.reset", "c1", "alice")));
}

TEST_CASE("Last-Event-ID resumes after that id, filtered, then goes on live", "[bus]") {
  EventBus bus({.history = 100}, SystemNow, 1);
  for (int i = 0; i < 6; ++i) {
    bus.Publish(CloneEvent(api::event_type::kCloneReset, "c", i % 2 == 0 ? "alice" : "bob"));
  }
  auto alice = bus.Subscribe(kAlice, 2, nullptr);  // saw 1 and 2 (its own: 1)
  CHECK_FALSE(alice->gap());
  CHECK(Ids(alice->Take()) == std::vector<uint64_t>{3, 5});
  bus.Publish(CloneEvent(api::event_type::kCloneDestroyed, "c", "alice"));  // 7
  CHECK(Ids(alice->Take()) == std::vector<uint64_t>{7});
  // Resuming at the newest id: nothing to replay, no gap.
  auto up_to_date = bus.Subscribe(kAdmin, 7, nullptr);
  CHECK_FALSE(up_to_date->gap());
  CHECK(up_to_date->Take().empty());
  // No Last-Event-ID: only what comes next.
  auto fresh = bus.Subscribe(kAdmin, std::nullopt, nullptr);
  CHECK(fresh->Take().empty());
}

TEST_CASE("a resume point older than the history, or unknown, is a gap: all history is sent",
          "[bus]") {
  EventBus bus({.history = 3}, SystemNow, 10);
  for (int i = 0; i < 5; ++i) bus.Publish(SnapshotEvent(std::to_string(i)));  // 10..14; kept 12..14
  auto just_in = bus.Subscribe(kAlice, 11, nullptr);
  CHECK_FALSE(just_in->gap());
  CHECK(Ids(just_in->Take()) == std::vector<uint64_t>{12, 13, 14});
  auto too_old = bus.Subscribe(kAlice, 10, nullptr);
  CHECK(too_old->gap());
  CHECK(Ids(too_old->Take()) == std::vector<uint64_t>{12, 13, 14});
  auto earlier_run = bus.Subscribe(kAlice, 3, nullptr);
  CHECK(earlier_run->gap());
  auto future = bus.Subscribe(kAlice, 99, nullptr);
  CHECK(future->gap());
  CHECK(Ids(future->Take()) == std::vector<uint64_t>{12, 13, 14});
  // An empty history after a restart: an old id is a gap (the events since are unknown).
  EventBus restarted({}, SystemNow, 500);
  CHECK(restarted.Subscribe(kAlice, 14, nullptr)->gap());
  CHECK_FALSE(restarted.Subscribe(kAlice, 499, nullptr)->gap());
}

TEST_CASE("a reader that never reads is dropped, and never slows the publisher", "[bus]") {
  EventBus bus({.history = 16, .subscriber_queue = 64}, SystemNow, 1);
  std::atomic<int> wakes{0};
  auto stuck = bus.Subscribe(kAdmin, std::nullopt, [&] { ++wakes; });
  auto reader = bus.Subscribe(kAdmin, std::nullopt, nullptr);
  std::vector<uint64_t> read;
  for (int i = 0; i < 10000; ++i) {
    bus.Publish(SnapshotEvent("s"));
    if (i % 10 == 9) {
      for (uint64_t id : Ids(reader->Take())) read.push_back(id);
    }
  }
  CHECK(stuck->overflowed());
  CHECK(stuck->Take().empty());
  CHECK(bus.overflows() == 1);
  // Woken once when its queue first filled, once when it overflowed; not per event.
  CHECK(wakes.load() == 2);
  CHECK_FALSE(reader->overflowed());
  REQUIRE(read.size() == 10000);
  for (size_t i = 0; i < read.size(); ++i) CHECK(read[i] == i + 1);
  // A dropped reader resumes from the history like a reconnecting client.
  auto again = bus.Subscribe(kAdmin, 9990, nullptr);
  CHECK(Ids(again->Take()).size() == 10);
  stuck.reset();
  CHECK(bus.subscribers() == 2);
}

TEST_CASE("wake is called when a reader's queue goes from empty to not empty", "[bus]") {
  EventBus bus({}, SystemNow, 1);
  std::atomic<int> wakes{0};
  auto sub = bus.Subscribe(kAlice, std::nullopt, [&] { ++wakes; });
  bus.Publish(SnapshotEvent("a"));
  bus.Publish(SnapshotEvent("b"));
  CHECK(wakes.load() == 1);
  CHECK(sub->Take().size() == 2);
  bus.Publish(SnapshotEvent("c"));
  CHECK(wakes.load() == 2);
  bus.Publish(CloneEvent("clone.created", "x", "bob"));  // not alice's: no wake
  CHECK(sub->Take().size() == 1);
  bus.Publish(CloneEvent("clone.created", "x", "bob"));
  CHECK(wakes.load() == 2);
}

TEST_CASE("publishers on several threads: every reader and sink sees increasing ids", "[bus]") {
  EventBus bus({.history = 64, .subscriber_queue = 100000}, SystemNow, 1);
  std::vector<uint64_t> sunk;
  bus.AddSink([&](const PublishedPtr& p) { sunk.push_back(p->event.id); });  // under the lock
  auto sub = bus.Subscribe(kAdmin, std::nullopt, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) bus.Publish(SnapshotEvent("s"));
    });
  }
  std::vector<uint64_t> got;
  while (got.size() < 8000) {
    for (uint64_t id : Ids(sub->Take())) got.push_back(id);
    std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  for (uint64_t id : Ids(sub->Take())) got.push_back(id);
  REQUIRE(got.size() == 8000);
  REQUIRE(sunk.size() == 8000);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i] == i + 1);
    CHECK(sunk[i] == i + 1);
  }
}

TEST_CASE("clone.expiring is due once per expiry time, the warning before it", "[bus]") {
  using namespace std::chrono_literals;
  ExpiryNotices notices(1h);
  SystemTime t0 = SystemTime(std::chrono::seconds(1765000000));
  std::vector<ExpiringClone> clones = {
      {"c1", "alice", "chinook", "chinook@1", t0 + 90min, false},
      {"c2", "bob", "chinook", "chinook@1", t0 + 30min, false},
      {"c3", "bob", "chinook", "chinook@1", t0 + 10min, true},     // protected
      {"c4", "bob", "chinook", "chinook@1", std::nullopt, false},  // never expires
  };
  auto due = notices.Due(clones, t0);
  REQUIRE(due.size() == 1);
  CHECK(due[0].clone == "c2");
  CHECK(due[0].owner == "bob");
  CHECK(due[0].type == "clone.expiring");
  CHECK(due[0].expires_at == FormatRfc3339(t0 + 30min));
  CHECK(notices.Due(clones, t0 + 1s).empty());  // once
  auto later = notices.Due(clones, t0 + 31min);
  REQUIRE(later.size() == 1);
  CHECK(later[0].clone == "c1");
  // Extended: announced again when the new time comes near, not before.
  clones[1].expires_at = t0 + 3h;
  CHECK(notices.Due(clones, t0 + 40min).empty());
  auto again = notices.Due(clones, t0 + 2h + 1s);
  REQUIRE(again.size() == 1);
  CHECK(again[0].clone == "c2");
  // Past expiry: nothing (clone.destroyed follows).
  CHECK(notices.Due(clones, t0 + 4h).empty());
  ExpiryNotices never(0s);
  CHECK(never.Due(clones, t0).empty());
}
