#include <catch2/catch.hpp>

#include "config/resource.h"
#include "config/source_url.h"
#include "core/file_util.h"
#include "support/test_env.h"

using namespace zdap;
using zdap::config::ParseResource;

namespace {

const char* kGood = R"(name: chinook
engine: postgres
version: "15"
source:
  dump: dumps/chinook.sql
  database: chinook
  after: [sql/mask.sql]
refresh:
  cron: "0 3 * * *"
  keep: 3
clone:
  ttl: 8h
  max_ttl: 7d
  settings: {shared_buffers: 32MB}
pool: {min: 0, max: 0}
credentials: {user: postgres, password: zdap}
docker: {image: "postgres:15", env: [], shm: 256MB}
)";

std::string ErrorOf(const std::string& text) {
  auto r = ParseResource("resources/chinook.yaml", text, "/etc/zdap");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  return r.status().message();
}

// kGood with its `dump:` line replaced by `source` (other keys of source:).
std::string WithSource(const std::string& source) {
  std::string text = kGood;
  const std::string dump = "  dump: dumps/chinook.sql\n";
  text.replace(text.find(dump), dump.size(), source);
  return text;
}

}  // namespace

TEST_CASE("SPEC's example resource file loads with every field") {
  auto r = ParseResource("resources/chinook.yaml", kGood, "/etc/zdap");
  REQUIRE(r.ok());
  CHECK(r->name == "chinook");
  CHECK(r->engine == "postgres");
  CHECK(r->version == "15");
  CHECK(r->source.dump == "/etc/zdap/dumps/chinook.sql");
  CHECK(r->source.after == std::vector<std::string>{"/etc/zdap/sql/mask.sql"});
  CHECK(r->refresh_cron == "0 3 * * *");
  CHECK(r->clone_ttl == std::chrono::hours(8));
  CHECK(r->clone_max_ttl == std::chrono::hours(7 * 24));
  CHECK(r->settings.at("shared_buffers") == "32MB");
  CHECK(r->pool_max == 0);
  CHECK(r->password == "zdap");
}

TEST_CASE("a misspelt key is an error naming file, line and key") {
  std::string text = kGood;
  text.replace(text.find("engine:"), 7, "engin:");
  auto msg = ErrorOf(text);
  CHECK(msg.find("resources/chinook.yaml:2:") != std::string::npos);
  CHECK(msg.find("'engin'") != std::string::npos);
}

TEST_CASE("a nested bad key names its dotted path and line") {
  std::string text = kGood;
  text.replace(text.find("  max_ttl"), 9, "  max_tll");
  auto msg = ErrorOf(text);
  CHECK(msg.find("resources/chinook.yaml:13:") != std::string::npos);
  CHECK(msg.find("clone.max_tll") != std::string::npos);
}

TEST_CASE("idle_timeout, pool and quota are read; a pool max below min names pool.max") {
  std::string text = kGood;
  text.replace(text.find("  max_ttl: 7d"), 13, "  max_ttl: 7d\n  idle_timeout: 2h");
  text.replace(text.find("max: 0}"), 7, "max: 3}\nquota: {clones_per_user: 4}");
  text.replace(text.find("min: 0"), 6, "min: 2");
  auto r = ParseResource("resources/chinook.yaml", text, "/etc/zdap");
  REQUIRE(r.ok());
  CHECK(r->idle_timeout == std::chrono::hours(2));
  CHECK(r->pool_min == 2);
  CHECK(r->pool_max == 3);
  CHECK(r->quota_clones_per_user == 4);
  CHECK(r->quota_protected_per_user == 0);

  text = kGood;
  text.replace(text.find("min: 0"), 6, "min: 2");
  r = ParseResource("resources/chinook.yaml", text, "/etc/zdap");
  REQUIRE(r.ok());
  CHECK(r->pool_max == 2);  // max 0 = min

  text = kGood;
  text.replace(text.find("{min: 0, max: 0}"), 16, "{min: 3, max: 2}");
  auto msg = ErrorOf(text);
  CHECK(msg.find("resources/chinook.yaml:15:") != std::string::npos);
  CHECK(msg.find("pool.max") != std::string::npos);

  text = kGood;
  text.replace(text.find("max: 0}"), 7, "max: 0}\nquota: {clones: 4}");
  msg = ErrorOf(text);
  CHECK(msg.find("quota.clones") != std::string::npos);
}

