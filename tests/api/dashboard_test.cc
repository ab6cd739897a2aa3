// The dashboard's server-side parts with no network: sessions and CSRF tokens (expiry, idle
// timeout, revocation, constant-time checks on malformed input), the audit log (records,
// rotation by size, reading back, nothing secret), and the compiled-in assets (every file
// there, no inline script, nothing from outside, no markup built from strings).
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>

#include "audit_log.h"
#include "core/file_util.h"
#include "sessions.h"
#include "support/test_env.h"
#include "ui_assets.h"

using namespace zdap;
using namespace zdap::daemon;
using namespace std::chrono_literals;

namespace {

struct TestClock {
  SystemTime now = SystemTime(std::chrono::seconds(1765000000));
  std::function<SystemTime()> fn() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("a session is found by its cookie value until it expires, idles out or is revoked",
          "[sessions]") {
  TestClock clock;
  SessionStore store({.lifetime = 8h, .idle = 1h, .max_sessions = 100}, clock.fn());
  TokenDigest token = DigestOf("alice-token");
  auto s = store.Create(token);
  REQUIRE(s.ok());
  CHECK(s->id.size() == 64);
  CHECK(s->csrf.size() == 64);
  CHECK(s->id != s->csrf);
  CHECK(s->expires_at == clock.now + 8h);
  auto found = store.Find(s->id);
  REQUIRE(found.ok());
  CHECK(found->token == token);
  // Used every 50 minutes it stays, until its lifetime ends.
  for (int i = 0; i < 10; ++i) {  // 500 minutes: past the 8 h lifetime at the last
    clock.now += 50min;
    if (clock.now < s->expires_at) {
      CHECK(store.Find(s->id).ok());
    } else {
      CHECK(store.Find(s->id).status().code() == Code::kUnauthenticated);
    }
  }
  CHECK_FALSE(store.Find(s->id).ok());
  // Idle for an hour: gone.
  auto t = store.Create(token);
  REQUIRE(t.ok());
  clock.now += 61min;
  CHECK_FALSE(store.Find(t->id).ok());
  // Revoked: gone, at once.
  auto u = store.Create(token);
  REQUIRE(u.ok());
  CHECK(store.Revoke(u->id));
  CHECK_FALSE(store.Revoke(u->id));
  CHECK_FALSE(store.Find(u->id).ok());
}

TEST_CASE("malformed, unknown and look-alike session ids are refused", "[sessions]") {
  SessionStore store;
  auto s = store.Create(DigestOf("t"));
  REQUIRE(s.ok());
  std::string upper = s->id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& bad :
       {std::string(), std::string("x"), s->id.substr(1), s->id + "0", upper, std::string(64, '0'),
        std::string(64, 'g'), s->id.substr(0, 63) + "\n", std::string(100000, 'a')}) {
    CHECK(store.Find(bad).status().code() == Code::kUnauthenticated);
  }
  CHECK(store.Find(s->id).ok());
}

TEST_CASE("the CSRF token belongs to its session and is checked exactly", "[sessions]") {
  SessionStore store;
  auto a = store.Create(DigestOf("a"));
  auto b = store.Create(DigestOf("b"));
  REQUIRE((a.ok() && b.ok()));
  CHECK(store.CsrfFor(a->id) == a->csrf);
  CHECK(store.CsrfMatches(a->id, a->csrf));
  CHECK_FALSE(store.CsrfMatches(a->id, b->csrf));
  CHECK_FALSE(store.CsrfMatches(a->id, ""));
  CHECK_FALSE(store.CsrfMatches(a->id, a->csrf.substr(1)));
  CHECK_FALSE(store.CsrfMatches(a->id, a->csrf + "a"));
  // Another zdapd (another key) makes other tokens for the same id.
  SessionStore other;
  CHECK(other.CsrfFor(a->id) != a->csrf);
}

TEST_CASE("beyond max_sessions, the least recently used session ends", "[sessions]") {
  TestClock clock;
  SessionStore store({.max_sessions = 3}, clock.fn());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(store.Create(DigestOf("t")).value().id);
    clock.now += 1s;
  }
  CHECK(store.Find(ids[0]).ok());  // now the most recent
  clock.now += 1s;
  ids.push_back(store.Create(DigestOf("t")).value().id);
  CHECK(store.size() == 3);
  CHECK_FALSE(store.Find(ids[1]).ok());
  CHECK(store.Find(ids[0]).ok());
}

