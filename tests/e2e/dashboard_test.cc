// Issue 24 end to end: a real zdapd over HTTPS with tokens, a webhook receiver on loopback, and
// the dashboard driven in Debian's headless Chromium (tests/ui/dashboard.mjs, playwright-core):
// a user signs in, makes, connects to (psql: 2240 invoice lines), resets, extends and destroys
// a clone; an admin sees another user's clone; a refresh failing with markup shows it as text.
// Around it: the SSE streams each caller sees (curl), resume with Last-Event-ID, signed
// webhooks and a receiver down for 30 s, tokens changed through the API, and the audit log.
// Screenshots (1280 and 390 px) go to <build>/test-artifacts/dashboard.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/event.h"
#include "api/sse.h"
#include "cli/fake_origin.h"
#include "e2e/tls_helpers.h"
#include "e2e/zdapd_fixture.h"
#include "events/webhook_signature.h"

using namespace zdap::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kHookSecret = "e2e-webhook-secret-0123456789abcdef";
// The broken resource's dump: the import fails on this line, and PostgreSQL's error quotes it.
constexpr const char* kMarkup = "<img src=x onerror=alert(1)>";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `curl -sN` of GET /v1/events in the background, its output in a file.
class SseCapture {
 public:
  SseCapture(const std::string& dir, const std::string& name, const std::string& url,
             const std::string& curl_auth, const std::string& last_event_id = "")
      : file_(dir + "/sse-" + name + ".txt") {
    std::string cmd = "curl -sN --cacert " + dir + "/one-ca.pem " + curl_auth +
                      (last_event_id.empty() ? "" : " -H 'Last-Event-ID: " + last_event_id + "'") +
                      " " + url + "/v1/events > " + file_ + " 2>&1 & echo $!";
    std::string out;
    REQUIRE(Shell(cmd, &out) == 0);
    pid_ = std::atoi(out.c_str());
    REQUIRE(pid_ > 0);
    REQUIRE(Eventually([&] { return Contains(Text(), "retry:"); }, 20s));
  }
  ~SseCapture() { StopBackgroundProcess(pid_); }
  std::string Text() const {
    std::ifstream in(file_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::vector<zdap::api::Event> Events() const {
    zdap::api::SseParser parser;
    REQUIRE(parser.Feed(Text()).ok());
    std::vector<zdap::api::Event> out;
    zdap::api::SseMessage m;
    while (parser.Next(&m)) {
      if (m.event == "gap") continue;
      auto e = zdap::api::ParseEvent(m.data);
      REQUIRE(e.ok());
      CHECK(m.id == std::to_string(e->id));
      CHECK(m.event == e->type);
      out.push_back(*e);
    }
    return out;
  }

 private:
  std::string file_;
  int pid_ = 0;
};

// The first event of `type` about `clone` ("" = any), or null.
const zdap::api::Event* Find(const std::vector<zdap::api::Event>& events, const std::string& type,
                             const std::string& clone = "") {
  for (const auto& e : events) {
    if (e.type == type && (clone.empty() || e.clone == clone)) return &e;
  }
  return nullptr;
}

struct DashboardOrigin {
  TempDir tmp{"zdapd-dash"};
  std::string ca, config, secret_file;
  int hook_port = ReservePort();
  ZdapdFixture d;

  DashboardOrigin() {
    ::chmod(tmp.path().c_str(), 0755);
    MakeCertificates(tmp.path(), "one");
    ca = tmp.path() + "/one-ca.pem";
    secret_file = WriteFile(tmp.path() + "/hook.secret", std::string(kHookSecret) + "\n");
    ::chmod(secret_file.c_str(), 0600);
    // A resource whose refresh fails with markup in its error line.
    std::string dump = WriteFile(
        tmp.path() + "/broken.sql",
        std::string("CREATE TABLE t (n int);\nINSERT INTO t VALUES ('") + kMarkup + "');\n");
    ::chmod(dump.c_str(), 0644);
    WriteFile(d.config_dir() + "/resources/broken.yaml",
              "name: broken\nengine: postgres\nsource: {dump: " + dump +
                  ", database: broken}\ncredentials: {user: postgres, password: zdap}\n"
                  "pool: {min: 1}\n"  // never filled (no snapshot): a claim finds it empty
                  "refresh: {cron: '0 3 1 1 *'}\n");  // shown with its next run, once a year
    config = WriteFile(tmp.path() + "/zdapd.yaml",
                       "tls: {cert: " + tmp.path() + "/one.pem, key: " + tmp.path() +
                           "/one.key}\nexpiry_warning: 1h\nwebhooks:\n  - url: http://127.0.0.1:" +
                           std::to_string(hook_port) +
                           "/hook\n    events: ['*']\n    secret_file: " + secret_file + "\n");
    d.UseTokens({"alice", "bob"}, {"root"});
    d.SetServeOptions({"--config", config}, "https", "--cacert " + ca);
    std::string out;
    int rc = d.Host("--config " + config + " refresh chinook", &out);
    INFO(out);
    REQUIRE(rc == 0);
  }

  std::string Auth(const std::string& user) const {
    return "-H 'Authorization: Bearer " + d.Token(user) + "'";
  }
  json::object Json(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& user, int want) {
    std::string out;
    int code = d.Call(method, path, body, &out, user);
    INFO(method << " " << path << ": " << out);
    REQUIRE(code == want);
    return out.empty() ? json::object() : json::parse(out).as_object();
  }
};

// `zdap events` (ZDAP_CONFIG with `user`'s token) in the background, its output in a file.
class ZdapEvents {
 public:
  ZdapEvents(const DashboardOrigin& o, const std::string& user, const std::string& format)
      : file_(o.tmp.path() + "/zdap-events-" + user + "-" + format + ".txt") {
    std::string config = o.tmp.path() + "/zdap-" + user + ".yaml";
    std::string env = "ZDAP_CONFIG=" + config + " " + ProgramPath("apps/zdap/zdap");
    std::string out;
    REQUIRE(Shell(env + " origin add " + o.d.Url() + " --token " + o.d.Token(user) + " --ca " +
                      o.ca + " >/dev/null",
                  &out) == 0);
    REQUIRE(Shell(env + " events -o " + format + " > " + file_ + " 2>" + file_ + ".err & echo $!",
                  &out) == 0);
    pid_ = std::atoi(out.c_str());
    REQUIRE(pid_ > 0);
  }
  ~ZdapEvents() {
    // A background job of a non-interactive shell ignores SIGINT (Ctrl-C): it is ended as a
    // service manager would end it.
    StopBackgroundProcess(pid_);
  }
  std::vector<std::string> Lines() const {
    std::ifstream in(file_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::string file_;
  int pid_ = 0;
};

// The events a receiver got: body, verified signature, by delivery id.
std::vector<zdap::api::Event> Received(const FakeOrigin& receiver) {
  std::vector<zdap::api::Event> out;
  for (const auto& r : receiver.requests()) {
    auto header = [&](const std::string& name) {
      size_t at = r.headers.find("\r\n" + name + ": ");
      if (at == std::string::npos) return std::string();
      size_t start = at + 4 + name.size();
      return r.headers.substr(start, r.headers.find("\r\n", start) - start);
    };
    std::string ts = header("X-Zdap-Timestamp");
    REQUIRE(!ts.empty());
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    CHECK(zdap::events::VerifyWebhookSignature(kHookSecret, std::stoll(ts), r.body,
                                               header("X-Zdap-Signature"), now));
    auto e = zdap::api::ParseEvent(r.body);
    REQUIRE(e.ok());
    CHECK(header("X-Zdap-Delivery") == std::to_string(e->id));
    out.push_back(*e);
  }
  return out;
}

}  // namespace

TEST_CASE("the dashboard in a browser, the event streams, webhooks and the audit log",
          "[dashboard]") {
  DashboardOrigin o;
  auto receiver = std::make_unique<FakeOrigin>(
      [](const FakeRequest&) {
        return FakeReply{204, ""};
      },
      o.hook_port);
  o.d.Start();
  std::string url = o.d.Url();
  SseCapture alice_sse(o.tmp.path(), "alice", url, o.Auth("alice"));
  SseCapture root_sse(o.tmp.path(), "root", url, o.Auth("root"));
  ZdapEvents alice_json(o, "alice", "json");
  ZdapEvents alice_text(o, "alice", "text");

  // Bob's clone: the admin sees it on the page, alice does not.
  json::object bobs =
      o.Json("POST", "/v1/resources/chinook/clones", "{\"name\":\"bobs-clone\"}", "bob", 201);
  std::string bob_clone(bobs["id"].as_string());

  // --- the browser -------------------------------------------------------------------------
  std::string artifacts = std::string(ZDAP_BINARY_DIR) + "/test-artifacts/dashboard";
  std::filesystem::remove_all(artifacts);
  std::string out;
  int rc = Shell("cd " + std::string(ZDAP_SOURCE_DIR) + "/tests/ui && ZDAP_URL=" + url +
                     " ZDAP_USER_TOKEN=" + o.d.Token("alice") +
                     " ZDAP_ADMIN_TOKEN=" + o.d.Token("root") + " ZDAP_OTHER_CLONE=" + bob_clone +
                     " ZDAP_BROKEN_RESOURCE=broken ZDAP_OUT=" + artifacts + " ZDAP_CA=" + o.ca +
                     " NODE_EXTRA_CA_CERTS=" + o.ca + " timeout 600 node dashboard.mjs 2>&1",
                 &out);
  INFO(out);
  INFO(o.d.LogText());
  REQUIRE(rc == 0);
  for (const char* page : {"signin", "clones", "resources", "origin", "all-clones", "tokens",
                           "audit", "resources-admin"}) {
    for (int width : {1280, 390}) {
      std::string png = artifacts + "/" + page + "-" + std::to_string(width) + ".png";
      CHECK(std::filesystem::exists(png));
    }
  }
  std::string results_text;
  REQUIRE(Shell("cat " + artifacts + "/results.json", &results_text) == 0);
  json::object results = json::parse(results_text).as_object();
  std::string clone(results["clone"].as_string());
  std::string uri(results["uri"].as_string());
  std::string password = uri.substr(uri.find(':', 12) + 1, uri.find('@') - uri.find(':', 12) - 1);
  REQUIRE(password.size() >= 16);

  // --- the event streams ---------------------------------------------------------------------
  REQUIRE(Eventually([&] { return Find(alice_sse.Events(), "clone.destroyed", clone) != nullptr; },
                     30s));
  auto alice_events = alice_sse.Events();
  std::vector<std::string> mine;
  for (const auto& e : alice_events) {
    if (e.clone == clone) mine.push_back(e.type + (e.reason.empty() ? "" : ":" + e.reason));
    CHECK(e.clone != bob_clone);  // never another user's clone
  }
  // The clone's lifetime (the resource's default ttl) is within expiry_warning (1h): the
  // sweep announces it once, a second after its create at most; extended by 7 days, it is not
  // announced again.
  std::vector<std::string> changes;
  for (const auto& t : mine) {
    if (t != "clone.expiring") changes.push_back(t);
  }
  CHECK(changes == std::vector<std::string>{"clone.created", "clone.reset", "clone.updated",
                                            "clone.destroyed:owner"});
  CHECK(std::count(mine.begin(), mine.end(), "clone.expiring") == 1);
  CHECK(mine.front() == "clone.created");
  CHECK(mine.back() == "clone.destroyed:owner");
  const auto* failed = Find(alice_events, "refresh.failed");
  REQUIRE(failed != nullptr);
  CHECK(failed->resource == "broken");
  CHECK(Contains(failed->error, kMarkup));
  CHECK(Find(alice_events, "refresh.started") != nullptr);
  for (size_t i = 1; i < alice_events.size(); ++i)
    CHECK(alice_events[i - 1].id < alice_events[i].id);
  // The admin sees bob's clone too.
  CHECK(Find(root_sse.Events(), "clone.created", bob_clone) != nullptr);
  // The origin's own work: a refresh through the API (started, finished, the new snapshot),
  // and a claim on the pool of `broken`, which never fills (its refresh failed).
  o.Json("POST", "/v1/resources/chinook/snapshots", "", "root", 202);
  REQUIRE(
      Eventually([&] { return Find(alice_sse.Events(), "snapshot.created") != nullptr; }, 120s));
  CHECK(o.d.Call("POST", "/v1/resources/broken/claim", "{}", &out, "alice") != 201);
  REQUIRE(Eventually([&] { return Find(root_sse.Events(), "pool.exhausted") != nullptr; }, 10s));
  CHECK(Find(root_sse.Events(), "pool.exhausted")->resource == "broken");
  {
    // In order: started before finished before its snapshot, for the admin and the user.
    for (const auto& events : {alice_sse.Events(), root_sse.Events()}) {
      std::vector<std::string> chinook;
      for (const auto& e : events) {
        if (e.resource == "chinook" && e.clone.empty()) chinook.push_back(e.type);
      }
      CHECK(chinook ==
            std::vector<std::string>{"refresh.started", "refresh.finished", "snapshot.created"});
    }
    // The new snapshot has no clone: the admin deletes it, and the origin tells who did.
    std::string made = Find(root_sse.Events(), "snapshot.created")->snapshot;
    o.Json("DELETE", "/v1/resources/chinook/snapshots/" + made, "", "root", 204);
    REQUIRE(
        Eventually([&] { return Find(alice_sse.Events(), "snapshot.deleted") != nullptr; }, 10s));
    auto after_delete = alice_sse.Events();
    const auto* deleted = Find(after_delete, "snapshot.deleted");
    CHECK(deleted->snapshot == made);
    CHECK(deleted->actor == "root");
    // `zdap events` printed what alice's stream had, in the same order: -o json the events
    // themselves, text one line each.
    auto streamed = alice_sse.Events();
    REQUIRE(Eventually([&] { return alice_json.Lines().size() >= streamed.size(); }, 10s));
    auto lines = alice_json.Lines();
    REQUIRE(lines.size() == streamed.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      auto e = zdap::api::ParseEvent(lines[i]);
      REQUIRE(e.ok());
      CHECK(e->id == streamed[i].id);
      CHECK(e->type == streamed[i].type);
    }
    REQUIRE(Eventually([&] { return alice_text.Lines().size() >= streamed.size(); }, 10s));
    auto text = alice_text.Lines();
    CHECK(Contains(text[0], streamed[0].type));
    for (const auto& line : text) CHECK(!Contains(line, "\x1b"));
    bool shown = false;
    for (const auto& line : text) {
      if (Contains(line, "refresh.failed") && Contains(line, kMarkup)) shown = true;
    }
    CHECK(shown);
  }
  // Resume after alice's create: what came after it, not it.
  const auto* created = Find(alice_events, "clone.created", clone);
  REQUIRE(created != nullptr);
  {
    SseCapture resumed(o.tmp.path(), "resumed", url, o.Auth("alice"), std::to_string(created->id));
    REQUIRE(Eventually([&] { return Find(resumed.Events(), "clone.destroyed", clone) != nullptr; },
                       10s));
    auto again = resumed.Events();
    CHECK(Find(again, "clone.created", clone) == nullptr);
    CHECK(Find(again, "clone.reset", clone) != nullptr);
  }
  // A session cookie (bob's, signed in with curl) sees bob's view only; a bad cookie nothing.
  {
    int code;
    std::string body;
    Curl("--cacert " + o.ca + " -c " + o.tmp.path() +
             "/bob.cookies -H 'Content-Type: application/json' -d '{\"token\":\"" +
             o.d.Token("bob") + "\"}'",
         url + "/ui/session", &code, &body);
    REQUIRE(code == 200);
    SseCapture bob_session(o.tmp.path(), "bob-session", url, "-b " + o.tmp.path() + "/bob.cookies");
    o.Json("PATCH", "/v1/clones/" + bob_clone, "{\"ttl\":\"2h\"}", "bob", 200);
    REQUIRE(Eventually(
        [&] { return Find(bob_session.Events(), "clone.updated", bob_clone) != nullptr; }, 10s));
    for (const auto& e : bob_session.Events()) CHECK(e.clone != clone);
    Curl("--cacert " + o.ca + " -b '__Host-zdap_session=" + std::string(64, 'a') + "'",
         url + "/v1/events", &code, &body);
    CHECK(code == 401);
    Curl("--cacert " + o.ca + " -b " + o.tmp.path() + "/bob.cookies", url + "/v1/audit", &code,
         &body);
    CHECK(code == 403);
  }

  // --- webhooks: signed, then a receiver down for 30 s --------------------------------------
  REQUIRE(Eventually(
      [&] {
        for (const auto& e : Received(*receiver)) {
          if (e.type == "clone.destroyed" && e.clone == clone) return true;
        }
        return false;
      },
      30s));
  receiver.reset();  // down
  auto down_at = std::chrono::steady_clock::now();
  uint64_t before = root_sse.Events().back().id;
  o.Json("PATCH", "/v1/clones/" + bob_clone, "{\"ttl\":\"3h\"}", "bob", 200);
  o.Json("POST", "/v1/clones/" + bob_clone + "/reset", "{}", "bob", 200);
  o.Json("DELETE", "/v1/clones/" + bob_clone, "", "root", 204);
  // The API answers at once meanwhile: nothing waits for the receiver.
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    std::string body;
    REQUIRE(o.d.Call("GET", "/v1/clones", "", &body, "alice") == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  }
  REQUIRE(Eventually(
      [&] {
        std::string metrics;
        o.d.Call("GET", "/metrics", "", &metrics, "root");
        return Contains(metrics, "zdap_webhook_deliveries_total{url=\"http://127.0.0.1:" +
                                     std::to_string(o.hook_port) +
                                     "/...\",outcome=\"attempt_failed\"}");
      },
      20s));
  json::object deliveries = o.Json("GET", "/v1/webhooks/deliveries", "", "root", 200);
  CHECK(deliveries["webhooks"].as_array()[0].as_object()["queued"].as_int64() >= 3);
  CHECK(o.d.Call("GET", "/v1/webhooks/deliveries", "", &out, "alice") == 403);
  std::vector<uint64_t> while_down;
  for (const auto& e : root_sse.Events()) {
    if (e.id > before) while_down.push_back(e.id);
  }
  REQUIRE(while_down.size() >= 3);
  std::this_thread::sleep_until(down_at + 30s);  // the outage the acceptance asks for
  receiver = std::make_unique<FakeOrigin>(
      [](const FakeRequest&) {
        return FakeReply{200, "{}"};
      },
      o.hook_port);
  REQUIRE(Eventually(
      [&] {
        std::set<uint64_t> got;
        for (const auto& e : Received(*receiver)) got.insert(e.id);
        for (uint64_t id : while_down) {
          if (!got.count(id)) return false;
        }
        return true;
      },
      60s));
  std::map<uint64_t, int> seen;
  for (const auto& e : Received(*receiver)) ++seen[e.id];
  for (const auto& [id, n] : seen) CHECK(n == 1);
  CHECK(Find(root_sse.Events(), "clone.destroyed", bob_clone)->reason == "admin");

  // --- tokens through the API, a failed authentication, and the audit log --------------------
  json::object carol = o.Json("POST", "/v1/tokens", "{\"user\":\"carol\"}", "root", 201);
  std::string carol_token(carol["token"].as_string());
  CHECK(o.d.Call("POST", "/v1/tokens", "{\"user\":\"dave\"}", &out, "alice") == 403);
  o.Json("DELETE", "/v1/tokens/carol", "", "root", 204);
  int code;
  std::string body;
  Curl("--cacert " + o.ca + " -H 'Authorization: Bearer " + carol_token + "'", url + "/v1/clones",
       &code, &body);
  CHECK(code == 401);  // removed: refused, and audited as a failed authentication
  json::object audit = o.Json("GET", "/v1/audit?limit=1000", "", "root", 200);
  std::set<std::string> actions;
  for (const auto& r : audit["records"].as_array()) {
    actions.insert(std::string(r.as_object().at("action").as_string()));
  }
  for (const char* a :
       {"clone.create", "clone.reset", "clone.update", "clone.destroy", "refresh.start",
        "token.add", "token.remove", "auth.failed", "session.sign_in", "session.sign_out"}) {
    INFO(a);
    CHECK(actions.count(a) == 1);
  }
  CHECK(o.d.Call("GET", "/v1/audit", "", &out, "alice") == 403);
  std::string files;
  REQUIRE(Shell("cat " + o.d.data_dir() + "/audit/audit.log*", &files) == 0);
  for (const std::string& secret :
       {o.d.Token("alice"), o.d.Token("bob"), o.d.Token("root"), carol_token, password,
        std::string(kHookSecret), std::string(results["session_cookie"].as_string()).substr(20)}) {
    CHECK_FALSE(Contains(files, secret));
  }
}
