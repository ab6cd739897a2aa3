#include "net/http_client.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "client/follow_job.h"
#include "client/origin_api.h"
#include "fake_origin.h"
#include "net/http_url.h"

namespace zdap {

TEST_CASE("origin URLs are validated and normalised", "[net]") {
  auto u = net::ParseHttpUrl("HTTP://DB1.Example.com:43210/");
  REQUIRE(u.ok());
  REQUIRE(u->ToString() == "http://db1.example.com:43210");
  REQUIRE(net::ParseHttpUrl("https://db1")->ToString() == "https://db1:443");
  REQUIRE(net::ParseHttpUrl("http://[::1]:80")->ToString() == "http://[::1]:80");
  REQUIRE(net::ParseHttpUrl("http://h:1/api/")->path == "/api");
  for (const char* bad :
       {"", "db1:43210", "ftp://h:1", "http://", "http://h:0", "http://h:70000", "http://h:x",
        "http://u:p@h:1", "http://h:1/?q=1", "http://h:1/#f", "http:///x"}) {
    INFO(bad);
    auto r = net::ParseHttpUrl(bad);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().message().find("origin URL") != std::string::npos);
  }
}

TEST_CASE("origin URLs with no single meaning are refused with what is wrong", "[net]") {
  const std::pair<const char*, const char*> cases[] = {
      // fuzz/corpus/http_url/regression-percent-host: %32 decoded to "127.0.0.243t10o", which
      // parsed back as the address 127.0.0.243 and the path "t10o:80".
      {"http://127.0.0.%3243t10o", "percent-encoding (%xx) in the host"},
      {"http://%41b:80", "percent-encoding (%xx) in the host"},
      {"http://[fe80::1%25eth0]:80", "IPv6 zone"},
      {"http://[v1.x]:80", "IPvFuture"},
      {"http://db1.:80", "empty label"},
      {"http://.db1:80", "empty label"},
      {"http://db1..example:80", "empty label"},
      {"http://127.1:80", "neither a name nor an IPv4 address"},
      {"http://127.000.0.1:80", "neither a name nor an IPv4 address"},
      {"http://2130706433", "neither a name nor an IPv4 address"},
      {"http://h:1/a/../b", "'..' path segments"},
      {"http://h:1/%2e/b", "'..' path segments"},
      // fuzz/corpus/http_url/regression-dot-slash: Boost reads "/./" as the escape of a path
      // that starts "//", and its segments() skip the ".".
      {"Http://1t/.///", "'..' path segments"},
      {"http://h:1/a/%2E%2e", "'..' path segments"},
      {"http://db\xc3\xa9:80", "expected http://HOST:PORT"},
      {"http://:80", "it has no host"},
  };
  for (const auto& [url, why] : cases) {
    INFO(url);
    auto r = net::ParseHttpUrl(url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("is not a usable origin URL") != std::string::npos);
    CHECK(r.status().message().find(why) != std::string::npos);
  }
  std::string long_label = "http://" + std::string(64, 'a') + ":80";
  CHECK(net::ParseHttpUrl(long_label).status().message().find("over 63") != std::string::npos);
}

TEST_CASE("an origin URL's canonical form parses back to itself", "[net]") {
  // One spelling per class the parser normalises: case, default and zero-padded ports, IPv6
  // case and mapped IPv4, trailing and doubled slashes, percent-encoding in the path, punycode.
  const std::pair<const char*, const char*> cases[] = {
      {"HTTP://DB1.Example.COM", "http://db1.example.com:80"},
      {"https://db1:0443/", "https://db1:443"},
      {"http://[FE80::1]:8080", "http://[fe80::1]:8080"},
      {"http://[::FFFF:127.0.0.1]:1", "http://[::ffff:127.0.0.1]:1"},
      {"http://h:1/api//", "http://h:1/api"},
      {"http://h:1//api", "http://h:1//api"},
      {"http://h:1/a%7Eb/", "http://h:1/a%7Eb"},
      {"http://xn--bcher-kva.example:1", "http://xn--bcher-kva.example:1"},
      {"http://my_host-1:1", "http://my_host-1:1"},
      {"http://127.0.0.255:1", "http://127.0.0.255:1"},
  };
  for (const auto& [url, canonical] : cases) {
    INFO(url);
    auto u = net::ParseHttpUrl(url);
    REQUIRE(u.ok());
    CHECK(u->ToString() == canonical);
    auto again = net::ParseHttpUrl(u->ToString());
    REQUIRE(again.ok());
    CHECK(again->ToString() == canonical);
  }
}

