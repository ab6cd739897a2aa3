// The daemon's API and host commands against a real zdapd: resources and snapshots as the API
// shows them, `zdapd list`, the data-dir lock, cloning before any refresh, duplicate clone
// names and running out of clone ports (a clear error and nothing leaked).
#include <signal.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

std::string CloneDirs(const ZdapdFixture& d) {
  std::string out;
  Shell("ls -A " + d.data_dir() + "/store/clones " + d.data_dir() + "/catalog 2>&1", &out);
  return out;
}

// `out` without zdapd's log lines ("2026-11-30T19:43:33.529Z INFO ..."), which Shell mixes in.
std::string WithoutLog(const std::string& out) {
  std::string kept;
  size_t at = 0;
  while (at < out.size()) {
    size_t end = out.find('\n', at);
    end = end == std::string::npos ? out.size() : end + 1;
    std::string line = out.substr(at, end - at);
    bool log = line.size() > 24 && line[4] == '-' && line[10] == 'T' && line[23] == 'Z';
    if (!log) kept += line;
    at = end;
  }
  return kept;
}

std::string ErrorCode(const std::string& body) {
  return JsonField(JsonField(body, "error"), "code");
}

}  // namespace

TEST_CASE("zdapd: cloning before any refresh is refused and leaves nothing", "[e2e]") {
  ZdapdFixture d;
  d.Start();
  std::string body;
  int code = d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"early\"}", &body);
  INFO(body << d.LogText());
  CHECK((code == 409 || code == 404));
  CHECK(body.find("refresh") != std::string::npos);
  CHECK(d.Call("GET", "/v1/clones", "", &body) == 200);
  CHECK(body == "{\"clones\":[]}\n");
  CHECK(CloneDirs(d).find("early") == std::string::npos);
  CHECK(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body) == 200);
  CHECK(body == "{\"snapshots\":[]}\n");
}

TEST_CASE("zdapd: resources, snapshots, list, duplicate names, the lock and running out of ports",
          "[e2e]") {
  ZdapdFixture d;
  d.LimitClonePorts(2);
  std::string out;
  int refresh_rc = d.Host("refresh chinook", &out);
  INFO(out);
  REQUIRE(refresh_rc == 0);
  d.Start();

  // The data dir is locked while one daemon serves it.
  std::string second;
  int second_rc = Shell("timeout 20 " + ProgramPath("apps/zdapd/zdapd") + " serve --config-dir " +
                            d.config_dir() + " --data-dir " + d.data_dir() +
                            " --listen 127.0.0.1:" + std::to_string(ReservePort()),
                        &second);
  INFO("second zdapd: " << second);
  CHECK(second_rc == 1);
  CHECK(second.find("another zdapd serves " + d.data_dir()) != std::string::npos);

  // GET /v1/resources[/{r}[/snapshots]].
  std::string body;
  REQUIRE(d.Call("GET", "/v1/resources/chinook/snapshots", "", &body) == 200);
  boost::json::array snaps = boost::json::parse(body).at("snapshots").as_array();
  REQUIRE(snaps.size() == 1);
  std::string snap(snaps[0].at("id").as_string());
  CHECK(snap.rfind("chinook@", 0) == 0);
  CHECK(snaps[0].at("clones").as_int64() == 0);
  REQUIRE(d.Call("GET", "/v1/resources/chinook", "", &body) == 200);
  CHECK(JsonField(body, "name") == "chinook");
  CHECK(JsonField(body, "engine") == "postgres");
  CHECK(JsonField(body, "database") == "chinook");
  CHECK(JsonField(body, "ttl") == "1h");
  CHECK(body.find(snap) != std::string::npos);
  REQUIRE(d.Call("GET", "/v1/resources", "", &body) == 200);
  boost::json::array resources = boost::json::parse(body).at("resources").as_array();
  REQUIRE(resources.size() == 1);
  CHECK(resources[0].at("name").as_string() == "chinook");
  CHECK(d.Call("GET", "/v1/resources/nope", "", &body) == 404);
  CHECK(ErrorCode(body) == "not_found");
  CHECK(d.Call("GET", "/v1/resources/nope/snapshots", "", &body) == 404);

  // Duplicate names: refused for the same and for another user; the first clone is untouched.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"dup\"}", &body) == 201);
  int dup_port = std::stoi(JsonField(body, "port"));
  CHECK(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"dup\"}", &body) == 409);
  CHECK(ErrorCode(body) == "conflict");
  CHECK(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"dup\"}", &body, "bob") == 409);
  REQUIRE(d.Call("GET", "/v1/clones/dup", "", &body) == 200);
  CHECK(JsonField(body, "state") == "ready");
  CHECK(std::stoi(JsonField(body, "port")) == dup_port);
  std::string rows;
  CHECK(Psql(dup_port, JsonField(body, "password"), "select count(*) from invoice_line", &rows) ==
        0);
  CHECK(rows == "2240\n");

  // zdapd list: refused while the daemon serves (it would race its recovery), then run with
  // the daemon stopped; the clone keeps running and is adopted again on the next start.
  CHECK(d.Host("list clones", &(out = "")) == 1);
  CHECK(out.find("zdapd is serving " + d.data_dir()) != std::string::npos);
  d.Kill(SIGTERM);
  REQUIRE(d.Host("list resources", &(out = "")) == 0);
  CHECK(WithoutLog(out) == "chinook\tpostgres\tchinook\n");
  REQUIRE(d.Host("list snapshots", &(out = "")) == 0);
  CHECK(WithoutLog(out).find(snap + "\t") == 0);
  CHECK(out.find("\t1 clone(s)\n") != std::string::npos);
  REQUIRE(d.Host("list clones", &(out = "")) == 0);
  CHECK(WithoutLog(out) == "dup\t" + snap + "\tready\t" + std::to_string(dup_port) + "\talice\n");
  CHECK(d.Host("list things", &(out = "")) == 2);
  d.Start();

  // Two clone ports: the second clone takes the last one, the third finds none.
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"last\"}", &body) == 201);
  int code = d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"one-too-many\"}", &body);
  INFO(body);
  CHECK((code == 503 || code == 409));
  CHECK(body.find("no free clone port") != std::string::npos);
  CHECK(d.Call("GET", "/v1/clones/one-too-many", "", &body) == 404);
  CHECK(CloneDirs(d).find("one-too-many") == std::string::npos);
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/one-too-many"));
  // A port freed by a destroy is there for the next clone.
  REQUIRE(d.Call("DELETE", "/v1/clones/dup", "", &body) == 204);
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"after\"}", &body) == 201);
  for (const char* name : {"last", "after"}) {
    CHECK(d.Call("DELETE", std::string("/v1/clones/") + name, "", &body) == 204);
  }
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/"));
}
