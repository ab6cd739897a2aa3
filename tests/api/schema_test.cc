// libs/api: the objects round-trip; parsers are strict about types, tolerant of unknown
// fields, and bounded against malformed, oversized and hostile JSON.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "api/clone.h"
#include "api/error.h"
#include "api/job.h"
#include "api/json_reader.h"
#include "api/origin_status.h"
#include "api/resource.h"
#include "core/clone_password.h"
#include "core/random_secret.h"
#include "request_bodies.h"

namespace json = boost::json;

namespace zdap {
namespace {

api::Clone SampleClone() {
  api::Clone c;
  c.id = "chinook-7f3a";
  c.resource = "chinook";
  c.snapshot = "20261130T101010Z";
  c.owner = "alice";
  c.state = "ready";
  c.host = "127.0.0.1";
  c.port = 6001;
  c.database = "chinook";
  c.user = "postgres";
  c.password = "pw";
  c.uri = "postgresql://postgres:pw@127.0.0.1:6001/chinook";
  c.created_at = "2026-11-30T10:10:10Z";
  c.is_protected = true;
  c.engine = "postgres";
  return c;
}

std::string WithField(const api::Clone& c, const char* key, json::value v) {
  json::object o = api::ToJson(c);
  o[key] = std::move(v);
  return json::serialize(o);
}

}  // namespace

TEST_CASE("api: the clone object round-trips and expires_at null means never") {
  api::Clone c = SampleClone();
  std::string text = json::serialize(api::ToJson(c));
  CHECK(text.find("\"expires_at\":null") != std::string::npos);
  auto back = api::ParseClone(text);
  REQUIRE(back.ok());
  CHECK(back->id == c.id);
  CHECK(back->port == 6001);
  CHECK(back->is_protected);
  CHECK(back->expires_at.empty());
  CHECK(text.find("\"error\":null") != std::string::npos);
  CHECK(back->error.empty());
  c.expires_at = "2026-11-30T18:10:10Z";
  c.state = "failed";
  c.error = "reset chinook-7f3a: the postgres server exited during start-up";
  back = api::ParseClone(json::serialize(api::ToJson(c)));
  REQUIRE(back.ok());
  CHECK(back->expires_at == c.expires_at);
  CHECK(back->error == c.error);
  auto list = api::ParseCloneList(json::serialize(api::CloneListToJson({c, SampleClone()})));
  REQUIRE(list.ok());
  CHECK(list->size() == 2);
}

TEST_CASE("api: the clone list's direct text is boost::json's serialization, byte for byte") {
  api::Clone plain = SampleClone();
  api::Clone hostile = SampleClone();
  hostile.id = "x";
  hostile.owner = "quote\" back\\slash";
  hostile.password = "ctl\b\f\n\r\t\x01\x1f\x7f end";
  hostile.uri = "utf-8 \xc3\xa9\xe2\x82\xac and a NUL:" + std::string(1, '\0') + ".";
  hostile.expires_at = "2026-11-30T18:10:10Z";
  hostile.pooled = true;
  hostile.port = 65535;
  hostile.state = "failed";
  hostile.error = "reset failed: \"pg_ctl\" said\nFATAL: \x01";
  api::Clone empty;
  for (const auto& list : {std::vector<api::Clone>{}, std::vector<api::Clone>{plain},
                           std::vector<api::Clone>{plain, hostile, empty}}) {
    std::string direct = api::CloneListJsonText(list);
    CHECK(direct == json::serialize(api::CloneListToJson(list)));
    auto back = api::ParseCloneList(direct);
    if (!list.empty() && list.back().id.empty()) {
      CHECK_FALSE(back.ok());  // a clone without an id is refused by the reader, as before
    } else {
      REQUIRE(back.ok());
      CHECK(back->size() == list.size());
    }
  }
  std::vector<api::Clone> many(300, hostile);
  CHECK(api::CloneListJsonText(many) == json::serialize(api::CloneListToJson(many)));
}

TEST_CASE("api: unknown fields are tolerated, wrong types are not") {
  api::Clone c = SampleClone();
  auto extra = api::ParseClone(WithField(c, "new_field_from_a_newer_zdapd", json::array{1, 2}));
  REQUIRE(extra.ok());
  CHECK(extra->id == c.id);
  for (auto [key, v] : {std::pair<const char*, json::value>{"port", "6001"},
                        {"port", 70000},
                        {"port", -1},
                        {"port", 1.5},
                        {"protected", "yes"},
                        {"id", 7},
                        {"id", "../etc"},
                        {"host", json::object()},
                        {"created_at", "yesterday"},
                        {"expires_at", 0}}) {
    INFO(key << " = " << json::serialize(v));
    auto r = api::ParseClone(WithField(c, key, v));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnprocessable);
    CHECK(r.status().message().find(key) != std::string::npos);
  }
  CHECK_FALSE(api::ParseClone(R"({"host":"h","port":1})").ok());  // no id
  CHECK_FALSE(api::ParseCloneList(R"({"clones":{}})").ok());
  CHECK_FALSE(api::ParseCloneList(R"({"clones":[1]})").ok());
  CHECK_FALSE(api::ParseCloneList(R"({})").ok());
}

