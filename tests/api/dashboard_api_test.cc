// The dashboard through Api::Handle on a real Origin (copy storage, no network): the files and
// their headers, sign-in to a session cookie, CSRF and cross-site refusals, sign-out, the audit
// log of each call (and nothing secret in it), and the event stream's per-caller view.
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fstream>

#include "api.h"
#include "audit_log.h"
#include "core/file_util.h"
#include "event_stream.h"
#include "events/event_bus.h"
#include "sessions.h"
#include "support/test_env.h"
#include "web_headers.h"

namespace json = boost::json;
using namespace zdap;
using daemon::ApiRequest;
using daemon::ApiResponse;

namespace {

std::string HeaderOf(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class DashboardFixture {
 public:
  DashboardFixture() : dir_("zdap-dash") {
    ::chmod(dir_.path().c_str(), 0755);  // the database servers run unprivileged
    test::Shell("mkdir -p " + dir_.path() + "/config/resources");
    std::ofstream(dir_.path() + "/config/resources/chinook.yaml")
        << "name: chinook\nengine: postgres\nsource:\n  dump: " << test::ChinookDir()
        << "/Chinook_PostgreSql.sql\n  database: chinook\n"
           "credentials: {user: postgres, password: zdap}\n";
    cfg_.config_dir = dir_.path() + "/config";
    cfg_.data_dir = dir_.path() + "/data";
    cfg_.storage_driver = "copy";
    REQUIRE(MakeDirs(cfg_.data_dir, 0755).ok());
    auto o = origin::Origin::Open(cfg_);
    if (!o.ok()) FAIL(o.status().message());
    origin_ = std::move(o).value();
    REQUIRE(origin_->Recover().ok());
    auth_ = daemon::Authenticator::ForEntries(
        {{daemon::DigestOf("tok-alice-0123456789"), "alice", daemon::TokenRole::kUser},
         {daemon::DigestOf("tok-bob-0123456789"), "bob", daemon::TokenRole::kUser},
         {daemon::DigestOf("tok-root-0123456789"), "root", daemon::TokenRole::kAdmin}});
    auth_->SetSessions(&sessions_, false);
    auto audit = daemon::AuditLog::Open(dir_.path() + "/data/audit");
    REQUIRE(audit.ok());
    audit_ = std::move(audit).value();
    daemon::DashboardParts parts{&bus_, nullptr, audit_.get(), &sessions_, "", false};
    api_ = std::make_unique<daemon::Api>(*origin_, "test", *auth_, metrics_, parts);
  }

  ApiRequest Request(const std::string& method, const std::string& target,
                     const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.from_loopback = true;
    r.host = "127.0.0.1:43210";
    r.peer = "127.0.0.1";
    return r;
  }
  ApiResponse Call(ApiRequest r) { return api_->Handle(r); }
  ApiResponse WithToken(const std::string& method, const std::string& target,
                        const std::string& token, const std::string& body = "") {
    ApiRequest r = Request(method, target, body);
    r.authorization = "Bearer " + token;
    return Call(r);
  }
  // Signs in with `token`; the cookie header value and the CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& token) {
    ApiResponse r = Call(Request("POST", "/ui/session", "{\"token\":\"" + token + "\"}"));
    REQUIRE(r.status == 200);
    std::string set = HeaderOf(r, "Set-Cookie");
    REQUIRE(!set.empty());
    std::string cookie = set.substr(0, set.find(';'));
    json::object body = json::parse(r.body).as_object();
    return {cookie, std::string(body["csrf"].as_string())};
  }
  ApiResponse WithSession(const std::string& method, const std::string& target,
                          const std::pair<std::string, std::string>& session, bool csrf,
                          const std::string& body = "") {
    ApiRequest r = Request(method, target, body);
    r.cookie = "other=1; " + session.first;
    if (csrf) r.csrf_token = session.second;
    r.origin = "http://127.0.0.1:43210";
    r.fetch_site = "same-origin";
    return Call(r);
  }

  events::EventBus& bus() { return bus_; }
  daemon::AuditLog& audit() { return *audit_; }

 private:
  test::TempDir dir_;
  config::DaemonConfig cfg_;
  std::unique_ptr<origin::Origin> origin_;
  std::unique_ptr<daemon::Authenticator> auth_;
  daemon::Metrics metrics_;
  events::EventBus bus_;
  daemon::SessionStore sessions_;
  std::unique_ptr<daemon::AuditLog> audit_;
  std::unique_ptr<daemon::Api> api_;
};

}  // namespace

