// Clone lifecycle end to end on real PostgreSQL and MariaDB (issue 10): extend (max_ttl
// refused for a user, allowed for an admin), protect (an expired protected clone survives a
// sweep), branch (a second user clones the snapshot and sees the first user's row), and
// reset (same id, port and password; the row is gone; a connection open during the reset is
// dropped and a reconnect to the same address works; a reset to an older snapshot and to
// the newest). Reset and branch p50 are printed, not judged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

// What differs between the engines: the resource, the client, and a few statements.
struct EngineCase {
  std::string name;
  std::string resource_yaml;
  std::function<int(int port, const std::string& password, const std::string& sql,
                    std::string* out)>
      query;
  std::string write_mark;  // creates zdap_mark with one row, 42
  std::string has_mark;    // prints 1 if zdap_mark exists, else 0
  std::string hold;        // a statement that runs for ~60 s
  std::string holding;     // prints how many sessions run `hold`
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Ask(const EngineCase& e, int port, const std::string& password,
                const std::string& sql) {
  std::string out;
  int rc = e.query(port, password, sql, &out);
  INFO(e.name << ": " << sql << ": " << out);
  CHECK(rc == 0);
  return Trim(out);
}

EngineCase Postgres() {
  EngineCase e;
  e.name = "postgres";
  e.resource_yaml = "name: chinook\nengine: postgres\nsource:\n  dump: " + ChinookDir() +
                    "/Chinook_PostgreSql.sql\n  database: chinook\nclone:\n  ttl: 1h\n  "
                    "max_ttl: 2h\ncredentials: {user: postgres, password: zdap}\n";
  e.query = [](int port, const std::string& pw, const std::string& sql, std::string* out) {
    return Psql(port, pw, sql, out);
  };
  e.write_mark = "create table zdap_mark(x int); insert into zdap_mark values (42)";
  e.has_mark = "select count(*) from pg_tables where tablename = 'zdap_mark'";
  e.hold = "select pg_sleep(60)";
  e.holding = "select count(*) from pg_stat_activity where query = 'select pg_sleep(60)'";
  return e;
}

EngineCase Mariadb() {
  EngineCase e;
  e.name = "mariadb";
  e.resource_yaml = "name: chinook\nengine: mariadb\nsource:\n  dump: " + ChinookDir() +
                    "/Chinook_MySql.sql\n  database: Chinook\nclone:\n  ttl: 1h\n  "
                    "max_ttl: 2h\ncredentials: {user: root, password: zdap}\n";
  e.query = [](int port, const std::string& pw, const std::string& sql, std::string* out) {
    return zdap::test::Mariadb(port, pw, sql, out);
  };
  e.write_mark = "CREATE TABLE zdap_mark (x INT); INSERT INTO zdap_mark VALUES (42)";
  e.has_mark = "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = \"zdap_mark\"";
  e.hold = "SELECT SLEEP(60)";
  e.holding =
      "SELECT COUNT(*) FROM information_schema.processlist WHERE info = \"SELECT SLEEP(60)\"";
  return e;
}

long long MillisSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count();
}