TEST_CASE("api: malformed, oversized and hostile JSON is refused with a message") {
  for (std::string bad : std::vector<std::string>{
           "", "{", "[]", "null", "\"x\"", "{\"id\":\"a\",}", "{\"id\":\"a\"}x",
           std::string("{\"id\":\"a\0b\"}", 13), "\xff\xfe"}) {
    INFO(bad);
    auto r = api::ParseClone(bad);
    CHECK_FALSE(r.ok());
  }
  // Nesting deeper than the limit is refused by the parser, not by the stack.
  std::string deep =
      "{\"id\":\"a\",\"x\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  auto r = api::ParseClone(deep);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("not valid JSON") != std::string::npos);
  // More than kMaxJsonBytes of text.
  std::string huge = "{\"id\":\"a\",\"pad\":\"" + std::string(api::kMaxJsonBytes, 'a') + "\"}";
  r = api::ParseClone(huge);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("larger than") != std::string::npos);
  // One string longer than kMaxStringChars.
  r = api::ParseClone(
      WithField(SampleClone(), "host", json::string(std::string(api::kMaxStringChars + 1, 'h'))));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("longer than") != std::string::npos);
  // Numbers out of every integer range.
  CHECK_FALSE(api::ParseClone(R"({"id":"a","port":1e300})").ok());
  CHECK_FALSE(api::ParseClone(R"({"id":"a","port":18446744073709551616})").ok());
}

TEST_CASE("api: resource and snapshot lists") {
  api::Resource res;
  res.name = "chinook";
  res.engine = "postgres";
  res.ttl = "8h";
  res.snapshots.push_back({"s1", "", "2026-11-30T10:10:10Z", "2026-11-30T03:00:00Z", 2});
  res.snapshots.push_back({"s0", "", "2026-11-29T10:10:10Z", "", 0});
  res.clones.push_back(SampleClone());
  auto list = api::ParseResourceList(json::serialize(api::ResourceListToJson({res})));
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].snapshots.at(0).clones == 2);
  CHECK((*list)[0].snapshots.at(0).data_as_of == "2026-11-30T03:00:00Z");
  CHECK((*list)[0].snapshots.at(1).data_as_of.empty());  // unknown: null, read back as ""
  CHECK(json::serialize(api::ToJson(res.snapshots.at(1))).find(R"("data_as_of":null)") !=
        std::string::npos);
  CHECK((*list)[0].clones.at(0).id == "chinook-7f3a");
  CHECK_FALSE(api::ParseResourceList(R"({"resources":3})").ok());
  CHECK_FALSE(api::ParseResourceList(R"({"resources":[{"name":"r","snapshots":[{}]}]})").ok());
  CHECK_FALSE(api::ParseResourceList(R"({"resources":[{"name":"r","clones":"x"}]})").ok());
  auto snaps = api::ParseSnapshotList(R"({"snapshots":[{"id":"s","clones":-1}]})");
  CHECK_FALSE(snaps.ok());
  snaps = api::ParseSnapshotList(R"({"snapshots":[{"id":"s","data_as_of":"yesterday"}]})");
  REQUIRE_FALSE(snaps.ok());
  CHECK(snaps.status().message().find("data_as_of") != std::string::npos);
}

