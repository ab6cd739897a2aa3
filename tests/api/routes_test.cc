// Api::Handle called directly on a real Origin: copy storage on a temp dir, the process
// runtime, and a real postgres clone of Chinook where a clone is needed.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <fstream>

#include "api.h"
#include "api/clone.h"
#include "api/error.h"
#include "api/origin_status.h"
#include "api/resource.h"
#include "config/daemon_config.h"
#include "core/file_util.h"
#include "core/time.h"
#include "route_table.h"
#include "support/test_env.h"
#include "support/test_ports.h"

namespace json = boost::json;

namespace zdap {
namespace {

using daemon::ApiRequest;
using daemon::ApiResponse;

// Tokens: alice and bob are plain users, root is an admin.
class ApiFixture {
 public:
  // `resource_extra`: more YAML for the chinook resource (e.g. a quota).
  explicit ApiFixture(const std::string& resource_extra = "") : dir_("zdap-api") {
    ::chmod(dir_.path().c_str(), 0755);  // the database servers run unprivileged
    test::Shell("mkdir -p " + dir_.path() + "/config/resources");
    std::ofstream(dir_.path() + "/config/resources/chinook.yaml")
        << "name: chinook\nengine: postgres\nsource:\n  dump: " << test::ChinookDir()
        << "/Chinook_PostgreSql.sql\n  database: chinook\nclone:\n  ttl: 1h\n"
           "credentials: {user: postgres, password: zdap}\n"
        << resource_extra;
    cfg_.config_dir = dir_.path() + "/config";
    cfg_.data_dir = dir_.path() + "/data";
    cfg_.storage_driver = "copy";
    // Reserved like every other test's ports, so tests may run side by side (ctest -j).
    cfg_.clone_port_first = ports_.first();
    cfg_.clone_port_last = ports_.last();
    REQUIRE(MakeDirs(cfg_.data_dir, 0755).ok());
    auto o = origin::Origin::Open(cfg_);
    if (!o.ok()) FAIL(o.status().message());
    origin_ = std::move(o).value();
    REQUIRE(origin_->Recover().ok());
    using daemon::TokenRole;
    auth_ = daemon::Authenticator::ForEntries(
        {{daemon::DigestOf("tok-alice"), "alice", TokenRole::kUser},
         {daemon::DigestOf("tok-bob"), "bob", TokenRole::kUser},
         {daemon::DigestOf("tok-root"), "root", TokenRole::kAdmin},
         {daemon::DigestOf("tok-db2"), "db2", TokenRole::kReplicator}});
    api_ = std::make_unique<daemon::Api>(*origin_, "test", *auth_, metrics_);
  }
  ~ApiFixture() {
    // Whatever clones a failed check left: stop their servers so nothing outlives the test.
    for (const auto& c : origin_->clones().List(origin::DaemonCaller(), true)) {
      (void)origin_->clones().Destroy(c.id, origin::DaemonCaller());
    }
  }

  ApiResponse Call(const std::string& method, const std::string& target,
                   const std::string& token = "", const std::string& body = "") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    if (!token.empty()) r.authorization = "Bearer " + token;
    r.from_loopback = true;
    return api_->Handle(r);
  }
  daemon::Api& api() { return *api_; }
  origin::Origin& origin() { return *origin_; }
  daemon::Metrics& metrics() { return metrics_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  test::TempDir dir_;
  test::PortBlock ports_{10};
  config::DaemonConfig cfg_;
  std::unique_ptr<origin::Origin> origin_;
  std::unique_ptr<daemon::Authenticator> auth_;
  daemon::Metrics metrics_;
  std::unique_ptr<daemon::Api> api_;
};

std::string ErrorCode(const ApiResponse& r) {
  json::value v = json::parse(r.body);
  return std::string(v.at("error").at("code").as_string());
}

std::string Header(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace

TEST_CASE("routes: 401 before routing, 404, 405 with Allow, 400, 403, 413") {
  ApiFixture f;
  // Health is public.
  ApiResponse r = f.Call("GET", "/v1/health");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body).at("status") == "ok");