TEST_CASE("source.url: a live server, its password in a 0600 file, never in the URL") {
  test::TempDir dir("zdap-resource-url");
  REQUIRE(WriteFileAtomic(dir.path() + "/prod.pass", "s3cret\n", 0600).ok());
  auto r = ParseResource("resources/chinook.yaml",
                         WithSource("  url: postgres://ro@db.example.com:6432\n"
                                    "  password_file: prod.pass\n"),
                         dir.path());
  REQUIRE(r.ok());
  CHECK(r->source.url == "postgres://ro@db.example.com:6432");
  CHECK(r->source.live.user == "ro");
  CHECK(r->source.live.host == "db.example.com");
  CHECK(r->source.live.port == 6432);
  CHECK(r->source.live.database == "chinook");  // source.database when the URL names none
  CHECK(r->source.password_file == dir.path() + "/prod.pass");
  CHECK(r->password != "s3cret");  // read at each refresh, not kept with the resource

  // What is refused, with the line and what to do instead.
  auto msg = ErrorOf(WithSource("  url: https://example.com/d.sql\n"));
  CHECK(msg.find("resources/chinook.yaml:5:") != std::string::npos);
  CHECK(msg.find("source.url") != std::string::npos);
  CHECK(msg.find("postgres://") != std::string::npos);
  msg = ErrorOf(WithSource("  url: postgres://ro:hunter2@db/app\n"));
  CHECK(msg.find("password_file") != std::string::npos);
  CHECK(msg.find("hunter2") == std::string::npos);  // the message does not repeat it
  msg = ErrorOf(WithSource("  url: mysql://root@db/app\n"));
  CHECK(msg.find("a postgres resource dumps a postgres:// server") != std::string::npos);
  msg = ErrorOf(WithSource("  dump: dumps/chinook.sql\n  password_file: prod.pass\n"));
  CHECK(msg.find("source.password_file") != std::string::npos);
  CHECK(msg.find("this source has none") != std::string::npos);

  REQUIRE(WriteFileAtomic(dir.path() + "/open.pass", "s3cret\n", 0644).ok());
  auto open = ParseResource("resources/chinook.yaml",
                            WithSource("  url: postgres://ro@db/app\n  password_file: open.pass\n"),
                            dir.path());
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message().find("readable by others (mode 0644): chmod 600") !=
        std::string::npos);
  auto missing = ParseResource(
      "resources/chinook.yaml",
      WithSource("  url: postgres://ro@db/app\n  password_file: nope.pass\n"), dir.path());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("nope.pass") != std::string::npos);
}

TEST_CASE("source URLs: hostile and malformed ones are refused with the reason") {
  using config::ParseSourceUrl;
  auto u = ParseSourceUrl("mariadb://root@[::1]:3307/Chinook");
  REQUIRE(u.ok());
  CHECK(u->family == "mysql");
  CHECK(u->host == "::1");
  CHECK(u->port == 3307);
  CHECK(u->ToString() == "mysql://root@[::1]:3307/Chinook");
  CHECK(ParseSourceUrl("postgresql://127.0.0.2").value().port == 5432);
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"db.example.com/app", "write it as"},
           {"ftp://db/app", "scheme"},
           {"postgres://", "host is missing"},
           {"postgres://db:0/app", "1 to 65535"},
           {"postgres://db:99999999999999999999/app", "1 to 65535"},
           {"postgres://db:/app", "port is empty"},
           {"postgres://db/app?sslmode=disable", "query"},
           {"postgres://db/a%20b", "percent"},
           {"postgres://db/a;drop", "database name"},
           {"postgres://r'o@db/app", "user name"},
           {"postgres://d b/app", "space"},
           {std::string("postgres://db/\0app", 18), "control"},
           {"postgres://[::1/app", "closing"},
           {"postgres://[::g]/app", "IPv6"},
           {"postgres://ro:pw@db/app", "password_file"},
           {"postgres://" + std::string(2000, 'a'), "longer than"},
       }) {
    INFO(text);
    auto r = ParseSourceUrl(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(why) != std::string::npos);
  }
}

