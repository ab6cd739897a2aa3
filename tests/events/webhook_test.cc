// Webhook delivery to a real HTTP receiver on 127.0.0.1 (tests/cli/fake_origin.h): signed
// POSTs whose HMAC verifies, event filters, a receiver that is down and comes back (every
// event, in order, once), giving up after the bounded time, and a full queue that drops the
// oldest instead of blocking the publisher; an HTTPS receiver verified against the webhook's CA.
#include <signal.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "../cli/fake_origin.h"
#include "../e2e/tls_helpers.h"
#include "api/event.h"
#include "events/event_bus.h"
#include "events/webhook_dispatcher.h"
#include "events/webhook_signature.h"
#include "support/test_env.h"
#include "support/test_ports.h"

using namespace zdap;
using namespace zdap::events;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "s3cret-for-tests-only";

// The value of header `name` in a raw header block (names compared case-insensitively).
std::string Header(const std::string& headers, const std::string& name) {
  std::string lower_headers = headers, lower_name = name;
  for (auto& c : lower_headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower_headers.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return "";
  size_t start = at + 3 + name.size();
  size_t end = headers.find("\r\n", start);
  std::string v = headers.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

bool WaitFor(std::chrono::milliseconds limit, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

api::Event Ev(std::string_view type, const std::string& clone = "") {
  api::Event e;
  e.type = std::string(type);
  e.resource = "chinook";
  e.clone = clone;
  e.owner = clone.empty() ? "" : "alice";
  return e;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(SystemNow().time_since_epoch()).count();
}

// Counts observer outcomes.
struct Outcomes {
  std::mutex mu;
  std::map<std::string, int> counts;
  WebhookDispatcher::Observer Observer() {
    return [this](const std::string&, std::string_view outcome) {
      std::lock_guard lock(mu);
      ++counts[std::string(outcome)];
    };
  }
  int Of(const std::string& outcome) {
    std::lock_guard lock(mu);
    return counts[outcome];
  }
};

}  // namespace

TEST_CASE("a webhook gets signed events whose HMAC verifies, only the types it asked for",
          "[webhook]") {
  test::FakeOrigin receiver([](const test::FakeRequest&) { return test::FakeReply{204, ""}; });
  EventBus bus({}, SystemNow, 1);
  WebhookDispatcher hooks({{receiver.url() + "/hook", {"clone.*", "refresh.failed"}, kSecret, ""}},
                          MakeHttpWebhookTransport("zdapd/test"));
  bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
  hooks.Start();
  bus.Publish(Ev(api::event_type::kCloneCreated, "c1"));
  bus.Publish(Ev(api::event_type::kSnapshotCreated));  // not asked for
  bus.Publish(Ev(api::event_type::kRefreshFailed));
  bus.Publish(Ev(api::event_type::kCloneDestroyed, "c1"));
  REQUIRE(WaitFor(10s, [&] { return receiver.requests().size() >= 3; }));
  auto reqs = receiver.requests();
  REQUIRE(reqs.size() == 3);
  std::vector<std::string> types;
  for (const auto& r : reqs) {
    CHECK(r.method == "POST");
    CHECK(r.target == "/hook");
    CHECK(Header(r.headers, "Content-Type") == "application/json");
    std::string ts = Header(r.headers, "X-Zdap-Timestamp");
    std::string sig = Header(r.headers, "X-Zdap-Signature");
    REQUIRE(!ts.empty());
    CHECK(sig.rfind("sha256=", 0) == 0);
    CHECK(VerifyWebhookSignature(kSecret, std::stoll(ts), r.body, sig, Now()));
    // Another secret, another body or another timestamp do not verify.
    CHECK_FALSE(VerifyWebhookSignature("other", std::stoll(ts), r.body, sig, Now()));
    CHECK_FALSE(VerifyWebhookSignature(kSecret, std::stoll(ts), r.body + " ", sig, Now()));
    CHECK_FALSE(VerifyWebhookSignature(kSecret, std::stoll(ts) + 1, r.body, sig, Now()));
    auto ev = api::ParseEvent(r.body);
    REQUIRE(ev.ok());
    CHECK(Header(r.headers, "X-Zdap-Delivery") == std::to_string(ev->id));
    CHECK(Header(r.headers, "X-Zdap-Event") == ev->type);
    types.push_back(ev->type);
  }
  CHECK(types == std::vector<std::string>{"clone.created", "refresh.failed", "clone.destroyed"});
  auto stats = hooks.Stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].delivered == 3);
  CHECK(stats[0].queued == 0);
  auto deliveries = hooks.Deliveries(10);
  REQUIRE(deliveries.size() == 3);
  CHECK(deliveries[0].type == "clone.destroyed");  // newest first
  CHECK(deliveries[0].state == "delivered");
  CHECK(deliveries[0].last_status == 204);
}