  // Unauthenticated: 401 with WWW-Authenticate, whether the path exists or not.
  for (const char* target : {"/v1/clones", "/v1/nope", "/v1/clones/x/y/z", "/metrics"}) {
    INFO(target);
    r = f.Call("GET", target);
    CHECK(r.status == 401);
    CHECK(ErrorCode(r) == "unauthenticated");
    CHECK(Header(r, "WWW-Authenticate").rfind("Bearer", 0) == 0);
  }
  r = f.Call("GET", "/v1/clones", "wrong-token");
  CHECK(r.status == 401);
  CHECK(f.metrics().Value("zdap_api_auth_failures_total", {{"reason", "unknown_token"}}) == 1);
  CHECK(f.metrics().Value("zdap_api_auth_failures_total", {{"reason", "missing_token"}}) == 4);

  // Authenticated: the table answers 404 and 405.
  r = f.Call("GET", "/v1/nope", "tok-alice");
  CHECK(r.status == 404);
  CHECK(ErrorCode(r) == "not_found");
  r = f.Call("PUT", "/v1/clones/x", "tok-alice");
  CHECK(r.status == 405);
  CHECK(Header(r, "Allow") == "GET, PATCH, DELETE");
  r = f.Call("DELETE", "/v1/health");
  CHECK(r.status == 401);  // not public for other methods
  r = f.Call("DELETE", "/v1/health", "tok-alice");
  CHECK(r.status == 405);
  CHECK(Header(r, "Allow") == "GET");
  r = f.Call("GET", "/v1/clones/../../etc", "tok-alice");
  CHECK(r.status == 400);
  r = f.Call("GET", "/v1/clones/%2e%2e", "tok-alice");
  CHECK((r.status == 400 || r.status == 404));
  r = f.Call("GET", "not a path", "tok-alice");
  CHECK(r.status == 400);

  // Plain users may not list everyone's clones nor scrape metrics.
  r = f.Call("GET", "/v1/clones?all=1", "tok-alice");
  CHECK(r.status == 403);
  CHECK(ErrorCode(r) == "forbidden");
  CHECK(f.Call("GET", "/metrics", "tok-bob").status == 403);
  CHECK(f.Call("GET", "/v1/clones?all=1", "tok-root").status == 200);

  // Request bodies: too large, malformed, unknown fields, wrong types.
  std::string big(daemon::kMaxRequestBodyBytes + 1, ' ');
  r = f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", big);
  CHECK(r.status == 413);
  CHECK(ErrorCode(r) == "too_large");
  for (const char* body :
       {"{", "[]", R"({"nmae":"x"})", R"({"ttl":5})", R"({"protected":"yes"})", R"({"ttl":"8x"})",
        R"({"name":"../x"})", R"({"snapshot":"chinook@x"})", R"({"password":"short"})"}) {
    INFO(body);
    r = f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", body);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "invalid_argument");
  }
  // Starting a refresh takes no fields: one sent is refused, not ignored.
  r = f.Call("POST", "/v1/resources/chinook/snapshots", "tok-root", R"({"source":"x"})");
  CHECK(r.status == 400);
  CHECK(r.body.find("unknown field 'source'") != std::string::npos);
  r = f.Call("POST", "/v1/resources/nope/clones", "tok-alice", "{}");
  CHECK(r.status == 404);
}

TEST_CASE("routes: list query values are names, bounded in count and length") {
  using daemon::QueryList;
  CHECK(QueryList("", "base", 4).value().empty());
  CHECK(QueryList("formats=btrfs", "base", 4).value().empty());
  CHECK(QueryList("base=", "base", 4).value().empty());
  CHECK(QueryList("formats=btrfs,tar.zst&base=a@1,b_2", "formats", 4).value() ==
        std::vector<std::string>{"btrfs", "tar.zst"});
  CHECK(QueryList("formats=btrfs,tar.zst&base=a@1,b_2", "base", 4).value() ==
        std::vector<std::string>{"a@1", "b_2"});
  for (const char* hostile :
       {"base=a,", "base=,a", "base=a,,b", "base=a%2Fb", "base=../x", "base=a b", "base=a;b"}) {
    auto r = QueryList(hostile, "base", 4);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("query parameter 'base'") != std::string::npos);
  }
  CHECK_FALSE(QueryList("base=" + std::string(129, 'a'), "base", 4).ok());
  CHECK(QueryList("base=" + std::string(128, 'a'), "base", 4).ok());
  CHECK(QueryList("base=a,b,c,d", "base", 4).ok());
  auto many = QueryList("base=a,b,c,d,e", "base", 4);
  REQUIRE_FALSE(many.ok());
  CHECK(many.status().message().find("more than 4") != std::string::npos);
}

