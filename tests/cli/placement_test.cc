// Placement (apps/zdap/placement.h): the ranking rule as a pure function, the parallel status
// probe against fake origins (one silent), and the client's status and claim calls.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>

#include "api/origin_status.h"
#include "client/origin_api.h"
#include "fake_origin.h"
#include "zdap/placement.h"

namespace zdap::cli {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

OriginProbe Up(const std::string& url, uint64_t free_disk, std::optional<uint64_t> free_mem,
               std::vector<double> load, int64_t clones, int64_t pool_ready = 0) {
  OriginStatus s;
  s.version = "0.1.0";
  s.storage_free_bytes = free_disk;
  s.memory_available_bytes = free_mem;
  s.load = std::move(load);
  s.clone_count = clones;
  api::ResourceCounts r;
  r.name = "chinook";
  r.pool_ready = pool_ready;
  s.resources.push_back(r);
  return OriginProbe{url, s};
}

OriginProbe Down(const std::string& url) {
  return OriginProbe{url, Unavailable("connect to " + url + " failed: Connection refused")};
}

std::vector<size_t> Order(const std::vector<OriginProbe>& probes, bool claim = false) {
  return RankOrigins(probes, "chinook", claim).order;
}

}  // namespace

TEST_CASE("placement: free disk decides first, beyond noise", "[placement]") {
  // 100 vs 50 GiB: the larger wins although it holds more clones and has less memory free.
  REQUIRE(Order({Up("a", 50 * kGiB, 8 * kGiB, {0.1}, 0),
                 Up("b", 100 * kGiB, 7 * kGiB, {0.1}, 9)}) == std::vector<size_t>{1, 0});
  // 100 vs 95 GiB is noise: the tiers below decide (here: clone count).
  REQUIRE(Order({Up("a", 95 * kGiB, 8 * kGiB, {0.1}, 0),
                 Up("b", 100 * kGiB, 8 * kGiB, {0.1}, 3)}) == std::vector<size_t>{0, 1});
}

TEST_CASE("placement: memory, then load, then clone count, then configuration order",
          "[placement]") {
  // Same disk; b has twice the memory.
  REQUIRE(Order({Up("a", 10 * kGiB, 4 * kGiB, {0.0}, 0), Up("b", 10 * kGiB, 8 * kGiB, {3.0}, 5)}) ==
          std::vector<size_t>{1, 0});
  // Same disk and memory; a is loaded (4.0 vs 1.0).
  REQUIRE(Order({Up("a", 10 * kGiB, 8 * kGiB, {4.0}, 0), Up("b", 10 * kGiB, 8 * kGiB, {1.0}, 5)}) ==
          std::vector<size_t>{1, 0});
  // Load within 1.0 is noise: fewer clones wins.
  REQUIRE(Order({Up("a", 10 * kGiB, 8 * kGiB, {1.5}, 2), Up("b", 10 * kGiB, 8 * kGiB, {0.9}, 3),
                 Up("c", 10 * kGiB, 8 * kGiB, {1.2}, 1)}) == std::vector<size_t>{2, 0, 1});
  // All equal: configuration order.
  REQUIRE(Order({Up("a", kGiB, kGiB, {0.5}, 1), Up("b", kGiB, kGiB, {0.5}, 1),
                 Up("c", kGiB, kGiB, {0.5}, 1)}) == std::vector<size_t>{0, 1, 2});
  // Unknown memory and load do not disqualify.
  REQUIRE(Order({Up("a", kGiB, std::nullopt, {}, 4), Up("b", kGiB, 2 * kGiB, {0.2}, 1)}) ==
          std::vector<size_t>{1, 0});
}

TEST_CASE("placement: unreachable origins and origins without the resource are skipped",
          "[placement]") {
  OriginProbe other = Up("c", 1000 * kGiB, 64 * kGiB, {0.0}, 0);
  other.status->resources[0].name = "sakila";
  Ranking r = RankOrigins({Down("a"), Up("b", kGiB, kGiB, {0.5}, 3), other}, "chinook", false);
  REQUIRE(r.order == std::vector<size_t>{1});
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].first == 0);
  CHECK(r.skipped[0].second.find("not reachable: connect to a failed") == 0);
  CHECK(r.skipped[1].first == 2);
  CHECK(r.skipped[1].second == "has no resource 'chinook'");
  REQUIRE(RankOrigins({Down("a"), Down("b")}, "chinook", false).order.empty());
  REQUIRE(RankOrigins({}, "chinook", false).order.empty());
}