TEST_CASE("a signature older than the tolerance is refused (replay)", "[webhook]") {
  std::string body = "{\"id\":1}";
  int64_t t = Now() - 600;
  std::string sig = WebhookSignature(kSecret, t, body);
  CHECK_FALSE(VerifyWebhookSignature(kSecret, t, body, sig, Now()));
  CHECK(VerifyWebhookSignature(kSecret, t, body, sig, t + 10));
  CHECK_FALSE(VerifyWebhookSignature(kSecret, t, body, sig.substr(0, 20), t));
}

TEST_CASE("a receiver that is down gets every event, in order, once it is back", "[webhook]") {
  int port = test::ReservePort();  // nothing listens on it yet: connections are refused
  EventBus bus({}, SystemNow, 1);
  Outcomes outcomes;
  WebhookOptions options;
  options.retry = {50ms, 200ms, 60s};
  WebhookDispatcher hooks({{"http://127.0.0.1:" + std::to_string(port), {"*"}, kSecret, ""}},
                          MakeHttpWebhookTransport("zdapd/test"), options, outcomes.Observer());
  bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
  hooks.Start();
  for (int i = 0; i < 20; ++i)
    bus.Publish(Ev(api::event_type::kCloneCreated, "c" + std::to_string(i)));
  REQUIRE(WaitFor(10s, [&] { return outcomes.Of("attempt_failed") >= 4; }));
  auto retrying = hooks.Deliveries(50);
  REQUIRE(!retrying.empty());
  bool some_retrying = false;
  for (const auto& d : retrying) {
    if (d.state == "retrying") {
      some_retrying = true;
      CHECK(!d.last_error.empty());
      CHECK(d.attempts >= 1);
    }
  }
  CHECK(some_retrying);
  CHECK(hooks.Stats()[0].queued == 20);
  test::FakeOrigin receiver(
      [](const test::FakeRequest&) {
        return test::FakeReply{200, "{}"};
      },
      port);
  REQUIRE(WaitFor(15s, [&] { return hooks.Stats()[0].delivered == 20; }));
  auto reqs = receiver.requests();
  REQUIRE(reqs.size() == 20);
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto ev = api::ParseEvent(reqs[i].body);
    REQUIRE(ev.ok());
    CHECK(ev->id == i + 1);
  }
  CHECK(outcomes.Of("delivered") == 20);
  CHECK(outcomes.Of("given_up") == 0);
}

TEST_CASE("a delivery is given up once the bounded time has passed", "[webhook]") {
  std::atomic<int> calls{0};
  test::FakeOrigin receiver([&](const test::FakeRequest&) {
    ++calls;
    return test::FakeReply{500, "{\"error\":\"nope\"}"};
  });
  EventBus bus({}, SystemNow, 1);
  Outcomes outcomes;
  WebhookOptions options;
  options.retry = {50ms, 100ms, 1s};
  WebhookDispatcher hooks({{receiver.url(), {"snapshot.*"}, kSecret, ""}},
                          MakeHttpWebhookTransport("zdapd/test"), options, outcomes.Observer());
  bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
  hooks.Start();
  auto started = std::chrono::steady_clock::now();
  bus.Publish(Ev(api::event_type::kSnapshotCreated));
  REQUIRE(WaitFor(10s, [&] { return outcomes.Of("given_up") == 1; }));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took >= 1s);
  CHECK(took < 5s);
  CHECK(calls.load() >= 5);
  auto d = hooks.Deliveries(1);
  REQUIRE(d.size() == 1);
  CHECK(d[0].state == "failed");
  CHECK(d[0].last_status == 500);
  CHECK(d[0].last_error == "the receiver answered HTTP 500");
  CHECK(hooks.Stats()[0].given_up == 1);
  CHECK(hooks.Stats()[0].queued == 0);
}