TEST_CASE("the dashboard is served with a strict CSP, nosniff and no framing", "[dashboard]") {
  DashboardFixture f;
  ApiResponse root = f.Call(f.Request("GET", "/"));
  CHECK(root.status == 302);
  CHECK(HeaderOf(root, "Location") == "/ui/");
  ApiResponse page = f.Call(f.Request("GET", "/ui/"));
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  std::string csp = HeaderOf(page, "Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(HeaderOf(page, "X-Content-Type-Options") == "nosniff");
  CHECK(HeaderOf(page, "X-Frame-Options") == "DENY");
  ApiResponse js = f.Call(f.Request("GET", "/ui/app.js"));
  REQUIRE(js.status == 200);
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  ApiRequest again = f.Request("GET", "/ui/app.js");
  again.if_none_match = HeaderOf(js, "ETag");
  ApiResponse cached = f.Call(again);
  CHECK(cached.status == 304);
  CHECK(cached.body.empty());
  // API answers: no document, no caching, no framing either.
  ApiResponse api = f.WithToken("GET", "/v1/clones", "tok-alice-0123456789");
  CHECK(api.status == 200);
  CHECK(HeaderOf(api, "Content-Security-Policy") == std::string(daemon::kApiCsp));
  CHECK(HeaderOf(api, "Cache-Control") == "no-store");
  CHECK(HeaderOf(api, "X-Content-Type-Options") == "nosniff");
  // Nothing else under /ui/ is served without a session.
  CHECK(f.Call(f.Request("GET", "/ui/../etc/passwd")).status >= 400);
  CHECK(f.Call(f.Request("GET", "/ui/nope.js")).status == 401);
}

TEST_CASE("sign-in gives a session cookie; changes need its CSRF token; sign-out ends it",
          "[dashboard]") {
  DashboardFixture f;
  CHECK(f.Call(f.Request("POST", "/ui/session", "{\"token\":\"wrong\"}")).status == 401);
  CHECK(f.Call(f.Request("POST", "/ui/session", "{\"token\":1}")).status == 400);
  CHECK(f.Call(f.Request("POST", "/ui/session", "{\"token\":\"x\",\"admin\":true}")).status == 400);
  ApiResponse r = f.Call(f.Request("POST", "/ui/session", "{\"token\":\"tok-alice-0123456789\"}"));
  REQUIRE(r.status == 200);
  std::string cookie = HeaderOf(r, "Set-Cookie");
  CHECK(cookie.find("zdap_session=") == 0);
  CHECK(cookie.find("; HttpOnly") != std::string::npos);
  CHECK(cookie.find("; SameSite=Strict") != std::string::npos);
  CHECK(cookie.find("; Max-Age=43200") != std::string::npos);
  CHECK(cookie.find("Secure") ==
        std::string::npos);  // plain HTTP: a Secure cookie would not come back
  auto alice = f.SignIn("tok-alice-0123456789");
  ApiResponse me = f.WithSession("GET", "/ui/session", alice, false);
  REQUIRE(me.status == 200);
  json::object who = json::parse(me.body).as_object();
  CHECK(who["user"] == "alice");
  CHECK(who["admin"] == false);
  CHECK(who["csrf"].as_string() == alice.second);
  CHECK(f.WithSession("GET", "/v1/clones", alice, false).status == 200);
  // A change without the CSRF token, or with another session's: refused before anything runs.
  ApiResponse no_csrf = f.WithSession("POST", "/v1/resources/chinook/clones", alice, false, "{}");
  CHECK(no_csrf.status == 403);
  CHECK(no_csrf.body.find("CSRF") != std::string::npos);
  auto bob = f.SignIn("tok-bob-0123456789");
  auto mixed = std::make_pair(alice.first, bob.second);
  CHECK(f.WithSession("POST", "/v1/resources/chinook/clones", mixed, true, "{}").status == 403);
  // With it, the request goes through (there is no snapshot yet: 409).
  CHECK(f.WithSession("POST", "/v1/resources/chinook/clones", alice, true, "{}").status == 409);
  // A user's session cannot read the audit log.
  CHECK(f.WithSession("GET", "/v1/audit", alice, false).status == 403);
  // Sign-out needs the token too, then the cookie opens nothing.
  CHECK(f.WithSession("DELETE", "/ui/session", alice, false).status == 403);
  ApiResponse out = f.WithSession("DELETE", "/ui/session", alice, true);
  CHECK(out.status == 204);
  CHECK(HeaderOf(out, "Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(f.WithSession("GET", "/v1/clones", alice, false).status == 401);
  CHECK(f.WithSession("GET", "/v1/clones", bob, false).status == 200);
  // A made-up cookie is no session.
  CHECK(f.WithSession("GET", "/v1/clones", {"zdap_session=" + std::string(64, 'a'), ""}, false)
            .status == 401);
}

TEST_CASE("a change from another site is refused, whatever it carries", "[dashboard]") {
  DashboardFixture f;
  ApiRequest form = f.Request("POST", "/v1/resources/chinook/clones", "{}");
  form.authorization = "Bearer tok-root-0123456789";
  form.origin = "http://attacker.test";
  CHECK(f.Call(form).status == 403);
  form.origin.clear();
  form.fetch_site = "cross-site";
  CHECK(f.Call(form).status == 403);
  form.fetch_site = "same-site";
  CHECK(f.Call(form).status == 403);
  form.fetch_site = "same-origin";
  form.origin = "http://127.0.0.1:43210";
  CHECK(f.Call(form).status == 409);  // through: no snapshot yet
  // The sign-in itself (login CSRF).
  ApiRequest signin = f.Request("POST", "/ui/session", "{\"token\":\"tok-alice-0123456789\"}");
  signin.origin = "http://attacker.test";
  CHECK(f.Call(signin).status == 403);
  // Reads are not changes.
  ApiRequest read = f.Request("GET", "/v1/health");
  read.origin = "http://attacker.test";
  CHECK(f.Call(read).status == 200);
}

TEST_CASE("every change and every refused authentication is audited, with no secret",
          "[dashboard]") {
  DashboardFixture f;
  auto alice = f.SignIn("tok-alice-0123456789");
  f.WithSession("POST", "/v1/resources/chinook/clones", alice, true,
                "{\"password\":\"a-secret-password-123\"}");
  f.WithToken("DELETE", "/v1/clones/nope", "tok-bob-0123456789");
  f.WithToken("GET", "/v1/clones", "not-a-token-at-all");
  f.WithToken("GET", "/v1/clones", "tok-alice-0123456789");  // a read: not audited
  ApiResponse audit = f.WithToken("GET", "/v1/audit?limit=10", "tok-root-0123456789");
  REQUIRE(audit.status == 200);
  json::array recs = json::parse(audit.body).as_object()["records"].as_array();
  REQUIRE(recs.size() == 4);
  auto field = [&](size_t i, const char* k) {
    const json::value& v = recs[i].as_object().at(k);
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  };
  CHECK(field(0, "action") == "auth.failed");
  CHECK(field(0, "user") == "null");
  CHECK(field(0, "status") == "401");
  CHECK(field(0, "from") == "127.0.0.1");
  CHECK(field(1, "action") == "clone.destroy");
  CHECK(field(1, "user") == "bob");
  CHECK(field(1, "via") == "token");
  CHECK(field(1, "target") == "nope");
  CHECK(field(1, "result") == "not_found");
  CHECK(field(2, "action") == "clone.create");
  CHECK(field(2, "user") == "alice");
  CHECK(field(2, "via") == "session");
  CHECK(field(2, "target") == "chinook");
  CHECK(field(3, "action") == "session.sign_in");
  CHECK(field(3, "user") == "alice");
  // Filters.
  ApiResponse only = f.WithToken("GET", "/v1/audit?user=bob", "tok-root-0123456789");
  CHECK(json::parse(only.body).as_object()["records"].as_array().size() == 1);
  CHECK(f.WithToken("GET", "/v1/audit?limit=0", "tok-root-0123456789").status == 400);
  CHECK(f.WithToken("GET", "/v1/audit?limit=x", "tok-root-0123456789").status == 400);
  // No token, password, cookie or CSRF token in the file.
  auto text = ReadFile(f.audit().path());
  REQUIRE(text.ok());
  for (const std::string& secret :
       {std::string("tok-"), std::string("a-secret-password"),
        alice.first.substr(alice.first.find('=') + 1), alice.second, std::string("not-a-token")}) {
    CHECK(text->find(secret) == std::string::npos);
  }
}

TEST_CASE("GET /v1/events streams the caller's view and resumes after Last-Event-ID",
          "[dashboard]") {
  DashboardFixture f;
  auto publish = [&](const char* type, const std::string& clone, const std::string& owner) {
    api::Event e;
    e.type = type;
    e.resource = "chinook";
    e.clone = clone;
    e.owner = owner;
    return f.bus().Publish(e);
  };
  ApiResponse r = f.WithToken("GET", "/v1/events", "tok-alice-0123456789");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/event-stream; charset=utf-8");
  REQUIRE(r.stream);
  int wakes = 0;
  r.stream->SetWake([&] { ++wakes; });
  std::string first = r.stream->Next();
  CHECK(first == "retry: 3000\n\n");
  uint64_t a = publish("clone.created", "c-alice", "alice");
  publish("clone.created", "c-bob", "bob");
  uint64_t s = publish("snapshot.created", "", "");
  CHECK(wakes == 1);
  std::string text = r.stream->Next();
  CHECK(text.find("id: " + std::to_string(a) + "\nevent: clone.created\n") != std::string::npos);
  CHECK(text.find("c-bob") == std::string::npos);
  CHECK(text.find("id: " + std::to_string(s) + "\nevent: snapshot.created\n") != std::string::npos);
  CHECK(r.stream->Heartbeat() == ": keep-alive\n\n");
  // Bob resumes after alice's event: he gets his own and the snapshot, not alice's.
  ApiRequest resume = f.Request("GET", "/v1/events");
  resume.authorization = "Bearer tok-bob-0123456789";
  resume.last_event_id = std::to_string(a);
  ApiResponse b = f.Call(resume);
  REQUIRE(b.stream);
  std::string bobs = b.stream->Next();
  CHECK(bobs.find("c-bob") != std::string::npos);
  CHECK(bobs.find("c-alice") == std::string::npos);
  CHECK(bobs.find("snapshot.created") != std::string::npos);
  resume.last_event_id = "12ab";
  CHECK(f.Call(resume).status == 400);
  resume.last_event_id = "1";  // long gone: a gap, then the whole history
  ApiResponse gap = f.Call(resume);
  REQUIRE(gap.stream);
  CHECK(gap.stream->Next().find("event: gap\n") != std::string::npos);
  CHECK(f.WithToken("GET", "/v1/events", "bad-token").status == 401);
}