TEST_CASE("HTTP client talks to a server", "[net]") {
  test::FakeOrigin origin([](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.target == "/hang") return {0, "", true};
    return {404, R"({"error":{"code":"not_found","message":"nothing at )" + r.target + "\"}}"};
  });
  auto url = net::ParseHttpUrl(origin.url());
  REQUIRE(url.ok());
  net::HttpClient client(*url);
  net::HttpRequest req;
  req.target = "/v1/health";
  req.headers = {{"X-Zdap-User", "alice"}};
  auto res = client.Send(req);
  REQUIRE(res.ok());
  REQUIRE(res->status == 200);
  REQUIRE(res->body.find("\"ok\"") != std::string::npos);
  REQUIRE(origin.requests().back().HasHeader("X-Zdap-User: alice"));

  req.method = "POST";
  req.target = "/other";
  req.body = R"({"a":1})";
  res = client.Send(req);
  REQUIRE(res.ok());
  REQUIRE(res->status == 404);
  REQUIRE(origin.requests().back().body == R"({"a":1})");
  REQUIRE(origin.requests().back().method == "POST");

  net::HttpClientOptions quick;
  quick.io_timeout = std::chrono::milliseconds(300);
  net::HttpClient impatient(*url, quick);
  req.method = "GET";
  req.target = "/hang";
  res = impatient.Send(req);
  REQUIRE_FALSE(res.ok());
  REQUIRE(res.status().code() == Code::kUnavailable);
  REQUIRE(res.status().message().find("timed out") != std::string::npos);
}

TEST_CASE("HTTP client reports a refused connection", "[net]") {
  int port;
  {
    test::FakeOrigin gone([](const test::FakeRequest&) { return test::FakeReply{}; });
    port = gone.port();
  }
  net::HttpClient client(*net::ParseHttpUrl("http://127.0.0.1:" + std::to_string(port)));
  net::HttpRequest req;
  req.target = "/v1/health";
  auto res = client.Send(req);
  REQUIRE_FALSE(res.ok());
  REQUIRE(res.status().code() == Code::kUnavailable);
  REQUIRE(res.status().message().find("cannot connect") != std::string::npos);
}

TEST_CASE("origin API: requests, auth headers and errors", "[net]") {
  const std::string clone =
      R"({"id":"chinook-7f3a","resource":"chinook","snapshot":"chinook@20261122T030405Z",)"
      R"("owner":"alice","state":"ready","host":"127.0.0.1","port":6001,"database":"chinook",)"
      R"("user":"postgres","password":"zdap","uri":"postgres://postgres:zdap@127.0.0.1:6001/chinook",)"
      R"("created_at":"2026-11-22T03:04:05Z","expires_at":null,"protected":false,"pooled":false,)"
      R"("origin":"http://127.0.0.1:43210","engine":"postgres"})";
  test::FakeOrigin origin([&](const test::FakeRequest& r) -> test::FakeReply {
    if (r.method == "POST" && r.target == "/v1/resources/chinook/clones") return {201, clone};
    if (r.method == "GET" && r.target == "/v1/resources") {
      return {200, R"({"resources":[{"name":"chinook","engine":"postgres","version":"15",)"
                   R"("database":"chinook","snapshots":[{"id":"chinook@20261122T030405Z",)"
                   R"("created_at":"2026-11-22T03:04:05Z"}],"clones":[)" +
                       clone + "]}]}"};
    }
    if (r.method == "DELETE" && r.target == "/v1/clones/chinook-7f3a") return {204, ""};
    if (r.method == "DELETE")
      return {404, R"({"error":{"code":"not_found","message":"clone 'x' not found"}})"};
    return {401, R"({"error":{"code":"unauthenticated","message":"token required"}})"};
  });
  client::OriginApi api(*net::ParseHttpUrl(origin.url()), "tok", "alice");
  api::CreateCloneRequest req;
  req.ttl = std::chrono::hours(8);
  auto c = api.CreateClone("chinook", req);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  REQUIRE(c->id == "chinook-7f3a");
  REQUIRE(c->port == 6001);
  REQUIRE(c->engine == "postgres");
  REQUIRE(c->expires_at.empty());
  auto sent = origin.requests().back();
  REQUIRE(sent.HasHeader("Authorization: Bearer tok"));
  REQUIRE(sent.HasHeader("X-Zdap-User: alice"));
  REQUIRE(sent.body == R"({"ttl":"8h"})");

  auto rs = api.ListResources();
  REQUIRE(rs.ok());
  REQUIRE(rs->size() == 1);
  REQUIRE((*rs)[0].snapshots.size() == 1);
  REQUIRE((*rs)[0].clones[0].id == "chinook-7f3a");

  REQUIRE(api.DeleteClone("chinook-7f3a").ok());
  Status gone = api.DeleteClone("x");
  REQUIRE(gone.code() == Code::kNotFound);
  REQUIRE(gone.message() == "origin " + origin.url() + ": clone 'x' not found");
  auto h = api.Health();
  REQUIRE(h.status().code() == Code::kUnauthenticated);
  REQUIRE(h.status().message().find("token required") != std::string::npos);
  REQUIRE_FALSE(api.DeleteClone("../etc").ok());  // never reaches the path
  REQUIRE_FALSE(api::ParseClone("{").ok());
  REQUIRE_FALSE(api::ParseResourceList(R"({"resources":3})").ok());
}