namespace {

// A transport that holds every POST until released (a receiver that hangs), to show that
// queueing never waits for it. Not a stand-in for HTTP: the tests above use a real receiver.
class GateTransport : public WebhookTransport {
 public:
  Result<int> Post(const WebhookTarget&, const std::vector<std::pair<std::string, std::string>>&,
                   const std::string& body) override {
    std::unique_lock lock(mu_);
    bodies_.push_back(body);
    cv_.wait(lock, [&] { return open_; });
    return 200;
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::vector<std::string> bodies_;
};

}  // namespace

TEST_CASE("a full queue drops its oldest event and never blocks the publisher", "[webhook]") {
  auto gate_owned = std::make_unique<GateTransport>();
  GateTransport* gate = gate_owned.get();
  EventBus bus({}, SystemNow, 1);
  Outcomes outcomes;
  WebhookOptions options;
  options.queue_limit = 3;
  WebhookDispatcher hooks({{"http://127.0.0.1:1/unused", {"*"}, kSecret, ""}},
                          std::move(gate_owned), options, outcomes.Observer());
  bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
  hooks.Start();
  bus.Publish(Ev(api::event_type::kSnapshotCreated));  // 1: taken, its POST hangs
  REQUIRE(WaitFor(5s, [&] { return gate->bodies().size() == 1; }));
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) bus.Publish(Ev(api::event_type::kSnapshotCreated));  // 2..1001
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(hooks.Stats()[0].queued == 3);
  CHECK(hooks.Stats()[0].dropped == 998);
  CHECK(outcomes.Of("dropped") == 998);
  gate->Open();
  REQUIRE(WaitFor(5s, [&] { return gate->bodies().size() == 4; }));
  auto bodies = gate->bodies();
  for (size_t i = 1; i < bodies.size(); ++i) {
    auto ev = api::ParseEvent(bodies[i]);
    REQUIRE(ev.ok());
    CHECK(ev->id == 998 + i);  // the newest three: 999, 1000, 1001
  }
}