TEST_CASE("source.replica: a primary's conninfo without a password, a slot, max_disconnect") {
  test::TempDir dir("zdap-resource-replica");
  REQUIRE(WriteFileAtomic(dir.path() + "/repl.pass", "s3cret\n", 0600).ok());
  auto r = ParseResource(
      "resources/chinook.yaml",
      WithSource("  replica:\n    primary: \"host=pg-prod port=5433 user=zdap_replicator "
                 "sslmode='verify-full'\"\n    password_file: repl.pass\n"
                 "    max_disconnect: 30m\n"),
      dir.path());
  REQUIRE(r.ok());
  REQUIRE(r->source.replica);
  const config::ReplicaSpec& spec = *r->source.replica;
  CHECK(spec.primary.user() == "zdap_replicator");
  CHECK(spec.primary.params.at("port") == "5433");
  CHECK(spec.primary.params.at("sslmode") == "verify-full");
  CHECK(spec.primary.ToString() ==
        "host='pg-prod' port='5433' sslmode='verify-full' user='zdap_replicator'");
  CHECK(spec.password_file == dir.path() + "/repl.pass");
  CHECK(spec.slot == "zdap_chinook");  // the default
  CHECK(spec.max_disconnect == std::chrono::minutes(30));

  auto msg = ErrorOf(WithSource("  replica:\n    primary: \"host=db user=r password=hunter2\"\n"));
  CHECK(msg.find("password_file") != std::string::npos);
  CHECK(msg.find("hunter2") == std::string::npos);
  msg = ErrorOf(WithSource("  replica:\n    primary: \"host=db user=r\"\n    slot: Bad-Slot\n"));
  CHECK(msg.find("source.replica.slot") != std::string::npos);
  msg =
      ErrorOf(WithSource("  replica:\n    primary: \"host=db user=r\"\n  url: postgres://db/x\n"));
  CHECK(msg.find("exactly one of") != std::string::npos);
  std::string mariadb = WithSource("  replica:\n    primary: \"host=db user=r\"\n");
  mariadb.replace(mariadb.find("engine: postgres"), 16, "engine: mariadb");
  CHECK(ErrorOf(mariadb).find("PostgreSQL resources only") != std::string::npos);
}

TEST_CASE("conninfo strings: hostile and malformed ones are refused with the reason") {
  using config::ParseConninfo;
  auto c = ParseConninfo("  host = db1  user='a \\'b' port=5432 ");
  REQUIRE(c.ok());
  CHECK(c->params.at("host") == "db1");
  CHECK(c->user() == "a 'b");
  // What ToString gives, libpq (and this parser) reads back the same.
  auto again = ParseConninfo(c->ToString());
  REQUIRE(again.ok());
  CHECK(again->params == c->params);
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "names no host"},
           {"host=db", "names no user"},
           {"user=r", "names no host"},
           {"host=db user=r password=x", "password_file"},
           {"host=db user=r passfile=/tmp/x", "password_file"},
           {"host=db user=r dbname=app", "zdapd sets it"},
           {"host=db user=r replication=true", "zdapd sets it"},
           {"host=db user=r evil=1", "not a libpq connection keyword"},
           {"host=db user=r host=other", "given twice"},
           {"host=db user='r", "no closing"},
           {"host db user=r", "has no '='"},
           {"host=db\nuser=r", "control character"},
           {std::string("host=db\0 user=r", 16), "control character"},
           {"host=db user=" + std::string(2000, 'a'), "at most 1000"},
       }) {
    INFO(text);
    auto r = ParseConninfo(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(why) != std::string::npos);
  }
  CHECK(config::DefaultSlotName("App-Prod.1") == "zdap_app_prod_1");
  CHECK(config::ValidateSlotName("zdap_app").ok());
  CHECK_FALSE(config::ValidateSlotName("").ok());
  CHECK_FALSE(config::ValidateSlotName(std::string(64, 'a')).ok());
  CHECK_FALSE(config::ValidateSlotName("x;drop").ok());
}

TEST_CASE("a wrong type is an error naming file, line and key") {
  std::string text = kGood;
  text.replace(text.find("keep: 3"), 7, "keep: [3]");
  auto msg = ErrorOf(text);
  CHECK(msg.find("resources/chinook.yaml:10:") != std::string::npos);
  CHECK(msg.find("refresh.keep") != std::string::npos);
  CHECK(msg.find("whole number") != std::string::npos);

  text = kGood;
  text.replace(text.find("ttl: 8h"), 7, "ttl: 8 hours");
  msg = ErrorOf(text);
  CHECK(msg.find(":12:") != std::string::npos);
  CHECK(msg.find("clone.ttl") != std::string::npos);
}

TEST_CASE("bad values are refused with what to use instead") {
  CHECK(ErrorOf("name: Chinook\nengine: postgres\nsource: {dump: a.sql, database: d}\n")
            .find("resource name 'Chinook'") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: oracle\nsource: {dump: a.sql, database: d}\n")
            .find("postgres, mariadb or mysql") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql, script: b.sh, database: d}\n")
            .find("exactly one of") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql}\n").find("database") !=
        std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql, database: \"x; drop\"}\n")
            .find("database") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql, database: d}\nrefresh: {cron: "
                "\"0 3 * *\"}\n")
            .find("5") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql, database: d}\nclone: {ttl: 8d, "
                "max_ttl: 7d}\n")
            .find("max_ttl") != std::string::npos);
  CHECK(ErrorOf("name: c\nengine: postgres\nsource: {dump: a.sql, database: d}\nclone: "
                "{settings: {\"a b\": 1}}\n")
            .find("setting") != std::string::npos);
}