TEST_CASE("routes: the table decides each request's lane, from one match") {
  ApiFixture f;
  using daemon::Lane;
  auto lane = [&](const std::string& method, const std::string& target) {
    ApiRequest r;
    r.method = method;
    r.target = target;
    return f.api().Route(r).lane();
  };
  // Answered from memory, on the I/O thread.
  CHECK(lane("GET", "/v1/health") == Lane::kInline);
  CHECK(lane("GET", "/v1/clones") == Lane::kInline);
  CHECK(lane("GET", "/v1/clones?all=1") == Lane::kInline);
  CHECK(lane("GET", "/v1/clones/x") == Lane::kInline);
  // Disk (snapshot lists), collected gauges, jobs: the quick lane; so is what matches no route
  // (authenticated, then answered with an error).
  CHECK(lane("GET", "/v1/resources") == Lane::kQuick);
  CHECK(lane("GET", "/v1/status") == Lane::kQuick);
  CHECK(lane("GET", "/metrics") == Lane::kQuick);
  CHECK(lane("GET", "/v1/jobs/job-1") == Lane::kQuick);
  CHECK(lane("POST", "/v1/clones") == Lane::kQuick);  // 405
  CHECK(lane("GET", "/nope") == Lane::kQuick);
  CHECK(lane("POST", "%%%") == Lane::kQuick);  // 400
  // Every write: the long lane (PATCH and starting a refresh too: they write).
  CHECK(lane("POST", "/v1/resources/chinook/clones") == Lane::kLong);
  CHECK(lane("POST", "/v1/resources/chinook/claim") == Lane::kLong);
  CHECK(lane("DELETE", "/v1/clones/x") == Lane::kLong);
  CHECK(lane("POST", "/v1/clones/x/reset") == Lane::kLong);
  CHECK(lane("POST", "/v1/clones/x/snapshot") == Lane::kLong);
  CHECK(lane("PATCH", "/v1/clones/x") == Lane::kLong);
  CHECK(lane("POST", "/v1/resources/chinook/snapshots") == Lane::kLong);
  CHECK(lane("DELETE", "/v1/resources/chinook/snapshots/chinook@20260101T000000Z") == Lane::kLong);
  // The rule, for every route of the table: only reads are answered inline, every write is long.
  for (const auto& route : f.api().routes().routes()) {
    INFO(route.method << " " << route.pattern);
    if (route.method == "GET") {
      CHECK(route.options.lane != Lane::kLong);
    } else {
      CHECK(route.options.lane == Lane::kLong);
    }
  }
  // The match carries what the handler needs: captures and the query.
  ApiRequest r;
  r.method = "GET";
  r.target = "/v1/clones/abc?all=1";
  auto m = f.api().Route(r);
  REQUIRE(m.kind == daemon::RouteTable::Match::kFound);
  CHECK(m.route->pattern == "/v1/clones/{id}");
  CHECK(m.params == std::vector<std::string>{"abc"});
  CHECK(m.query == "all=1");
}

