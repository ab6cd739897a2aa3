// Pools, claim, idle expiry and quotas end to end: a real zdapd with the process runtime, real
// PostgreSQL and MariaDB clones, psql and the mariadb client (issue 10).
#include <time.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string ChinookResource(const std::string& extra) {
  return "name: chinook\nengine: postgres\nsource:\n  dump: " + ChinookDir() +
         "/Chinook_PostgreSql.sql\n  database: chinook\n" + extra +
         "credentials: {user: postgres, password: zdap}\n";
}

// Polls `done` every 100 ms for at most `limit`; true once it held.
bool WaitFor(std::chrono::seconds limit, const std::function<bool()>& done) {
  return PollUntil(limit, std::chrono::milliseconds(100), done);
}

// /v1/status says the chinook pool has `ready` claimable clones.
bool PoolReadyIs(const ZdapdFixture& d, int ready) {
  std::string body;
  if (d.Call("GET", "/v1/status", "", &body) != 200) return false;
  return body.find("\"ready\":" + std::to_string(ready) + "}") != std::string::npos;
}

// Clone id -> password of every clone the origin holds a secret for (pool clones included).
// A file listed may be gone when it is read: the maintenance pass destroys stale and surplus
// pool clones while tests poll.
std::map<std::string, std::string> Secrets(const ZdapdFixture& d) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(d.data_dir() + "/secrets")) {
    std::ifstream in(e.path());
    if (!in.is_open()) continue;
    out[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::set<std::string> PoolIds(const ZdapdFixture& d, const std::string& user) {
  std::set<std::string> ids;
  for (const auto& [id, pw] : Secrets(d)) {
    std::string body;
    // Pool clones belong to nobody: a user's GET does not find them.
    if (d.Call("GET", "/v1/clones/" + id, "", &body, user) == 404) ids.insert(id);
  }
  return ids;
}

// Every clone of the origin as the admin sees them (pool clones too): id -> clone object.
std::map<std::string, boost::json::object> AllClones(const ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.AdminCall("GET", "/v1/clones?all=1", "", &body) == 200);
  std::map<std::string, boost::json::object> out;
  boost::json::value list = boost::json::parse(body);
  for (const auto& c : list.at("clones").as_array()) {
    out[std::string(c.at("id").as_string())] = c.as_object();
  }
  return out;
}

// An RFC 3339 UTC time ("2026-12-01T03:49:20Z") as seconds since the epoch.
long long EpochSeconds(const std::string& rfc3339) {
  std::tm tm{};
  std::istringstream in(rfc3339);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  REQUIRE_FALSE(in.fail());
  return static_cast<long long>(::timegm(&tm));
}

std::string NewestSnapshot(const ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body) == 200);
  size_t at = body.find("\"id\":\"");
  REQUIRE(at != std::string::npos);
  return body.substr(at + 6, body.find('"', at + 6) - at - 6);
}

// A refresh started through the API with the host admin token; waits (bounded) until a new
// snapshot is the newest.
void RefreshThroughApi(const ZdapdFixture& d) {
  std::string before = NewestSnapshot(d), token, code;
  REQUIRE(Shell("cat " + d.data_dir() + "/admin.token", &token) == 0);
  while (!token.empty() && token.back() == '\n') token.pop_back();
  REQUIRE(Shell("curl -s -m 60 -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: "
                "Bearer " +
                    token + "' " + d.Url() + "/v1/resources/chinook/snapshots",
                &code) == 0);
  REQUIRE(code == "202");
  REQUIRE(WaitFor(std::chrono::seconds(120), [&] { return NewestSnapshot(d) != before; }));
}

}  // namespace