TEST_CASE("HTTP client streams a large body to a sink in bounded pieces", "[net]") {
  std::string big(5u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  test::FakeOrigin origin([&](const test::FakeRequest&) { return test::FakeReply{200, big}; });
  net::HttpClientOptions small;
  small.max_body_bytes = 1024;  // a sink is not bound by it: it keeps what it wants
  net::HttpClient client(*net::ParseHttpUrl(origin.url()), small);
  net::HttpRequest req;
  req.target = "/snapshot";
  std::string got;
  size_t pieces = 0, largest = 0;
  req.body_sink = [&](std::string_view piece) {
    ++pieces;
    largest = std::max(largest, piece.size());
    got.append(piece);
    return Status::Ok();
  };
  auto res = client.Send(req);
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  CHECK(got == big);
  CHECK(largest <= 64u * 1024);
  CHECK(pieces >= big.size() / (64u * 1024));

  // A sink's error ends the exchange and comes back as it is.
  size_t seen = 0;
  req.body_sink = [&](std::string_view piece) {
    seen += piece.size();
    return seen > 100000 ? IoError("disk full") : Status::Ok();
  };
  auto stopped = client.Send(req);
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.status().message() == "disk full");
  CHECK(seen < big.size());

  // Without a sink the limit holds.
  req.body_sink = nullptr;
  auto refused = client.Send(req);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kIoError);
  CHECK(refused.status().message().find("larger than 1024 bytes") != std::string::npos);
}

TEST_CASE("HTTP client: a request's timeout bounds the whole exchange", "[net]") {
  test::FakeOrigin origin([](const test::FakeRequest&) { return test::FakeReply{0, "", true}; });
  net::HttpClient client(*net::ParseHttpUrl(origin.url()));  // per-step timeouts: 5 s, 30 s
  net::HttpRequest req;
  req.target = "/hang";
  auto t0 = std::chrono::steady_clock::now();
  req.timeout = std::chrono::milliseconds(250);
  auto res = client.Send(req);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(res.ok());
  CHECK(res.status().code() == Code::kUnavailable);
  CHECK(res.status().message() ==
        "origin " + origin.url() + ": GET /hang: reading the reply: timed out after 250 ms");
  CHECK(took < std::chrono::seconds(3));
}

TEST_CASE("HTTP replies: malformed, truncated, oversized and hostile input", "[net]") {
  auto ok = net::ParseHttpReply(
      "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      100);
  REQUIRE(ok.ok());
  CHECK(ok->status == 201);
  CHECK(ok->content_type == "text/plain");
  CHECK(ok->body == "abc");
  // Read-to-close: the body is whatever came before the end.
  CHECK(net::ParseHttpReply("HTTP/1.0 200 OK\r\n\r\nuntil eof", 100)->body == "until eof");
  const std::string hostile[] = {
      "",
      "SSH-2.0-OpenSSH_9.2\r\n\r\n",
      "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'h') + "\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
      std::string("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 26),
  };
  for (const std::string& raw : hostile) {
    INFO(raw.substr(0, 60));
    auto r = net::ParseHttpReply(raw, 100);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.status().message().empty());
  }
  auto big = net::ParseHttpReply(
      "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n" + std::string(101, 'x'), 100);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == Code::kIoError);
}

}  // namespace zdap