TEST_CASE("api: the job object") {
  api::Job j;
  j.id = "job-1";
  j.resource = "chinook";
  j.state = api::JobState::kRunning;
  j.phase = api::JobPhase::kImport;
  j.bytes_done = 10;
  j.bytes_total = 100;
  j.started_at = "2026-11-30T10:10:10Z";
  j.log_tail = {"line 1", "line 2"};
  std::string text = json::serialize(api::ToJson(j));
  CHECK(text.find("\"finished_at\":null") != std::string::npos);
  auto back = api::ParseJob(text);
  REQUIRE(back.ok());
  CHECK(back->state == api::JobState::kRunning);
  CHECK(back->phase == api::JobPhase::kImport);
  CHECK(back->log_tail.size() == 2);
  // POST .../snapshots answers {"job": {...}}.
  back = api::ParseJob("{\"job\":" + text + "}");
  REQUIRE(back.ok());
  CHECK(back->id == "job-1");
  CHECK_FALSE(api::ParseJob(R"({"id":"j","resource":"r","state":"sleeping"})").ok());
  CHECK_FALSE(api::ParseJob(R"({"id":"j","resource":"r","state":"done","phase":"x"})").ok());
  CHECK_FALSE(api::ParseJob(R"({"id":"j","resource":"r","state":"done","log_tail":[1]})").ok());
  CHECK_FALSE(api::ParseJob(R"({"id":"j","resource":"r","state":"done","bytes_done":-5})").ok());
  json::array many;
  for (size_t i = 0; i <= api::kMaxJobLogLines; ++i) many.push_back("l");
  json::object o = api::ToJson(j);
  o["log_tail"] = many;
  CHECK_FALSE(api::ParseJob(json::serialize(o)).ok());
}

TEST_CASE("api: the status object") {
  api::OriginStatus s;
  s.version = "0.1.0";
  s.storage_driver = "copy";
  s.storage_total_bytes = 1000;
  s.memory_total_bytes = 5;
  s.load = {0.5, 0.25, 0.1};
  s.clone_count = 3;
  api::ResourceCounts chinook;
  chinook.name = "chinook";
  chinook.snapshots = 1;
  chinook.clones = 3;
  chinook.pool_max = 2;
  s.resources.push_back(chinook);
  auto back = api::ParseOriginStatus(json::serialize(api::ToJson(s)));
  REQUIRE(back.ok());
  CHECK(back->storage_total_bytes == 1000);
  CHECK(back->memory_total_bytes == 5u);
  CHECK_FALSE(back->memory_available_bytes);
  CHECK(back->load.size() == 3);
  CHECK(back->resources.at(0).pool_max == 2);
  CHECK_FALSE(api::ParseOriginStatus(R"({"version":"1","load":[1,2,3,4]})").ok());
  CHECK_FALSE(api::ParseOriginStatus(R"({"version":"1","counts":{"clones":"3"}})").ok());
}

TEST_CASE("api: a replica resource's standby in the status object") {
  api::OriginStatus s;
  s.version = "0.1.0";
  api::ResourceCounts app;
  app.name = "app";
  app.data_as_of = "2030-01-02T02:59:59Z";
  app.standby = api::StandbyStatus{"disconnected",         "no WAL from the primary", 3.5, 4096,
                                   "2030-01-02T03:00:00Z", "2030-01-02T03:00:05Z",    60.0};
  s.resources.push_back(app);
  api::ResourceCounts chinook;
  chinook.name = "chinook";
  s.resources.push_back(chinook);
  json::value v = api::ToJson(s);
  CHECK(v.at("resources").at(0).at("standby").at("lag_bytes").as_uint64() == 4096);
  CHECK_FALSE(v.at("resources").at(1).as_object().contains("standby"));
  auto back = api::ParseOriginStatus(json::serialize(v));
  REQUIRE(back.ok());
  REQUIRE(back->resources.at(0).standby);
  const api::StandbyStatus& sb = *back->resources.at(0).standby;
  CHECK(back->resources.at(0).data_as_of == "2030-01-02T02:59:59Z");
  CHECK(back->resources.at(1).data_as_of.empty());
  CHECK(sb.state == "disconnected");
  CHECK(sb.lag_seconds == 3.5);
  CHECK(sb.lag_bytes == 4096u);
  CHECK(sb.disconnected_since == "2030-01-02T03:00:05Z");
  CHECK(sb.newest_snapshot_age_seconds == 60.0);
  CHECK_FALSE(back->resources.at(1).standby);
  // Nulls are unknowns; wrong types and a missing state are refused.
  auto nulls = api::ParseOriginStatus(
      R"({"version":"1","resources":[{"name":"a","standby":{"state":"not_synced",)"
      R"("lag_seconds":null,"lag_bytes":null,"last_replayed_at":null}}]})");
  REQUIRE(nulls.ok());
  CHECK_FALSE(nulls->resources.at(0).standby->lag_seconds);
  for (
      const char* bad :
      {R"({"version":"1","resources":[{"name":"a","standby":{}}]})",
       R"({"version":"1","resources":[{"name":"a","standby":{"state":"x","lag_bytes":-1}}]})",
       R"({"version":"1","resources":[{"name":"a","standby":{"state":"x","lag_seconds":"1"}}]})",
       R"({"version":"1","resources":[{"name":"a","standby":{"state":"x","last_replayed_at":"now"}}]})",
       R"({"version":"1","resources":[{"name":"a","standby":[]}]})"}) {
    INFO(bad);
    CHECK_FALSE(api::ParseOriginStatus(bad).ok());
  }
}