TEST_CASE(
    "postgres: claim from a pool of 2 rotates the password, refills, follows a refresh; "
    "quota refuses with the limit") {
  ::setenv("ZDAPD_QUOTA_CLONES_PER_USER", "2", 1);
  ZdapdFixture d("", ChinookResource("clone:\n  ttl: 1h\npool: {min: 2, max: 2}\n"));
  std::string out;
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  d.Start();
  ::unsetenv("ZDAPD_QUOTA_CLONES_PER_USER");
  INFO(d.LogText());
  REQUIRE(WaitFor(std::chrono::seconds(60), [&] { return PoolReadyIs(d, 2); }));
  std::map<std::string, std::string> before = Secrets(d);
  REQUIRE(before.size() == 2);
  // Pool clones as they are (issue 10, acceptance 4): pooled, nobody's, no expiry yet (it
  // starts at the claim), not protected, served by this daemon.
  auto pooled = AllClones(d);
  REQUIRE(pooled.size() == 2);
  for (const auto& [pid, c] : pooled) {
    INFO(pid << ": " << boost::json::serialize(c));
    CHECK(before.count(pid) == 1);
    CHECK(c.at("pooled").as_bool());
    CHECK(c.at("owner").as_string() == "");
    CHECK(c.at("expires_at").is_null());
    CHECK_FALSE(c.at("protected").as_bool());
    CHECK(c.at("origin").as_string() == d.Url());
    // Nobody owns a pool clone yet: its password is shown to no one, the admin included.
    CHECK(c.at("password").as_string() == "");
    CHECK(c.at("uri").as_string().find(before.at(pid)) == std::string::npos);
  }

  std::string body;
  auto t = SteadyClock::now();
  auto wall_before = std::time(nullptr);
  REQUIRE(d.Call("POST", "/v1/resources/chinook/claim", "{\"ttl\":\"30m\"}", &body) == 201);
  auto wall_after = std::time(nullptr);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count();
  WARN("claim answered in " << ms << " ms (curl included)");
  std::string id = JsonField(body, "id");
  REQUIRE(before.count(id) == 1);
  CHECK(JsonField(body, "owner") == "alice");
  CHECK(JsonField(body, "pooled") == "false");
  CHECK(JsonField(body, "from_pool") == "true");  // a pool clone, not one made for the claim
  CHECK(JsonField(body, "protected") == "false");
  CHECK(JsonField(body, "origin") == d.Url());
  // The ttl runs from the claim: expires_at is 30 minutes after it.
  long long expires = EpochSeconds(JsonField(body, "expires_at"));
  CHECK(expires >= wall_before + 30 * 60);
  CHECK(expires <= wall_after + 30 * 60);
  // As stored: the claimed clone is alice's and not pooled; the other is still pooled.
  auto after = AllClones(d);
  REQUIRE(after.count(id) == 1);
  CHECK_FALSE(after[id].at("pooled").as_bool());
  CHECK(after[id].at("owner").as_string() == "alice");
  CHECK(after[id].at("expires_at").as_string() == JsonField(body, "expires_at"));
  for (const auto& [pid, c] : pooled) {
    if (pid != id && after.count(pid) == 1) CHECK(after[pid].at("pooled").as_bool());
  }
  std::string password = JsonField(body, "password");
  int port = std::stoi(JsonField(body, "port"));
  REQUIRE(password != before[id]);
  CHECK(Psql(port, password, "SELECT count(*) FROM invoice_line", &out) == 0);
  CHECK(out.find("2240") != std::string::npos);
  CHECK(Psql(port, before[id], "SELECT 1", &out) != 0);
  CHECK(out.find("password authentication failed") != std::string::npos);

  // Refilled in the background: two claimable clones again, the claimed one not among them.
  REQUIRE(WaitFor(std::chrono::seconds(60), [&] { return PoolReadyIs(d, 2); }));
  std::set<std::string> pool = PoolIds(d, "alice");
  CHECK(pool.size() == 2);
  CHECK(pool.count(id) == 0);

  // After a refresh the pool's clones are of the new snapshot (the old ones are replaced).
  RefreshThroughApi(d);
  std::string newest = NewestSnapshot(d);
  REQUIRE(WaitFor(std::chrono::seconds(90), [&] {
    std::set<std::string> now = PoolIds(d, "alice");
    for (const auto& old : pool) {
      if (now.count(old)) return false;
    }
    return now.size() == 2 && PoolReadyIs(d, 2);
  }));
  REQUIRE(d.Call("POST", "/v1/resources/chinook/claim", "", &body) == 201);
  CHECK(JsonField(body, "from_pool") == "true");
  CHECK(JsonField(body, "snapshot") == newest);
  CHECK(pool.count(JsonField(body, "id")) == 0);

  // alice holds 2 clones: the daemon's quota of 2 refuses a third, naming limit and count.
  CHECK(d.Call("POST", "/v1/resources/chinook/clones", "", &body) == 403);
  CHECK(body.find("clones_per_user is 2") != std::string::npos);
  CHECK(body.find("already has 2 clones") != std::string::npos);
  CHECK(d.Call("POST", "/v1/resources/chinook/claim", "", &body) == 403);
  // bob is under his own quota.
  CHECK(d.Call("POST", "/v1/resources/chinook/claim", "", &body, "bob") == 201);
}