TEST_CASE("routes: a user sees and touches only their own clones; admins see all") {
  ApiFixture f;
  auto snap = f.origin().refresher().Refresh("chinook");
  if (!snap.ok()) FAIL(snap.status().message());

  ApiResponse r =
      f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", R"({"name":"shared-1"})");
  REQUIRE(r.status == 201);
  auto clone = api::ParseClone(r.body);
  REQUIRE(clone.ok());
  CHECK(clone->owner == "alice");
  CHECK(clone->state == "ready");
  CHECK(clone->port > 0);

  // Bob: another's clone does not exist for him, on GET, DELETE and in his list.
  r = f.Call("GET", "/v1/clones/shared-1", "tok-bob");
  CHECK(r.status == 404);
  r = f.Call("DELETE", "/v1/clones/shared-1", "tok-bob");
  CHECK(r.status == 404);
  r = f.Call("GET", "/v1/clones", "tok-bob");
  REQUIRE(r.status == 200);
  CHECK(api::ParseCloneList(r.body)->empty());
  // The name is taken, and nothing says by whom.
  r = f.Call("POST", "/v1/resources/chinook/clones", "tok-bob", R"({"name":"shared-1"})");
  CHECK(r.status == 409);
  CHECK(ErrorCode(r) == "conflict");
  CHECK(r.body.find("alice") == std::string::npos);
  // Bob's resources and status count only his clones.
  r = f.Call("GET", "/v1/resources", "tok-bob");
  REQUIRE(r.status == 200);
  auto resources = api::ParseResourceList(r.body);
  REQUIRE(resources.ok());
  CHECK(resources->at(0).clones.empty());
  CHECK(resources->at(0).snapshots.at(0).clones == 0);
  auto bob_status = api::ParseOriginStatus(f.Call("GET", "/v1/status", "tok-bob").body);
  REQUIRE(bob_status.ok());
  CHECK(bob_status->clone_count == 0);
  CHECK(bob_status->resources.at(0).clones == 0);

  // Alice sees hers; an admin sees all with ?all=1 and counts every clone.
  auto alice_list = api::ParseCloneList(f.Call("GET", "/v1/clones", "tok-alice").body);
  REQUIRE(alice_list.ok());
  CHECK(alice_list->size() == 1);
  auto all = api::ParseCloneList(f.Call("GET", "/v1/clones?all=1", "tok-root").body);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->at(0).owner == "alice");
  CHECK(api::ParseOriginStatus(f.Call("GET", "/v1/status", "tok-root").body)->clone_count == 1);
  CHECK(f.Call("GET", "/v1/clones/shared-1", "tok-root").status == 200);
  // SPEC: a password is given only to its owner. The admin sees alice's clone, with how to
  // reach it, but neither its password nor a URI that holds it; alice sees both.
  const std::string secret = alice_list->at(0).password;
  REQUIRE(secret.size() >= 16);
  CHECK(alice_list->at(0).uri.find(secret) != std::string::npos);
  for (const api::Clone& c :
       {all->at(0), *api::ParseClone(f.Call("GET", "/v1/clones/shared-1", "tok-root").body)}) {
    INFO(c.uri);
    CHECK(c.password.empty());
    CHECK(c.uri.find(secret) == std::string::npos);
    CHECK(c.uri.rfind("postgres://postgres@", 0) == 0);
    CHECK(c.port == alice_list->at(0).port);
  }
  CHECK(f.Call("GET", "/v1/clones?all=1", "tok-root").body.find(secret) == std::string::npos);

  // Metrics: a real scrape that promtool accepts, with the clone and the requests counted.
  r = f.Call("GET", "/metrics", "tok-root");
  REQUIRE(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("zdap_clones{resource=\"chinook\",state=\"ready\"} 1") != std::string::npos);
  CHECK(r.body.find("zdap_snapshots{resource=\"chinook\"} 1") != std::string::npos);
  CHECK(r.body.find("zdap_clone_ports{state=\"in_use\"} 1") != std::string::npos);
  CHECK(r.body.find("zdap_api_request_duration_seconds_count{route=\"/v1/resources/{resource}/"
                    "clones\",method=\"POST\",code=\"201\"} 1") != std::string::npos);
  std::string scrape = f.dir() + "/scrape.txt";
  std::ofstream(scrape) << r.body;
  std::string out;
  int rc = test::Shell("promtool check metrics < " + scrape, &out);
  INFO(out);
  CHECK(rc == 0);

  // The owner deletes it; the admin could have too.
  r = f.Call("DELETE", "/v1/clones/shared-1", "tok-alice");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(f.Call("GET", "/v1/clones/shared-1", "tok-alice").status == 404);
  r = f.Call("GET", "/metrics", "tok-root");
  CHECK(r.body.find("zdap_clones{resource=\"chinook\",state=\"ready\"} 0") != std::string::npos);
  CHECK(r.body.find("zdap_api_request_duration_seconds_count{route=\"/v1/clones/{id}\","
                    "method=\"DELETE\",code=\"204\"} 1") != std::string::npos);
  CHECK(r.body.find("zdap_api_request_duration_seconds_count{route=\"/v1/clones/{id}\","
                    "method=\"DELETE\",code=\"404\"} 1") != std::string::npos);

  // An admin's own clone is the admin's: its password is shown, in the list with ?all=1 too.
  r = f.Call("POST", "/v1/resources/chinook/clones", "tok-root", R"({"name":"roots"})");
  REQUIRE(r.status == 201);
  const std::string root_secret = api::ParseClone(r.body)->password;
  REQUIRE_FALSE(root_secret.empty());
  REQUIRE(f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", R"({"name":"a2"})").status ==
          201);
  all = api::ParseCloneList(f.Call("GET", "/v1/clones?all=1", "tok-root").body);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  for (const api::Clone& c : *all) {
    CHECK(c.password == (c.owner == "root" ? root_secret : ""));
  }
  REQUIRE(f.Call("DELETE", "/v1/clones/roots", "tok-root").status == 204);
}