TEST_CASE("api: the status object's clone ports and refresh schedule") {
  api::OriginStatus s;
  s.version = "0.1.0";
  s.clone_ports = {40000, 40999, 12};
  api::ResourceCounts scheduled;
  scheduled.name = "chinook";
  scheduled.refresh.cron = "0 3 * * *";
  scheduled.refresh.next_at = "2030-01-02T03:00:00Z";
  scheduled.refresh.last =
      api::LastRefresh{"failed", "2030-01-01T03:00:41Z", 41000, "", "pg_restore: <b>no</b>"};
  api::ResourceCounts never;
  never.name = "sakila";
  s.resources = {scheduled, never};
  auto back = api::ParseOriginStatus(json::serialize(api::ToJson(s)));
  REQUIRE(back.ok());
  CHECK(back->clone_ports.first == 40000);
  CHECK(back->clone_ports.last == 40999);
  CHECK(back->clone_ports.in_use == 12);
  const api::RefreshStatus& r = back->resources.at(0).refresh;
  CHECK(r.cron == "0 3 * * *");
  CHECK(r.next_at == "2030-01-02T03:00:00Z");
  REQUIRE(r.last);
  CHECK(r.last->state == "failed");
  CHECK(r.last->elapsed_ms == 41000);
  CHECK(r.last->error == "pg_restore: <b>no</b>");
  CHECK(r.last->snapshot.empty());
  CHECK(back->resources.at(1).refresh.cron.empty());
  CHECK_FALSE(back->resources.at(1).refresh.last);

  // A user's view has no in_use: it stays unset, not 0.
  s.clone_ports.in_use.reset();
  auto user = api::ParseOriginStatus(json::serialize(api::ToJson(s)));
  REQUIRE(user.ok());
  CHECK_FALSE(user->clone_ports.in_use);

  // Hostile or malformed parts are refused with the field named.
  for (const char* bad : {
           R"({"version":"1","clone_ports":{"first":70000,"last":1}})",
           R"({"version":"1","clone_ports":{"first":1,"last":2,"in_use":-1}})",
           R"({"version":"1","clone_ports":[1,2]})",
           R"({"version":"1","resources":[{"name":"a","refresh":"0 3 * * *"}]})",
           R"({"version":"1","resources":[{"name":"a","refresh":{"next_at":"tomorrow"}}]})",
           R"({"version":"1","resources":[{"name":"a","refresh":{"last":{"state":"ok",)"
           R"("finished_at":"2030-01-01T00:00:00Z"}}}]})",
           R"({"version":"1","resources":[{"name":"a","refresh":{"last":{"state":"done"}}}]})",
           R"({"version":"1","resources":[{"name":"a","refresh":{"last":{"state":"done",)"
           R"("finished_at":"2030-01-01T00:00:00Z","elapsed_ms":-5}}}]})",
       }) {
    INFO(bad);
    auto r = api::ParseOriginStatus(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnprocessable);
  }
}

TEST_CASE("api: the error object and the Status a reply stands for") {
  std::string e = api::ErrorJson(NotFound("clone 'x' not found"));
  CHECK(e == "{\"error\":{\"code\":\"not_found\",\"message\":\"clone 'x' not found\"}}\n");
  Status s = api::StatusFromErrorReply(404, e);
  CHECK(s.code() == Code::kNotFound);
  CHECK(s.message() == "clone 'x' not found");
  // No body, or one that is not the error object: the HTTP status decides.
  CHECK(api::StatusFromErrorReply(409, "").code() == Code::kConflict);
  CHECK(api::StatusFromErrorReply(401, "<html>").code() == Code::kUnauthenticated);
  CHECK(api::StatusFromErrorReply(503, R"({"error":{"code":5}})").code() == Code::kUnavailable);
  CHECK(api::StatusFromErrorReply(500, "x").message() == "HTTP status 500");
  // A hostile message is cut.
  std::string long_message = api::ErrorJson("conflict", std::string(100000, 'm'));
  CHECK(api::StatusFromErrorReply(409, long_message).message().size() < 1100);
}