TEST_CASE("postgres: idle_timeout destroys a clone without sessions and keeps one in use") {
  ZdapdFixture d("", ChinookResource("clone:\n  ttl: 1h\n  idle_timeout: 3s\n"));
  std::string out, body;
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  d.Start();
  INFO(d.LogText());
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"busy\"}", &body) == 201);
  int busy_port = std::stoi(JsonField(body, "port"));
  std::string busy_pw = JsonField(body, "password");
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"quiet\"}", &body) == 201);
  // One session held for 8 s on "busy" (bounded: pg_sleep ends it, timeout kills it).
  REQUIRE(Shell("(PGPASSWORD='" + busy_pw + "' timeout 30 psql -X -h 127.0.0.1 -p " +
                std::to_string(busy_port) +
                " -U postgres -d chinook -c 'SELECT pg_sleep(8)' >/dev/null 2>&1 &)") == 0);
  REQUIRE(WaitFor(std::chrono::seconds(5), [&] {
    return Psql(busy_port, busy_pw,
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'",
                &out) == 0 &&
           out.find('1') != std::string::npos;
  }));
  auto t = SteadyClock::now();
  REQUIRE(WaitFor(std::chrono::seconds(20),
                  [&] { return d.Call("GET", "/v1/clones/quiet", "", &body) == 404; }));
  WARN("idle clone destroyed after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count()
       << " ms");
  CHECK(d.Call("GET", "/v1/clones/busy", "", &body) == 200);
  // Once its session ends, "busy" goes too: the clock restarted at its last session.
  REQUIRE(WaitFor(std::chrono::seconds(30),
                  [&] { return d.Call("GET", "/v1/clones/busy", "", &body) == 404; }));
  CHECK(!ServersRunUnder(d.data_dir()));
}

TEST_CASE("mariadb: a claimed pool clone takes a new password; idle claimed clones go") {
  ZdapdFixture d("", "name: chinook\nengine: mariadb\nsource:\n  dump: " + ChinookDir() +
                         "/Chinook_MySql.sql\n  database: Chinook\nclone:\n  ttl: 1h\n"
                         "  idle_timeout: 3s\npool: {min: 2}\n"
                         "credentials: {user: root, password: zdap}\n");
  std::string out, body;
  REQUIRE(d.Host("refresh chinook", &out) == 0);
  d.Start();
  INFO(d.LogText());
  REQUIRE(WaitFor(std::chrono::seconds(60), [&] { return PoolReadyIs(d, 2); }));
  std::map<std::string, std::string> before = Secrets(d);
  REQUIRE(d.Call("POST", "/v1/resources/chinook/claim", "", &body) == 201);
  std::string quiet = JsonField(body, "id");
  REQUIRE(before.count(quiet) == 1);
  std::string password = JsonField(body, "password");
  int port = std::stoi(JsonField(body, "port"));
  REQUIRE(password != before[quiet]);
  CHECK(Mariadb(port, password, "SELECT COUNT(*) FROM InvoiceLine", &out) == 0);
  CHECK(out.find("2240") != std::string::npos);
  CHECK(Mariadb(port, before[quiet], "SELECT 1", &out) != 0);
  CHECK(out.find("Access denied") != std::string::npos);

  REQUIRE(d.Call("POST", "/v1/resources/chinook/claim", "", &body) == 201);
  std::string busy = JsonField(body, "id");
  std::string busy_pw = JsonField(body, "password");
  REQUIRE(Shell("(MYSQL_PWD='" + busy_pw +
                "' timeout 30 mariadb --no-defaults -h127.0.0.1 -uroot -P" +
                JsonField(body, "port") + " -e 'SELECT SLEEP(8)' >/dev/null 2>&1 &)") == 0);
  REQUIRE(WaitFor(std::chrono::seconds(20),
                  [&] { return d.Call("GET", "/v1/clones/" + quiet, "", &body) == 404; }));
  CHECK(d.Call("GET", "/v1/clones/" + busy, "", &body) == 200);
  // Pool clones wait unowned and are never idled out.
  CHECK(WaitFor(std::chrono::seconds(30), [&] { return PoolReadyIs(d, 2); }));
}