TEST_CASE("routes: PATCH, reset and snapshot of a clone: owner or admin, bodies checked") {
  ApiFixture f;
  auto snap = f.origin().refresher().Refresh("chinook");
  if (!snap.ok()) FAIL(snap.status().message());
  ApiResponse r = f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", R"({"name":"own"})");
  REQUIRE(r.status == 201);
  auto before = api::ParseClone(r.body);
  REQUIRE(before.ok());
  CHECK(before->origin == f.origin().advertised_url());
  CHECK(before->origin.rfind("http://127.0.0.1:", 0) == 0);
  CHECK_FALSE(before->pooled);

  // Malformed bodies: 400 naming the field; nothing changes.
  for (const char* body : {"", "{}", "[]", "{", R"({"ttl":5})", R"({"ttl":"soon"})",
                           R"({"protected":"yes"})", R"({"ttl":"1h","owner":"bob"})"}) {
    INFO(body);
    r = f.Call("PATCH", "/v1/clones/own", "tok-alice", body);
    CHECK(r.status == 400);
    CHECK(ErrorCode(r) == "invalid_argument");
  }
  std::string huge = R"({"ttl":")" + std::string(2000, '9') + R"(h"})";
  CHECK(f.Call("PATCH", "/v1/clones/own", "tok-alice", huge).status == 400);
  // Another user's clone is not found, for every verb; so is an unknown one.
  CHECK(f.Call("PATCH", "/v1/clones/own", "tok-bob", R"({"protected":true})").status == 404);
  CHECK(f.Call("POST", "/v1/clones/own/reset", "tok-bob").status == 404);
  CHECK(f.Call("POST", "/v1/clones/own/snapshot", "tok-bob").status == 404);
  CHECK(f.Call("PATCH", "/v1/clones/nope", "tok-alice", R"({"protected":true})").status == 404);
  CHECK(f.Call("POST", "/v1/clones/nope/reset", "tok-alice").status == 404);
  CHECK(f.Call("POST", "/v1/clones/nope/snapshot", "tok-alice").status == 404);

  // Extend within max_ttl (none set here: any ttl), protect, unprotect.
  r = f.Call("PATCH", "/v1/clones/own", "tok-alice", R"({"ttl":"30m","protected":true})");
  REQUIRE(r.status == 200);
  auto patched = api::ParseClone(r.body);
  REQUIRE(patched.ok());
  CHECK(patched->is_protected);
  auto expires = ParseRfc3339(patched->expires_at);
  REQUIRE(expires.ok());
  auto left =
      std::chrono::duration_cast<std::chrono::seconds>(*expires - std::chrono::system_clock::now());
  CHECK(left.count() > 29 * 60);
  CHECK(left.count() <= 30 * 60);
  r = f.Call("GET", "/v1/clones/own", "tok-alice");
  CHECK(api::ParseClone(r.body)->is_protected);
  r = f.Call("PATCH", "/v1/clones/own", "tok-root", R"({"protected":false,"ttl":"0"})");
  REQUIRE(r.status == 200);
  CHECK_FALSE(api::ParseClone(r.body)->is_protected);
  CHECK(api::ParseClone(r.body)->expires_at.empty());

  // Reset: same id, port, password; unknown snapshots and fields refused.
  r = f.Call("POST", "/v1/clones/own/reset", "tok-alice", R"({"snapshot":"chinook@x"})");
  CHECK(r.status == 400);
  r = f.Call("POST", "/v1/clones/own/reset", "tok-alice",
             R"({"snapshot":"chinook@20000101T000000Z"})");
  CHECK(r.status == 404);
  CHECK(f.Call("POST", "/v1/clones/own/reset", "tok-alice", R"({"ttl":"1h"})").status == 400);
  r = f.Call("POST", "/v1/clones/own/reset", "tok-alice");
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto reset = api::ParseClone(r.body);
  REQUIRE(reset.ok());
  CHECK(reset->id == "own");
  CHECK(reset->port == before->port);
  CHECK(reset->password == before->password);
  CHECK(reset->snapshot == *snap);
  CHECK(reset->state == "ready");

  // Snapshot (a branch): 201 with the new snapshot, listed newest; no fields accepted.
  CHECK(f.Call("POST", "/v1/clones/own/snapshot", "tok-alice", R"({"x":1})").status == 400);
  r = f.Call("POST", "/v1/clones/own/snapshot", "tok-alice");
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto branch = api::ParseSnapshot(r.body);
  REQUIRE(branch.ok());
  CHECK(branch->resource == "chinook");
  CHECK(branch->id != *snap);
  auto snaps = f.origin().snapshots().List("chinook");
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 2);
  CHECK(snaps->front().id == branch->id);
  // The clone still answers after it.
  CHECK(f.Call("GET", "/v1/clones/own", "tok-alice").status == 200);
  CHECK(f.Call("DELETE", "/v1/clones/own", "tok-alice").status == 204);
}