TEST_CASE("malformed, hostile and oversized YAML gives a clear error, never a crash") {
  CHECK(ErrorOf("name: [unclosed\n").find("not valid YAML") != std::string::npos);
  CHECK(ErrorOf("- a\n- b\n").find("mapping") != std::string::npos);
  CHECK(ErrorOf("").find("mapping") != std::string::npos);
  CHECK(ErrorOf("? [a, b]\n: c\n").find("plain strings") != std::string::npos);
  // Alias bombs expand lazily in yaml-cpp; as keys they are still refused.
  std::string bomb =
      "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n";
  CHECK(ErrorOf(bomb).find("unknown key") != std::string::npos);
  std::string huge =
      "name: c\nengine: postgres\nsource: {dump: " + std::string(100000, 'a') + ", database: d}\n";
  CHECK(ErrorOf(huge).find("longer than") != std::string::npos);
  std::string deep(5000, '[');
  auto r = ParseResource("x.yaml", "name: " + deep, "/");
  CHECK_FALSE(r.ok());
}

TEST_CASE("source.origin: an upstream origin's URL and token file; ids kept, so the same name") {
  test::TempDir dir("zdap-resource-origin");
  // The example's `after` has no place on a follower (refused: see the last case below).
  auto follower = [](const std::string& source) {
    std::string text = WithSource(source);
    const std::string after = "  after: [sql/mask.sql]\n";
    if (auto at = text.find(after); at != std::string::npos) text.erase(at, after.size());
    return text;
  };
  REQUIRE(WriteFileAtomic(dir.path() + "/db1.token", "tok\n", 0600).ok());
  REQUIRE(WriteFileAtomic(dir.path() + "/ca.pem", "pem\n", 0644).ok());
  auto r = ParseResource("resources/chinook.yaml",
                         follower("  origin:\n    url: HTTPS://DB1.example.com:43210/\n"
                                  "    token_file: db1.token\n    ca: ca.pem\n"),
                         dir.path());
  REQUIRE(r.ok());
  REQUIRE(r->source.upstream);
  CHECK(r->source.upstream->url == "https://db1.example.com:43210");
  CHECK(r->source.upstream->resource == "chinook");
  CHECK(r->source.upstream->token_file == dir.path() + "/db1.token");
  CHECK(r->source.upstream->ca == dir.path() + "/ca.pem");

  struct Case {
    std::string source, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"  origin:\n    url: ftp://db1\n    token_file: db1.token\n", "source.origin.url"},
           {"  origin:\n    url: https://u:p@db1\n    token_file: db1.token\n",
            "source.origin.url"},
           {"  origin:\n    url: https://db1\n", "token_file"},
           {"  origin:\n    url: https://db1\n    token_file: missing.token\n", "token_file"},
           {"  origin:\n    url: https://db1\n    token_file: db1.token\n    resource: other\n",
            "name this resource 'other' too"},
           {"  origin:\n    url: http://db1\n    token_file: db1.token\n    ca: ca.pem\n",
            "is for an https:// url"},
           {"  origin:\n    url: https://db1\n    token_file: db1.token\n    ca: nope.pem\n",
            "does not exist"},
           {"  origin:\n    url: https://db1\n    token_file: db1.token\n    colour: red\n",
            "colour"},
           {"  origin:\n    url: https://db1\n    token_file: db1.token\n  dump: x.sql\n",
            "exactly one of"},
       }) {
    INFO(c.source);
    auto bad = ParseResource("resources/chinook.yaml", follower(c.source), dir.path());
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().message().find(c.expect) != std::string::npos);
  }
  auto with_after = ParseResource(
      "resources/chinook.yaml",
      WithSource("  origin:\n    url: https://db1\n    token_file: db1.token\n"), dir.path());
  REQUIRE_FALSE(with_after.ok());
  CHECK(with_after.status().message().find("does not run on a follower") != std::string::npos);
  // A token file others may read is refused, with the fix.
  REQUIRE(WriteFileAtomic(dir.path() + "/open.token", "tok\n", 0644).ok());
  auto open = ParseResource(
      "resources/chinook.yaml",
      follower("  origin:\n    url: https://db1\n    token_file: open.token\n"), dir.path());
  REQUIRE_FALSE(open.ok());
  CHECK(open.status().message().find("chmod 600") != std::string::npos);
}