TEST_CASE("api: a create or claim request's owner-chosen password") {
  const std::string good = "Replica.pass_word~0123-xyz";  // every kind of allowed character
  auto body = [](const std::string& password_json) {
    return R"({"ttl":"1h","password":)" + password_json + "}";
  };
  auto create = daemon::DecodeCreateClone("chinook", body(json::serialize(json::string(good))));
  REQUIRE(create.ok());
  CHECK(create->password == good);
  auto claim = daemon::DecodeClaim(body(json::serialize(json::string(good))));
  REQUIRE(claim.ok());
  CHECK(claim->password == good);
  CHECK(claim->ttl == std::chrono::hours(1));
  // Absent or null: a random one (""), the lengths at the limits are fine.
  CHECK(daemon::DecodeCreateClone("chinook", "{}")->password.empty());
  CHECK(daemon::DecodeClaim(R"({"password":null})")->password.empty());
  CHECK(daemon::DecodeClaim("")->password.empty());
  for (size_t n : {size_t{16}, size_t{128}}) {
    CHECK(daemon::DecodeClaim(body("\"" + std::string(n, 'a') + "\"")).ok());
  }

  struct Bad {
    std::string json;  // the password field's value
    std::string says;
  };
  std::vector<Bad> bad = {
      {"\"\"", "has 0 characters"},
      {"\"" + std::string(15, 'a') + "\"", "has 15 characters"},
      {"\"" + std::string(129, 'a') + "\"", "has 129 characters"},
      {"\"" + std::string(5000, 'a') + "\"", "has 5000 characters"},
      {"\"aaaaaaaaaaaaaaa'; DROP USER x\"", "not allowed at position 16"},
      {"\"aaaaaaaaaaaaaaaa b\"", "not allowed at position 17"},
      {"\"aaaaaaaaaaaaaaaa@host\"", "not allowed"},
      {"\"aaaaaaaaaaaaaaaa%2F\"", "not allowed"},
      {"\"aaaaaaaaaaaaaaaa\\\\\"", "not allowed"},
      {"\"aaaaaaaaaaaaaaaa\\n\"", "not allowed"},
      {"\"aaaaaaaaaaaaaaaa\\u0000\"", "not allowed"},
      {"\"aaaaaaaaaaaaaaaa\xc3\xa9\"", "not allowed"},  // UTF-8 é
      {"\"aaaaaaaaaaaaaaaa:\"", "not allowed"},
      {"12345678901234567890", "'password' must be a string"},
      {"[\"aaaaaaaaaaaaaaaaaaaa\"]", "'password' must be a string"},
      {"{}", "'password' must be a string"},
      {"true", "'password' must be a string"},
  };
  for (const Bad& b : bad) {
    INFO(b.json.substr(0, 80));
    for (bool is_claim : {false, true}) {
      Status st = is_claim ? daemon::DecodeClaim(body(b.json)).status()
                           : daemon::DecodeCreateClone("chinook", body(b.json)).status();
      REQUIRE_FALSE(st.ok());
      CHECK(st.code() == Code::kInvalidArgument);
      CHECK(st.message().find(b.says) != std::string::npos);
      if (b.says.find("must be a string") == std::string::npos) {
        // Says what is allowed, and never echoes what was sent.
        CHECK(st.message().find("16 to 128 characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'") !=
              std::string::npos);
        CHECK(st.message().find("aaaaaaaaaaaaaaa") == std::string::npos);
      }
    }
  }
  // Malformed bodies around the field.
  CHECK_FALSE(daemon::DecodeClaim(R"({"password":"aaaaaaaaaaaaaaaaaaaa")").ok());
  CHECK_FALSE(daemon::DecodeClaim(R"({"password":"aaaaaaaaaaaaaaaaaaaa","pasword":"x"})").ok());
  CHECK_FALSE(daemon::DecodeCreateClone("chinook", R"(["password"])").ok());
  // A password zdapd makes itself passes the same check (attach --replicas hands it on).
  auto made = RandomUrlSafeSecret(24);
  REQUIRE(made.ok());
  CHECK(ValidateClonePassword(*made).ok());
}

}  // namespace zdap