TEST_CASE("routes: PATCH protect is held to the protected-clones quota; admins are exempt") {
  ApiFixture f("quota: {clones_per_user: 2, protected_per_user: 1}\n");
  auto snap = f.origin().refresher().Refresh("chinook");
  if (!snap.ok()) FAIL(snap.status().message());
  for (const char* name : {"qa", "qb"}) {
    std::string body = std::string(R"({"name":")") + name + "\"}";
    REQUIRE(f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", body).status == 201);
  }
  // alice holds 2 clones (her clones_per_user): protecting one she holds is not a new clone.
  ApiResponse r = f.Call("PATCH", "/v1/clones/qa", "tok-alice", R"({"protected":true})");
  REQUIRE(r.status == 200);
  CHECK(api::ParseClone(r.body)->is_protected);
  // Again: already protected, nothing more is held.
  CHECK(f.Call("PATCH", "/v1/clones/qa", "tok-alice", R"({"protected":true})").status == 200);
  // A second protected clone is past protected_per_user: 403 naming the limit; nothing changes,
  // not even the ttl sent with it.
  std::string expires_before =
      api::ParseClone(f.Call("GET", "/v1/clones/qb", "tok-alice").body)->expires_at;
  r = f.Call("PATCH", "/v1/clones/qb", "tok-alice", R"({"protected":true,"ttl":"5m"})");
  INFO(r.body);
  CHECK(r.status == 403);
  CHECK(ErrorCode(r) == "forbidden");
  CHECK(r.body.find("protected_per_user is 1") != std::string::npos);
  CHECK(r.body.find("already has 1 protected clones of resource 'chinook'") != std::string::npos);
  auto qb = api::ParseClone(f.Call("GET", "/v1/clones/qb", "tok-alice").body);
  REQUIRE(qb.ok());
  CHECK_FALSE(qb->is_protected);
  CHECK(qb->expires_at == expires_before);
  // Extending needs no quota; unprotecting frees the slot for the other clone.
  CHECK(f.Call("PATCH", "/v1/clones/qb", "tok-alice", R"({"ttl":"20m"})").status == 200);
  CHECK(f.Call("PATCH", "/v1/clones/qa", "tok-alice", R"({"protected":false})").status == 200);
  r = f.Call("PATCH", "/v1/clones/qb", "tok-alice", R"({"protected":true})");
  CHECK(r.status == 200);
  CHECK(api::ParseClone(r.body)->is_protected);
  // An admin is exempt: alice's second protected clone, by root.
  r = f.Call("PATCH", "/v1/clones/qa", "tok-root", R"({"protected":true})");
  CHECK(r.status == 200);
  CHECK(api::ParseClone(r.body)->is_protected);
}

TEST_CASE("routes: a reset whose clone starts on neither volume leaves it failed, with why") {
  ApiFixture f;
  auto snap = f.origin().refresher().Refresh("chinook");
  if (!snap.ok()) FAIL(snap.status().message());
  ApiResponse r = f.Call("POST", "/v1/resources/chinook/clones", "tok-alice", R"({"name":"rf"})");
  REQUIRE(r.status == 201);
  CHECK(api::ParseClone(r.body)->error.empty());
  // Without its password file the server starts on no volume: neither the new data nor,
  // after the undo, the old.
  REQUIRE(::unlink((f.dir() + "/data/secrets/rf").c_str()) == 0);
  r = f.Call("POST", "/v1/clones/rf/reset", "tok-alice");
  INFO(r.body);
  CHECK(r.status >= 500);
  CHECK(r.body.find("clone failed") != std::string::npos);
  r = f.Call("GET", "/v1/clones/rf", "tok-alice");
  REQUIRE(r.status == 200);
  auto failed = api::ParseClone(r.body);
  REQUIRE(failed.ok());
  CHECK(failed->state == "failed");
  CHECK(failed->error.find("reset to " + *snap + " failed") != std::string::npos);
  CHECK(failed->error.find("the old data does not start") != std::string::npos);
  CHECK(failed->error.find("secrets/rf") != std::string::npos);
  // No volume of the reset is left beside the old one, and the failed clone can be destroyed.
  std::string volumes;
  test::Shell("ls " + f.dir() + "/data/store/clones", &volumes);
  CHECK(volumes == "rf\n");
  CHECK(f.Call("DELETE", "/v1/clones/rf", "tok-alice").status == 204);
}

TEST_CASE("routes: a claim on a resource without a ready pool clone makes one, and says so") {
  ApiFixture f;
  auto snap = f.origin().refresher().Refresh("chinook");
  if (!snap.ok()) FAIL(snap.status().message());
  ApiResponse r = f.Call("POST", "/v1/resources/chinook/claim", "tok-alice", R"({"ttl":"20m"})");
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto claimed = api::ParseClone(r.body);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->from_pool.has_value());
  CHECK_FALSE(*claimed->from_pool);
  CHECK(json::parse(r.body).at("from_pool") == false);
  CHECK(claimed->owner == "alice");
  CHECK_FALSE(claimed->pooled);
  CHECK(claimed->state == "ready");
  CHECK_FALSE(claimed->password.empty());
  // Only a claim's answer carries the field: the clone object elsewhere does not.
  r = f.Call("GET", "/v1/clones/" + claimed->id, "tok-alice");
  REQUIRE(r.status == 200);
  CHECK_FALSE(json::parse(r.body).as_object().contains("from_pool"));
  CHECK_FALSE(api::ParseClone(r.body)->from_pool.has_value());
  CHECK(f.Call("GET", "/v1/clones", "tok-alice").body.find("from_pool") == std::string::npos);
}