namespace zdap {
namespace {

std::string JobJson(const std::string& state, const std::string& phase, int done,
                    const std::string& snapshot = "") {
  auto str = [](const std::string& s) { return s.empty() ? std::string("null") : "\"" + s + "\""; };
  return R"({"id":"job-1","resource":"chinook","state":")" + state + R"(","phase":)" + str(phase) +
         R"(,"bytes_done":)" + std::to_string(done) + R"(,"bytes_total":100,"snapshot":)" +
         str(snapshot) + "}";
}

api::Job Queued() {
  api::Job job;
  job.id = "job-1";
  job.resource = "chinook";
  return job;
}

client::FollowOptions Fast() {
  client::FollowOptions options;
  options.poll_interval = std::chrono::milliseconds(5);
  options.unreachable_limit = std::chrono::milliseconds(300);
  return options;
}

}  // namespace

// The one job-following loop (zdap refresh --wait, zdapd refresh through its daemon).
TEST_CASE("FollowJob follows a job to its end through what the origin answers", "[net]") {
  int polls = 0;
  test::FakeOrigin origin([&polls](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target != "/v1/jobs/job-1") return {404, R"({"error":{"code":"not_found"}})"};
    switch (++polls) {
      case 1:
        return {200, JobJson("running", "import", 10)};
      case 2:
        return {503, R"({"error":{"code":"unavailable","message":"restarting"}})"};
      case 3:
        return {200, JobJson("running", "import", 60)};
      case 4:
        return {200, JobJson("running", "snapshot", 100)};
      default:
        return {200, JobJson("done", "snapshot", 100, "chinook@20261130T120000Z")};
    }
  });
  client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
  std::vector<std::string> seen, printed;
  client::ProgressLines lines(std::chrono::hours(1));
  auto job = client::FollowJob(
      api, Queued(),
      [&](const api::Job& j) {
        seen.push_back(client::JobProgressText(j));
        if (auto line = lines.Next(j); !line.empty()) printed.push_back(line);
      },
      Fast());
  REQUIRE(job.ok());
  CHECK(job->state == api::JobState::kDone);
  CHECK(job->snapshot == "chinook@20261130T120000Z");
  // Every answer is seen (the 503 is asked again); a line per phase, never the same twice.
  CHECK(seen == std::vector<std::string>{"import 10 B / 100 B", "import 60 B / 100 B",
                                         "snapshot 100 B / 100 B", "snapshot 100 B / 100 B"});
  CHECK(printed == std::vector<std::string>{"import 10 B / 100 B", "snapshot 100 B / 100 B"});
}

TEST_CASE("FollowJob: a failed job is a result; a lost job or a silent origin is an error",
          "[net]") {
  client::FollowOptions options = Fast();
  {
    test::FakeOrigin origin([](const test::FakeRequest&) -> test::FakeReply {
      return {200, R"({"id":"job-1","resource":"chinook","state":"failed","phase":"import",)"
                   R"("error":"pg_restore: error: could not connect"})"};
    });
    client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
    auto job = client::FollowJob(api, Queued(), nullptr, options);
    REQUIRE(job.ok());
    CHECK(job->state == api::JobState::kFailed);
    CHECK(job->error == "pg_restore: error: could not connect");
  }
  {
    // Not known any more (the origin restarted): no point asking again.
    test::FakeOrigin origin([](const test::FakeRequest&) -> test::FakeReply {
      return {404, R"({"error":{"code":"not_found","message":"job 'job-1' not found"}})"};
    });
    client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
    auto job = client::FollowJob(api, Queued(), nullptr, options);
    REQUIRE_FALSE(job.ok());
    CHECK(job.status().code() == Code::kNotFound);
    CHECK(job.status().message().starts_with("following refresh job job-1: origin "));
    CHECK(origin.requests().size() == 1);
  }
  {
    // 503 after 503: asked again until unreachable_limit has passed without an answer.
    test::FakeOrigin origin([](const test::FakeRequest&) -> test::FakeReply {
      return {503, R"({"error":{"code":"unavailable","message":"starting"}})"};
    });
    client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
    auto started = std::chrono::steady_clock::now();
    auto job = client::FollowJob(api, Queued(), nullptr, options);
    REQUIRE_FALSE(job.ok());
    CHECK(job.status().code() == Code::kUnavailable);
    CHECK(std::chrono::steady_clock::now() - started >= options.unreachable_limit);
    CHECK(origin.requests().size() > 2);
  }
  {
    // Still running at max_wait: given up on, the job goes on.
    test::FakeOrigin origin([](const test::FakeRequest&) -> test::FakeReply {
      return {200, JobJson("running", "import", 1)};
    });
    client::OriginApi api(*net::ParseHttpUrl(origin.url()), "", "alice");
    options.max_wait = std::chrono::milliseconds(50);
    auto job = client::FollowJob(api, Queued(), nullptr, options);
    REQUIRE_FALSE(job.ok());
    CHECK(job.status().message().find("still runs") != std::string::npos);
  }
}

}  // namespace zdap