TEST_CASE("webhook URLs are shown without their path (it may hold a secret)", "[webhook]") {
  CHECK(RedactedUrl("https://hooks.example.com/services/T0/B0/s3cret") ==
        "https://hooks.example.com/...");
  CHECK(RedactedUrl("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/...");
  CHECK(RedactedUrl("http://127.0.0.1:9000/") == "http://127.0.0.1:9000/");
  CHECK(RedactedUrl("http://127.0.0.1:9000") == "http://127.0.0.1:9000");
  CHECK(RedactedUrl("garbage") == "(not a URL)");
}

TEST_CASE("event patterns: exact, family and everything; others are refused", "[webhook]") {
  CHECK(EventPatternMatches("*", "clone.created"));
  CHECK(EventPatternMatches("clone.*", "clone.destroyed"));
  CHECK(EventPatternMatches("refresh.failed", "refresh.failed"));
  CHECK_FALSE(EventPatternMatches("refresh.failed", "refresh.started"));
  CHECK_FALSE(EventPatternMatches("clone.*", "snapshot.created"));
  CHECK_FALSE(EventPatternMatches("clone*", "clone.created"));
  CHECK(ValidateEventPattern("clone.*").ok());
  CHECK(ValidateEventPattern("pool.exhausted").ok());
  CHECK(ValidateEventPattern("*").ok());
  CHECK_FALSE(ValidateEventPattern("clone.create").ok());
  CHECK_FALSE(ValidateEventPattern("nothing.*").ok());
  CHECK_FALSE(ValidateEventPattern("").ok());
  CHECK(ValidateEventPattern("bogus").message().find("clone.created") != std::string::npos);
}

namespace {

// An HTTPS receiver on 127.0.0.1: socat terminates TLS with a certificate the test made
// (tests/e2e/tls_helpers.h) and hands the plain request to `plain_port`.
class TlsReceiver {
 public:
  TlsReceiver(const std::string& dir, const std::string& name, int plain_port)
      : port_(test::ReservePort()) {
    std::string out;
    REQUIRE(test::Shell("socat OPENSSL-LISTEN:" + std::to_string(port_) +
                            ",bind=127.0.0.1,reuseaddr,fork,verify=0,cert=" + dir + "/" + name +
                            ".pem,key=" + dir + "/" + name + ".key TCP:127.0.0.1:" +
                            std::to_string(plain_port) + " >/dev/null 2>&1 & echo $!",
                        &out) == 0);
    pid_ = std::atoi(out.c_str());
    REQUIRE(pid_ > 0);
    REQUIRE(WaitFor(10s, [&] {
      return test::Shell("socat -u OPEN:/dev/null TCP:127.0.0.1:" + std::to_string(port_) +
                         " 2>/dev/null") == 0;
    }));
  }
  ~TlsReceiver() { test::StopBackgroundProcess(pid_); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  int pid_ = 0;
};

}  // namespace

TEST_CASE("an HTTPS receiver is verified against the webhook's CA; a wrong CA is refused",
          "[webhook][tls]") {
  test::TempDir dir("zdap-webhook-tls");
  test::MakeCertificates(dir.path(), "one");
  test::MakeCertificates(dir.path(), "two");  // another CA, which did not sign one.pem
  test::FakeOrigin plain([](const test::FakeRequest&) { return test::FakeReply{204, ""}; });
  TlsReceiver receiver(dir.path(), "one", plain.port());
  // The probe connection of TlsReceiver reached the receiver, not a request.
  const size_t probes = plain.requests().size();

  SECTION("signed by the configured CA: delivered") {
    EventBus bus({}, SystemNow, 1);
    Outcomes outcomes;
    WebhookDispatcher hooks(
        {{receiver.url() + "/hook", {"*"}, kSecret, dir.path() + "/one-ca.pem"}},
        MakeHttpWebhookTransport("zdapd/test"), {}, outcomes.Observer());
    bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
    hooks.Start();
    bus.Publish(Ev(api::event_type::kCloneCreated, "c1"));
    REQUIRE(WaitFor(20s, [&] { return outcomes.Of("delivered") == 1; }));
    auto reqs = plain.requests();
    REQUIRE(reqs.size() == probes + 1);
    const auto& r = reqs.back();
    CHECK(r.target == "/hook");
    CHECK(VerifyWebhookSignature(kSecret, std::stoll(Header(r.headers, "X-Zdap-Timestamp")), r.body,
                                 Header(r.headers, "X-Zdap-Signature"), Now()));
    CHECK(outcomes.Of("attempt_failed") == 0);
  }
  SECTION("another CA: every attempt fails, is counted, and nothing reaches the receiver") {
    EventBus bus({}, SystemNow, 1);
    Outcomes outcomes;
    WebhookOptions options;
    options.retry = {50ms, 100ms, 1s};
    WebhookDispatcher hooks(
        {{receiver.url() + "/hook", {"*"}, kSecret, dir.path() + "/two-ca.pem"}},
        MakeHttpWebhookTransport("zdapd/test"), options, outcomes.Observer());
    bus.AddSink([&](const PublishedPtr& p) { hooks.Enqueue(p); });
    hooks.Start();
    bus.Publish(Ev(api::event_type::kCloneCreated, "c1"));
    REQUIRE(WaitFor(20s, [&] { return outcomes.Of("given_up") == 1; }));
    CHECK(outcomes.Of("attempt_failed") >= 2);
    CHECK(outcomes.Of("delivered") == 0);
    CHECK(plain.requests().size() == probes);
    auto d = hooks.Deliveries(1);
    REQUIRE(d.size() == 1);
    CHECK(d[0].state == "failed");
    INFO(d[0].last_error);
    CHECK(d[0].last_error.find("certificate") != std::string::npos);
    CHECK(d[0].last_error.find("webhooks: [{url, ca: FILE}]") != std::string::npos);
  }
}
