// GET /v1/status through the real zdapd and curl (SPEC "HTTP API v1": version, storage and
// runtime drivers, disk/memory/load, counts, per-resource pool availability).
#include <array>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>

#include "core/file_util.h"

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
namespace json = boost::json;

namespace {

json::object Status(ZdapdFixture& d) {
  std::string body;
  int code = d.Call("GET", "/v1/status", "", &body);
  INFO(body << d.LogText());
  REQUIRE(code == 200);
  return json::parse(body).as_object();
}

// GET /v1/status as the host admin (the token `zdapd serve` writes to admin.token), through
// a curl header file so that the token is not in curl's argv.
json::object AdminStatus(ZdapdFixture& d) {
  auto token = zdap::ReadFile(d.data_dir() + "/admin.token");
  REQUIRE(token.ok());
  std::string header_file = d.data_dir() + "/../admin-header";
  std::ofstream(header_file) << "Authorization: Bearer " << token->substr(0, 64) << "\n";
  std::string body;
  REQUIRE(Shell("curl -s -f -m 30 -H @" + header_file + " " + d.Url() + "/v1/status", &body) == 0);
  return json::parse(body).as_object();
}

}  // namespace

TEST_CASE("status reports drivers, disk, memory, load and per-resource counts") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();

  json::object s = Status(d);
  INFO(json::serialize(s));
  CHECK(s.at("version").as_string() != "");
  const json::object& storage = s.at("storage").as_object();
  CHECK(storage.at("driver").as_string() != "");
  CHECK(storage.at("path").as_string() == d.data_dir() + "/store");
  uint64_t total = storage.at("total_bytes").to_number<uint64_t>();
  uint64_t free = storage.at("free_bytes").to_number<uint64_t>();
  uint64_t used = storage.at("used_bytes").to_number<uint64_t>();
  CHECK(total > 0);
  CHECK(free <= total);
  CHECK(used > 0);
  CHECK(used <= total);
  CHECK(s.at("runtime").as_object().at("driver").as_string() == "process");
  const json::object& memory = s.at("memory").as_object();
  CHECK(memory.at("total_bytes").to_number<uint64_t>() > (uint64_t{64} << 20));
  CHECK(memory.at("available_bytes").to_number<uint64_t>() <=
        memory.at("total_bytes").to_number<uint64_t>());
  const json::array& load = s.at("load").as_array();
  REQUIRE(load.size() == 3);
  CHECK(load[0].to_number<double>() >= 0);

  auto counts = [&](const json::object& status) {
    const json::object& c = status.at("counts").as_object();
    return std::array<int64_t, 3>{c.at("resources").to_number<int64_t>(),
                                  c.at("snapshots").to_number<int64_t>(),
                                  c.at("clones").to_number<int64_t>()};
  };
  CHECK(counts(s) == std::array<int64_t, 3>{1, 1, 0});

  std::string body;
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"st-a\"}", &body) == 201);
  REQUIRE(d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"st-b\"}", &body, "bob") ==
          201);
  s = Status(d);
  INFO(json::serialize(s));
  // A plain user counts only their own clones (no existence leaks); the admin counts all.
  CHECK(counts(s) == std::array<int64_t, 3>{1, 1, 1});
  CHECK(s.at("resources").as_array().at(0).at("clones").to_number<int64_t>() == 1);
  s = AdminStatus(d);
  INFO(json::serialize(s));
  CHECK(counts(s) == std::array<int64_t, 3>{1, 1, 2});
  const json::array& resources = s.at("resources").as_array();
  REQUIRE(resources.size() == 1);
  const json::object& chinook = resources[0].as_object();
  CHECK(chinook.at("name").as_string() == "chinook");
  CHECK(chinook.at("snapshots").to_number<int64_t>() == 1);
  CHECK(chinook.at("clones").to_number<int64_t>() == 2);
  CHECK(chinook.at("pool").as_object().at("ready").to_number<int64_t>() == 0);

  CHECK(d.Call("POST", "/v1/status", "{}", &body) == 405);
  CHECK(d.Call("DELETE", "/v1/clones/st-a", "", &body) == 204);
  CHECK(d.Call("DELETE", "/v1/clones/st-b", "", &body, "bob") == 204);
  CHECK(counts(Status(d)) == std::array<int64_t, 3>{1, 1, 0});
}
