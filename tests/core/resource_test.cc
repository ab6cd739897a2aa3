#include <catch2/catch.hpp>

#include "config/resource.h"

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

TEST_CASE("keys that have no effect yet are refused at load with file, line and key") {
  std::string text = kGood;
  text.replace(text.find("  database: chinook"), 19,
               "  database: chinook\n  url: https://example.com/d.sql");
  auto msg = ErrorOf(text);
  CHECK(msg.find("resources/chinook.yaml:7:") != std::string::npos);
  CHECK(msg.find("source.url") != std::string::npos);
  CHECK(msg.find("not supported yet") != std::string::npos);
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