TEST_CASE("routes: a replicator token reads resource lists and snapshot streams, nothing else") {
  ApiFixture f;
  // Allowed: the lists (its own clones: none) and a stream's route (no snapshot yet: 404).
  CHECK(f.Call("GET", "/v1/resources", "tok-db2").status == 200);
  CHECK(f.Call("GET", "/v1/resources/chinook", "tok-db2").status == 200);
  CHECK(f.Call("GET", "/v1/resources/chinook/snapshots", "tok-db2").status == 200);
  ApiResponse r = f.Call(
      "GET", "/v1/resources/chinook/snapshots/chinook@20261130T101010Z/stream?formats=tar.zst",
      "tok-db2");
  CHECK(r.status == 404);
  // Everything else is 403, saying what the role may do; reads and writes alike.
  for (auto [method, target] : std::vector<std::pair<const char*, const char*>>{
           {"GET", "/v1/clones"},
           {"GET", "/v1/status"},
           {"GET", "/metrics"},
           {"PATCH", "/v1/clones/x"},
           {"POST", "/v1/resources/chinook/clones"},
           {"POST", "/v1/resources/chinook/snapshots"},
           {"DELETE", "/v1/resources/chinook/snapshots/chinook@20261130T101010Z"},
           {"GET", "/v1/jobs/job-1"}}) {
    INFO(method << " " << target);
    r = f.Call(method, target, "tok-db2", "{}");
    CHECK(r.status == 403);
    CHECK(r.body.find("replicator token") != std::string::npos);
  }
  // A plain user may not read a stream; an admin may (404: no such snapshot here).
  const std::string stream =
      "/v1/resources/chinook/snapshots/chinook@20261130T101010Z/stream?formats=btrfs,tar.zst";
  r = f.Call("GET", stream, "tok-alice");
  CHECK(r.status == 403);
  CHECK(r.body.find("admin or replicator role") != std::string::npos);
  CHECK(f.Call("GET", stream, "tok-root").status == 404);
  // Hostile query values: 400 with what is wrong, before any work.
  for (const char* query :
       {"", "?formats=", "?formats=tar.zst,,btrfs", "?formats=../x", "?formats=a%2Fb",
        "?formats=tar.zst&base=x;y", "?formats=1,2,3,4,5,6,7,8,9"}) {
    INFO(query);
    r = f.Call(
        "GET",
        std::string("/v1/resources/chinook/snapshots/chinook@20261130T101010Z/stream") + query,
        "tok-root");
    CHECK(r.status == 400);
  }
  CHECK(f.Call("GET", "/v1/resources/nope/snapshots/nope@20261130T101010Z/stream?formats=btrfs",
               "tok-root")
            .status == 404);
}

}  // namespace zdap