long long P50(std::vector<long long> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Polls `done` every 50 ms for up to `seconds`.
bool Eventually(int seconds, const std::function<bool()>& done) {
  auto until = SteadyClock::now() + std::chrono::seconds(seconds);
  while (SteadyClock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string CreateClone(ZdapdFixture& d, const std::string& json, const std::string& user) {
  std::string body;
  int code = d.Call("POST", "/v1/resources/chinook/clones", json, &body, user);
  INFO(json << " -> " << body << d.LogText());
  REQUIRE(code == 201);
  REQUIRE(JsonField(body, "state") == "ready");
  return body;
}

std::string NewestSnapshot(ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body) == 200);
  auto at = body.find("\"id\":\"");
  REQUIRE(at != std::string::npos);
  at += 6;
  return body.substr(at, body.find('"', at) - at);
}

// Seconds from `from` until `to`, RFC 3339 UTC times (date -d parses them; "now" too).
long long SecondsBetween(const std::string& from, const std::string& to) {
  std::string out;
  REQUIRE(Shell("echo $(( $(date -d '" + to + "' +%s) - $(date -d '" + from + "' +%s) ))", &out) ==
          0);
  return std::stoll(out);
}

// Seconds from now until an RFC 3339 UTC time.
long long SecondsUntil(const std::string& rfc3339) {
  return SecondsBetween("now", rfc3339);
}

void ExtendAndProtect(ZdapdFixture& d, const EngineCase& e) {
  std::string body;
  // The clone object is true to life (issue 10, acceptance 4): expires_at is created_at plus
  // the resource's ttl (1h), not pooled, not protected, and origin is this daemon's URL.
  std::string made = CreateClone(d, R"({"name":"lc-ext"})", "alice");
  CHECK(SecondsBetween(JsonField(made, "created_at"), JsonField(made, "expires_at")) == 3600);
  CHECK(JsonField(made, "pooled") == "false");
  CHECK(JsonField(made, "protected") == "false");
  CHECK(JsonField(made, "origin") == d.Url());
  REQUIRE(d.Call("PATCH", "/v1/clones/lc-ext", R"({"ttl":"90m"})", &body, "alice") == 200);
  long long left = SecondsUntil(JsonField(body, "expires_at"));
  CHECK(left > 85 * 60);
  CHECK(left <= 90 * 60);
  // Extending moved it (past the first hour), and the stored clone says the same.
  CHECK(SecondsBetween(JsonField(made, "expires_at"), JsonField(body, "expires_at")) > 0);
  std::string extended = JsonField(body, "expires_at");
  REQUIRE(d.Call("GET", "/v1/clones/lc-ext", "", &body, "alice") == 200);
  CHECK(JsonField(body, "expires_at") == extended);
  CHECK(JsonField(body, "origin") == d.Url());
  // Past max_ttl (2h) from now: refused for the owner with the limit named, fine for an admin.
  CHECK(d.Call("PATCH", "/v1/clones/lc-ext", R"({"ttl":"3h"})", &body, "alice") == 422);
  CHECK(body.find("max_ttl 2h") != std::string::npos);
  CHECK(d.Call("PATCH", "/v1/clones/lc-ext", R"({"ttl":"0"})", &body, "alice") == 422);
  REQUIRE(d.AdminCall("PATCH", "/v1/clones/lc-ext", R"({"ttl":"3h"})", &body) == 200);
  CHECK(SecondsUntil(JsonField(body, "expires_at")) > 175 * 60);
  // Another user's clone does not exist for them; a body that changes nothing is refused.
  CHECK(d.Call("PATCH", "/v1/clones/lc-ext", R"({"ttl":"1h"})", &body, "bob") == 404);
  CHECK(d.Call("PATCH", "/v1/clones/lc-ext", "{}", &body, "alice") == 400);
  CHECK(d.Call("PATCH", "/v1/clones/lc-ext", R"({"protected":1})", &body, "alice") == 400);
  CHECK(d.Call("DELETE", "/v1/clones/lc-ext", "", &body, "alice") == 204);

  // Two clones expire in 1 s; one is protected (before its ttl is cut short, so no sweep
  // can come first). The other's disappearance proves a sweep ran.
  CreateClone(d, R"({"name":"lc-keep"})", "alice");
  REQUIRE(d.Call("PATCH", "/v1/clones/lc-keep", R"({"protected":true})", &body, "alice") == 200);
  CHECK(JsonField(body, "protected") == "true");
  REQUIRE(d.Call("GET", "/v1/clones/lc-keep", "", &body, "alice") == 200);
  CHECK(JsonField(body, "protected") == "true");
  REQUIRE(d.Call("PATCH", "/v1/clones/lc-keep", R"({"ttl":"1s"})", &body, "alice") == 200);
  CHECK(JsonField(body, "protected") == "true");
  CreateClone(d, R"({"name":"lc-gone","ttl":"1s"})", "alice");
  bool swept = Eventually(20, [&] {
    std::string b;
    return d.Call("GET", "/v1/clones/lc-gone", "", &b, "alice") == 404;
  });
  INFO(d.LogText());
  REQUIRE(swept);
  REQUIRE(d.Call("GET", "/v1/clones/lc-keep", "", &body, "alice") == 200);
  CHECK(JsonField(body, "state") == "ready");
  CHECK(SecondsUntil(JsonField(body, "expires_at")) <= 0);  // expired, and kept
  int port = std::stoi(JsonField(body, "port"));
  CHECK(Ask(e, port, d.Password("lc-keep"), "SELECT 1") == "1");
  // Unprotected, it goes at the next sweep.
  REQUIRE(d.Call("PATCH", "/v1/clones/lc-keep", R"({"protected":false})", &body, "alice") == 200);
  CHECK(JsonField(body, "protected") == "false");
  CHECK(Eventually(20, [&] {
    std::string b;
    return d.Call("GET", "/v1/clones/lc-keep", "", &b, "alice") == 404;
  }));
}

// Starts `e.hold` on the clone in the background and waits until the server runs it.
std::future<int> HoldConnection(const EngineCase& e, int port, const std::string& password) {
  auto held = std::async(std::launch::async, [e, port, password] {
    std::string out;
    return e.query(port, password, e.hold, &out);
  });
  bool running = Eventually(20, [&] {
    std::string out;
    return e.query(port, password, e.holding, &out) == 0 && Trim(out) == "1";
  });
  REQUIRE(running);
  return held;
}

void BranchAndReset(ZdapdFixture& d, const EngineCase& e) {
  std::string body;
  std::string imported = NewestSnapshot(d);
  std::string clone = CreateClone(d, R"({"name":"lc-a"})", "alice");
  int port = std::stoi(JsonField(clone, "port"));
  std::string password = JsonField(clone, "password");
  std::string uri = JsonField(clone, "uri");
  // The clone object: origin is this daemon's URL; not pooled.
  CHECK(JsonField(clone, "origin") == d.Url());
  CHECK(JsonField(clone, "pooled") == "false");
  REQUIRE(e.query(port, password, e.write_mark, &body) == 0);
  // postgres: a clone of the imported snapshot (the user has no password there) starts with
  // its final pg_hba.conf and gets its password without a reload of the configuration.
  auto reloads = [&](const std::string& clone) {
    std::string n;
    Shell("grep -c 'received SIGHUP' " + d.data_dir() + "/run/" + clone + "/server.log", &n);
    return Trim(n);
  };
  if (e.name == "postgres") CHECK(reloads("lc-a") == "0");
  std::vector<long long> branch_ms, reset_ms;

  // Branch: a normal snapshot that bob clones and sees alice's row in.
  auto t = SteadyClock::now();
  int code = d.Call("POST", "/v1/clones/lc-a/snapshot", "", &body, "alice");
  branch_ms.push_back(MillisSince(t));
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  std::string branch = JsonField(body, "id");
  CHECK(branch.rfind("chinook@", 0) == 0);
  CHECK(NewestSnapshot(d) == branch);
  CHECK(d.Call("POST", "/v1/clones/lc-a/snapshot", "", &body, "bob") == 404);
  std::string bobs = CreateClone(d, R"({"name":"lc-b","snapshot":")" + branch + "\"}", "bob");
  CHECK(JsonField(bobs, "snapshot") == branch);
  int bobs_port = std::stoi(JsonField(bobs, "port"));
  CHECK(Ask(e, bobs_port, JsonField(bobs, "password"), e.has_mark) == "1");
  // The branch holds alice's password: bob's clone of it starts locked (postgres: pg_hba.conf,
  // then a reload) and her password does not open it.
  CHECK(e.query(bobs_port, password, "SELECT 1", &body) != 0);
  if (e.name == "postgres") CHECK(reloads("lc-b") == "1");
  // Alice's clone runs on after the branch, with its data.
  CHECK(Ask(e, port, password, e.has_mark) == "1");

  // Reset to the imported snapshot with a session open: it is dropped, the row is gone, and
  // the same address and password answer.
  std::future<int> held = HoldConnection(e, port, password);
  t = SteadyClock::now();
  code = d.Call("POST", "/v1/clones/lc-a/reset", R"({"snapshot":")" + imported + "\"}", &body,
                "alice");
  reset_ms.push_back(MillisSince(t));
  INFO(body << d.LogText());
  REQUIRE(code == 200);
  REQUIRE(held.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK(held.get() != 0);  // the server went away under it
  CHECK(JsonField(body, "id") == "lc-a");
  CHECK(JsonField(body, "port") == std::to_string(port));
  CHECK(JsonField(body, "password") == password);
  CHECK(JsonField(body, "uri") == uri);
  CHECK(JsonField(body, "owner") == "alice");
  CHECK(JsonField(body, "snapshot") == imported);
  CHECK(Ask(e, port, password, e.has_mark) == "0");

  // Reset to the newest snapshot (the branch): the row is back.
  t = SteadyClock::now();
  REQUIRE(d.Call("POST", "/v1/clones/lc-a/reset", "", &body, "alice") == 200);
  reset_ms.push_back(MillisSince(t));
  CHECK(JsonField(body, "snapshot") == branch);
  CHECK(Ask(e, port, password, e.has_mark) == "1");
  // More iterations for the timings.
  t = SteadyClock::now();
  REQUIRE(d.Call("POST", "/v1/clones/lc-a/snapshot", "{}", &body, "alice") == 201);
  branch_ms.push_back(MillisSince(t));
  t = SteadyClock::now();
  REQUIRE(d.Call("POST", "/v1/clones/lc-a/reset", R"({"snapshot":")" + imported + "\"}", &body,
                 "alice") == 200);
  reset_ms.push_back(MillisSince(t));
  CHECK(Ask(e, port, password, e.has_mark) == "0");
  t = SteadyClock::now();
  REQUIRE(d.Call("POST", "/v1/clones/lc-a/snapshot", "", &body, "alice") == 201);
  branch_ms.push_back(MillisSince(t));

  // Bad requests: unknown snapshot, unknown fields, another user.
  CHECK(d.Call("POST", "/v1/clones/lc-a/reset", R"({"snapshot":"chinook@20000101T000000Z"})", &body,
               "alice") == 404);
  CHECK(d.Call("POST", "/v1/clones/lc-a/reset", R"({"snap":"x"})", &body, "alice") == 400);
  CHECK(d.Call("POST", "/v1/clones/lc-a/reset", "", &body, "bob") == 404);
  CHECK(d.Call("POST", "/v1/clones/lc-a/snapshot", R"({"name":"x"})", &body, "alice") == 400);
  CHECK(Ask(e, port, password, "SELECT 1") == "1");

  WARN(e.name << ": reset p50 " << P50(reset_ms) << " ms, branch p50 " << P50(branch_ms) << " ms ("
              << reset_ms.size() << " and " << branch_ms.size() << " iterations)");
  CHECK(d.Call("DELETE", "/v1/clones/lc-a", "", &body, "alice") == 204);
  CHECK(d.Call("DELETE", "/v1/clones/lc-b", "", &body, "bob") == 204);
  // Nothing of either clone is left: no server, no volume (old ones of resets included).
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/"));
  std::string left;
  Shell("ls -A " + d.data_dir() + "/store/clones", &left);
  CHECK(left.empty());
}

void RunLifecycle(const EngineCase& e) {
  ZdapdFixture d("", e.resource_yaml);
  std::string out;
  int rc = d.Host("refresh chinook", &out);
  INFO(out);
  REQUIRE(rc == 0);
  d.Start();
  // One daemon for both (a refresh each would double the run time).
  ExtendAndProtect(d, e);
  BranchAndReset(d, e);
}

}  // namespace

TEST_CASE("lifecycle on postgres: extend, protect, branch, reset") {
  RunLifecycle(Postgres());
}

TEST_CASE("lifecycle on mariadb: extend, protect, branch, reset") {
  RunLifecycle(Mariadb());
}