TEST_CASE("placement: --claim puts origins with a ready pool clone first", "[placement]") {
  std::vector<OriginProbe> probes = {Up("a", 100 * kGiB, 8 * kGiB, {0.1}, 0, 0),
                                     Up("b", 10 * kGiB, 1 * kGiB, {5.0}, 9, 2)};
  REQUIRE(Order(probes, /*claim=*/true) == std::vector<size_t>{1, 0});
  REQUIRE(Order(probes, /*claim=*/false) == std::vector<size_t>{0, 1});
  // No pool anywhere: the capacity rule as without --claim.
  probes[1].status->resources[0].pool_ready = 0;
  REQUIRE(Order(probes, /*claim=*/true) == std::vector<size_t>{0, 1});
}

TEST_CASE("placement: origins are asked in parallel; a silent one costs one deadline",
          "[placement]") {
  api::OriginStatus st;
  st.version = "0.1.0";
  st.storage_free_bytes = 5 * kGiB;
  st.resources.emplace_back();
  st.resources.back().name = "chinook";
  const std::string body = boost::json::serialize(api::ToJson(st));
  test::FakeOrigin good([&](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/status") return {200, body};
    return {404, R"({"error":{"code":"not_found","message":"no route"}})"};
  });
  auto hang = [](const test::FakeRequest&) {
    test::FakeReply reply;
    reply.hang = true;
    return reply;
  };
  test::FakeOrigin silent1(hang);
  test::FakeOrigin silent2(hang);
  UserConfig config;
  config.user = "alice";
  config.origins = {{silent1.url(), "", ""}, {good.url(), "tok", ""}, {silent2.url(), "", ""}};
  auto start = std::chrono::steady_clock::now();
  auto probes = ProbeOrigins(config, std::chrono::milliseconds(500));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < std::chrono::milliseconds(1400));  // two silent origins, not one after another
  REQUIRE(probes.size() == 3);
  REQUIRE_FALSE(probes[0].status.ok());
  REQUIRE(probes[1].status.ok());
  REQUIRE(probes[1].status->storage_free_bytes == 5 * kGiB);
  REQUIRE_FALSE(probes[2].status.ok());
  REQUIRE(good.requests().at(0).HasHeader("Authorization: Bearer tok"));
  REQUIRE(RankOrigins(probes, "chinook", false).order == std::vector<size_t>{1});
}

TEST_CASE("origin client: status reply checked, claim falls back when unavailable", "[placement]") {
  const std::string clone =
      R"({"id":"chinook-p1","resource":"chinook","snapshot":"chinook@20261122T030405Z",)"
      R"("owner":"alice","state":"ready","host":"127.0.0.1","port":6001,"pooled":false})";
  int claims = 0;
  test::FakeOrigin origin([&](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/status") return {200, R"({"version":"0.1.0","load":[1,2,3,4]})"};
    if (r.target == "/v1/resources/chinook/claim") {
      ++claims;
      if (claims == 1) return {404, R"({"error":{"code":"not_found","message":"no route"}})"};
      if (claims == 2) {
        return {409, R"({"error":{"code":"conflict","message":"no ready pool clone"}})"};
      }
      if (claims == 3) return {200, clone};
      return {403, R"({"error":{"code":"forbidden","message":"quota reached"}})"};
    }
    return {404, R"({"error":{"code":"not_found","message":"no route"}})"};
  });
  client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
  auto st = api.GetStatus(std::chrono::seconds(2));
  REQUIRE_FALSE(st.ok());  // four load numbers
  CHECK(st.status().message().find("load") != std::string::npos);

  auto c1 = api.Claim("chinook", {std::chrono::hours(2), ""});
  REQUIRE(c1.status().code() == Code::kNotFound);
  auto c2 = api.Claim("chinook");
  REQUIRE(c2.status().code() == Code::kNotFound);
  CHECK(c2.status().message().find("no ready pool clone") != std::string::npos);
  auto c3 = api.Claim("chinook");
  REQUIRE(c3.ok());
  REQUIRE(c3->id == "chinook-p1");
  auto c4 = api.Claim("chinook");
  REQUIRE(c4.status().code() == Code::kPermissionDenied);  // not a reason to create instead
  REQUIRE(origin.requests().at(1).body == R"({"ttl":"2h"})");
  REQUIRE_FALSE(api.Claim("../x").ok());
}

}  // namespace zdap::cli