// The owner-chosen password of a create or a claim (what `attach --replicas` gives each
// replica): it opens the clone, another does not, it is the clone's 0600 secret and nowhere in
// the daemon's or the server's log or any process's argv; a bad one is a 400 that says what is
// allowed, and makes nothing.
TEST_CASE("an owner-chosen password on create and claim: postgres and MariaDB") {
  struct Engine {
    std::string name, resource;
    std::function<int(int, const std::string&, std::string*)> count;  // the invoice lines
  };
  const std::vector<Engine> engines = {
      {"postgres", ChinookResource("clone:\n  ttl: 1h\npool: {min: 1}\n"),
       [](int port, const std::string& pw, std::string* out) {
         return Psql(port, pw, "SELECT count(*) FROM invoice_line", out);
       }},
      {"mariadb",
       "name: chinook\nengine: mariadb\nsource:\n  dump: " + ChinookDir() +
           "/Chinook_MySql.sql\n  database: Chinook\nclone:\n  ttl: 1h\npool: {min: 1}\n"
           "credentials: {user: root, password: zdap}\n",
       [](int port, const std::string& pw, std::string* out) {
         return Mariadb(port, pw, "SELECT COUNT(*) FROM InvoiceLine", out);
       }},
  };
  for (const Engine& e : engines) {
    DYNAMIC_SECTION(e.name) {
      ZdapdFixture d("", e.resource);
      std::string out, body;
      REQUIRE(d.Host("refresh chinook", &out) == 0);
      d.Start();
      INFO(d.LogText());
      const std::string chosen = "Shared.Replica_pw~" + e.name + "-0123456789";
      const std::string other = "Shared.Replica_pw~" + e.name + "-9876543210";

      // The pool full first, so that no refill changes what the secrets dir holds meanwhile.
      REQUIRE(WaitFor(std::chrono::seconds(60), [&] { return PoolReadyIs(d, 1); }));
      // A bad one: 400 with what is allowed, nothing made, the password not echoed.
      size_t secrets_before = Secrets(d).size();
      REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", R"({"password":"short"})", &body) ==
              400);
      CHECK(body.find("16 to 128 characters of A-Z, a-z, 0-9") != std::string::npos);
      REQUIRE(d.Call("POST", "/v1/resources/chinook/claim",
                     R"({"password":"a-password-with'quote"})", &body) == 400);
      CHECK(body.find("not allowed at position 16") != std::string::npos);
      CHECK(body.find("quote") == std::string::npos);
      CHECK(Secrets(d).size() == secrets_before);

      INFO("create with the chosen password");
      REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", R"({"password":")" + chosen + "\"}",
                     &body) == 201);
      const std::string created = JsonField(body, "id");
      CHECK(JsonField(body, "password") == chosen);
      CHECK(body.find(":" + chosen + "@") != std::string::npos);  // in the uri, unescaped
      int port = std::stoi(JsonField(body, "port"));
      REQUIRE(e.count(port, chosen, &out) == 0);
      CHECK(out.find("2240") != std::string::npos);
      CHECK(e.count(port, other, &out) != 0);
      CHECK(d.Password(created) == chosen);
      CHECK(Secrets(d).at(created) == chosen);
      std::string mode;
      REQUIRE(Shell("stat -c %a " + d.data_dir() + "/secrets/" + created, &mode) == 0);
      CHECK(mode == "600\n");

      INFO("claim a pool clone with another chosen password");
      std::map<std::string, std::string> pool = Secrets(d);
      REQUIRE(d.Call("POST", "/v1/resources/chinook/claim", R"({"password":")" + other + "\"}",
                     &body) == 201);
      const std::string claimed = JsonField(body, "id");
      REQUIRE(pool.count(claimed) == 1);  // a pool clone, not a new one
      CHECK(JsonField(body, "password") == other);
      int claimed_port = std::stoi(JsonField(body, "port"));
      REQUIRE(e.count(claimed_port, other, &out) == 0);
      CHECK(out.find("2240") != std::string::npos);
      CHECK(e.count(claimed_port, pool.at(claimed), &out) != 0);  // the pool's is gone
      CHECK(e.count(claimed_port, chosen, &out) != 0);
      CHECK(Secrets(d).at(claimed) == other);

      // Nowhere else: the daemon's log, the servers' logs, any process's argv.
      TempDir scratch("zdap-chosen-pw");
      const std::string patterns = scratch.path() + "/patterns";
      REQUIRE(Shell("printf '%s\\n%s\\n' '" + chosen + "' '" + other + "' > " + patterns) == 0);
      CHECK(Shell("grep -F -l -f " + patterns + " " + d.LogPath()) == 1);
      REQUIRE(Shell("test -s " + d.data_dir() + "/run/" + created + "/server.log") == 0);
      CHECK(Shell("grep -F -r -l -f " + patterns + " --include='*.log' " + d.data_dir() + "/run") ==
            1);
      CHECK(Shell("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -F -f " + patterns) ==
            1);
    }
  }
}