TEST_CASE("the session cookie has HttpOnly, SameSite=Strict, an expiry, and Secure under TLS",
          "[sessions]") {
  std::string plain = SessionCookie(false, "abc", 3600s);
  CHECK(plain == "zdap_session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  std::string tls = SessionCookie(true, "abc", 3600s);
  CHECK(tls == "__Host-zdap_session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
  CHECK(ClearedSessionCookie(true).find("Max-Age=0") != std::string::npos);
  CHECK(CookieValue("a=1; zdap_session=xyz; b=2", "zdap_session") == "xyz");
  CHECK(CookieValue("zdap_session=xyz", "zdap_session") == "xyz");
  CHECK(CookieValue("xzdap_session=1; zdap_session_x=2", "zdap_session").empty());
  CHECK(CookieValue("", "zdap_session").empty());
  CHECK(CookieValue(";;=;zdap_session", "zdap_session").empty());
}

namespace {

AuditRecord Rec(const std::string& user, const std::string& action, int status) {
  AuditRecord r;
  r.time = SystemNow();
  r.user = user;
  r.role = user.empty() ? "" : "user";
  r.via = user.empty() ? "" : "token";
  r.from = "127.0.0.1";
  r.action = action;
  r.method = "POST";
  r.path = "/v1/clones/{id}/reset";
  r.target = "chinook-1";
  r.status = status;
  r.result = status < 400 ? "ok" : "not_found";
  if (status >= 400) r.error = "clone 'chinook-1' not found";
  return r;
}

}  // namespace

TEST_CASE("the audit log appends JSON lines, 0600 in a 0700 directory, and reads newest first",
          "[audit]") {
  test::TempDir dir;
  auto log = AuditLog::Open(dir.path() + "/audit");
  REQUIRE(log.ok());
  CHECK((*log)->Append(Rec("alice", "clone.create", 201)).ok());
  CHECK((*log)->Append(Rec("bob", "clone.reset", 404)).ok());
  CHECK((*log)->Append(Rec("", "auth.failed", 401)).ok());
  struct stat st {};
  REQUIRE(::stat((dir.path() + "/audit").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((*log)->path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto all = (*log)->Read(10);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].action == "auth.failed");
  CHECK((*all)[0].user.empty());
  CHECK((*all)[1].error == "clone 'chinook-1' not found");
  CHECK((*all)[2].status == 201);
  CHECK((*log)->Read(10, "bob").value().size() == 1);
  CHECK((*log)->Read(10, "", "clone.create").value().size() == 1);
  CHECK((*log)->Read(1).value().size() == 1);
  auto text = ReadFile((*log)->path());
  REQUIRE(text.ok());
  CHECK(std::count(text->begin(), text->end(), '\n') == 3);
  CHECK(text->find("\"user\":null") != std::string::npos);
}

TEST_CASE("the audit log rotates by size and keeps a bounded number of files", "[audit]") {
  test::TempDir dir;
  auto log = AuditLog::Open(dir.path(), {.max_bytes = 2048, .keep = 2});
  REQUIRE(log.ok());
  for (int i = 0; i < 100; ++i) {
    REQUIRE((*log)->Append(Rec("u" + std::to_string(i), "clone.create", 201)).ok());
  }
  auto size_of = [&](const std::string& f) {
    struct stat st {};
    return ::stat(f.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1L;
  };
  CHECK(size_of((*log)->path()) > 0);
  CHECK(size_of((*log)->path()) < 2048 + 400);
  CHECK(size_of((*log)->path() + ".1") >= 2048);
  CHECK(size_of((*log)->path() + ".2") >= 2048);
  CHECK(size_of((*log)->path() + ".3") == -1);
  // Reading crosses the files, newest first, without a gap inside what is kept.
  auto recs = (*log)->Read(1000);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() > 10);
  CHECK((*recs)[0].user == "u99");
  for (size_t i = 1; i < recs->size(); ++i) {
    CHECK(std::stoi((*recs)[i - 1].user.substr(1)) == std::stoi((*recs)[i].user.substr(1)) + 1);
  }
  // A reopened log appends to the same file.
  log->reset();
  auto again = AuditLog::Open(dir.path(), {.max_bytes = 2048, .keep = 2});
  REQUIRE(again.ok());
  REQUIRE((*again)->Append(Rec("last", "clone.destroy", 204)).ok());
  CHECK((*again)->Read(1).value()[0].user == "last");
}

TEST_CASE("junk lines in the audit file are skipped, long fields are cut", "[audit]") {
  test::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  REQUIRE(log.ok());
  REQUIRE((*log)->Append(Rec("alice", "clone.create", 201)).ok());
  {
    std::ofstream f((*log)->path(), std::ios::app);
    f << "not json\n{\"action\":1}\n" << std::string(100000, 'x') << "\n\n";
  }
  AuditRecord big = Rec("bob", "clone.reset", 500);
  big.error = std::string(5000, 'e');
  big.target = std::string(5000, 't');
  REQUIRE((*log)->Append(big).ok());
  auto recs = (*log)->Read(10);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == 2);
  CHECK((*recs)[0].error.size() == 300);
  CHECK((*recs)[0].target.size() == 200);
  CHECK((*recs)[1].user == "alice");
}

TEST_CASE("every mutating route has an audit action name", "[audit]") {
  CHECK(AuditActionFor("POST", "/v1/resources/{resource}/clones") == "clone.create");
  CHECK(AuditActionFor("DELETE", "/v1/clones/{id}") == "clone.destroy");
  CHECK(AuditActionFor("POST", "/v1/tokens") == "token.add");
  CHECK(AuditActionFor("GET", "/v1/clones").empty());
}

TEST_CASE("the dashboard's files are compiled in, with no inline script and nothing from outside",
          "[ui]") {
  std::set<std::string> paths;
  for (const UiAsset& a : UiAssets()) {
    paths.insert(std::string(a.path));
    CHECK(!a.body.empty());
    CHECK(a.etag.size() == 34);
    // Byte for byte the source file.
    std::string source = std::string(ZDAP_SOURCE_DIR) + "/apps/zdapd" + std::string(a.path);
    auto text = ReadFile(source);
    REQUIRE(text.ok());
    CHECK(*text == a.body);
    std::string body(a.body);
    INFO(a.path);
    // Nothing fetched from elsewhere: no absolute URL but the SVG namespace.
    std::regex url(R"((https?:)?//[a-z0-9.-]+\.[a-z]{2,})", std::regex::icase);
    std::string without_ns =
        std::regex_replace(body, std::regex(R"(http://www\.w3\.org/2000/svg)"), "");
    CHECK_FALSE(std::regex_search(without_ns, url));
    if (a.path.ends_with(".html")) {
      // Every script is an external module; no inline handlers or styles.
      CHECK(body.find("<script type=\"module\" src=\"/ui/") != std::string::npos);
      CHECK(std::regex_search(body, std::regex(R"(<script[^>]*>\s*</script>)")));
      CHECK_FALSE(std::regex_search(body, std::regex(R"(<script[^>]*>[^<\s])")));
      CHECK_FALSE(std::regex_search(body, std::regex(R"(\son[a-z]+=)", std::regex::icase)));
      CHECK(body.find("style=") == std::string::npos);
      CHECK(body.find("<style") == std::string::npos);
    }
    if (a.path.ends_with(".js")) {
      // Markup is never built from strings; everything shown is a text node.
      for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                               "eval(", "new Function", "setAttribute('on"}) {
        CHECK(body.find(sink) == std::string::npos);
      }
      // Every module it imports is compiled in too.
      std::regex import_re(R"(from '\./([a-z_]+\.js)')");
      for (std::sregex_iterator it(body.begin(), body.end(), import_re), end; it != end; ++it) {
        bool found = false;
        for (const UiAsset& b : UiAssets()) found |= b.path == "/ui/" + (*it)[1].str();
        CHECK(found);
      }
    }
  }
  CHECK(paths.count("/ui/index.html") == 1);
  CHECK(paths.count("/ui/app.js") == 1);
  CHECK(paths.count("/ui/style.css") == 1);
}
