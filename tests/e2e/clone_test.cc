// End to end through the real zdapd: refresh from the Chinook dump, clones as running
// PostgreSQL servers, queried with psql.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int CreateClone(ZdapdFixture& d, const std::string& name, const std::string& user = "alice") {
  std::string body;
  int code =
      d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"" + name + "\"}", &body, user);
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  REQUIRE(JsonField(body, "state") == "ready");
  return std::stoi(JsonField(body, "port"));
}

std::string Count(int port, const std::string& password) {
  std::string out;
  Psql(port, password, "select count(*) from invoice_line", &out);
  return Trim(out);
}

}  // namespace

TEST_CASE("a write in one clone is invisible in another clone and in the snapshot") {
  ZdapdFixture d;
  std::string out;
  int refresh_rc = d.Host("refresh chinook", &out);
  INFO(out);  // after it is filled: INFO copies its text
  REQUIRE(refresh_rc == 0);
  d.Start();

  int a = CreateClone(d, "iso-a");
  int b = CreateClone(d, "iso-b");
  REQUIRE(a != b);
  REQUIRE(Count(a, d.Password("iso-a")) == "2240");
  REQUIRE(Psql(a, d.Password("iso-a"),
               "create table scratch(x int); insert into scratch values (42); "
               "delete from invoice_line",
               &out) == 0);
  CHECK(Count(a, d.Password("iso-a")) == "0");
  CHECK(Count(b, d.Password("iso-b")) == "2240");
  out.clear();
  Psql(b, d.Password("iso-b"), "select coalesce(to_regclass('scratch')::text, 'absent')", &out);
  CHECK(Trim(out) == "absent");

  // A clone made now from the same snapshot sees the snapshot as it was imported.
  int c = CreateClone(d, "iso-c");
  CHECK(Count(c, d.Password("iso-c")) == "2240");

  std::string body;
  for (const char* id : {"iso-a", "iso-b", "iso-c"}) {
    CHECK(d.Call("DELETE", std::string("/v1/clones/") + id, "", &body) == 204);
    CHECK(d.Call("GET", std::string("/v1/clones/") + id, "", &body) == 404);
  }
  // No server of any of them is left running.
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/"));
}

TEST_CASE("users see and touch only their own clones") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  CreateClone(d, "owned-by-alice", "alice");
  std::string body;
  CHECK(d.Call("GET", "/v1/clones/owned-by-alice", "", &body, "bob") == 404);
  CHECK(d.Call("DELETE", "/v1/clones/owned-by-alice", "", &body, "bob") == 404);
  CHECK(d.Call("GET", "/v1/clones", "", &body, "bob") == 200);
  CHECK(body.find("owned-by-alice") == std::string::npos);
  CHECK(d.Call("GET", "/v1/clones", "", &body, "alice") == 200);
  CHECK(body.find("owned-by-alice") != std::string::npos);
  CHECK(d.Call("DELETE", "/v1/clones/owned-by-alice", "", &body, "alice") == 204);
}

TEST_CASE("each clone has its own password and no other clone's opens it") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  int a = CreateClone(d, "secret-a", "alice");
  int b = CreateClone(d, "secret-b", "bob");
  std::string pa = d.Password("secret-a", "alice");
  std::string pb = d.Password("secret-b", "bob");
  REQUIRE(pa.size() >= 22);  // >= 128 bits of base64url
  REQUIRE(pb.size() >= 22);
  CHECK(pa.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
  CHECK(pa != pb);
  CHECK(Count(a, pa) == "2240");
  CHECK(Count(b, pb) == "2240");
  std::string out;
  CHECK(Psql(a, pb, "select 1", &out) != 0);
  CHECK(out.find("password authentication failed") != std::string::npos);
  out.clear();
  CHECK(Psql(b, pa, "select 1", &out) != 0);
  CHECK(out.find("password authentication failed") != std::string::npos);
  // The resource's import password opens no clone.
  out.clear();
  CHECK(Psql(a, "zdap", "select 1", &out) != 0);
  // The URI carries the clone's password; the catalog record on disk carries none.
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones/secret-a", "", &body, "alice") == 200);
  CHECK(JsonField(body, "uri").find(":" + pa + "@") != std::string::npos);
  std::string record;
  REQUIRE(Shell("cat " + d.data_dir() + "/catalog/secret-a.json", &record) == 0);
  CHECK(record.find(pa) == std::string::npos);
  std::string mode;
  REQUIRE(Shell("stat -c %a " + d.data_dir() + "/secrets/secret-a", &mode) == 0);
  CHECK(mode == "600\n");
  // No file with the password is left in the clone's run dir.
  CHECK(Shell("grep -rl -- '" + pa + "' " + d.data_dir() + "/run/secret-a") != 0);
  // A restarted daemon (clones adopted) and a restarted server (kill -9) keep the password.
  d.Kill(SIGKILL);
  REQUIRE(Shell("kill -9 $(head -1 " + d.data_dir() + "/run/secret-b/postgres.pid)") == 0);
  for (int i = 0; i < 200 && ServersRunUnder(d.data_dir() + "/store/clones/secret-b"); ++i) {
    ::usleep(50000);  // bounded: 10 s
  }
  REQUIRE_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/secret-b"));
  d.Start();
  // Both passwords are in memory after the start (the list is answered from memory, on the
  // API's I/O thread): the answer holds them while their files are moved aside.
  const std::string secrets = d.data_dir() + "/secrets/";
  REQUIRE(Shell("mv " + secrets + "secret-a " + secrets + "secret-b " + d.data_dir()) == 0);
  CHECK(d.Password("secret-a", "alice") == pa);
  CHECK(d.Password("secret-b", "bob") == pb);
  REQUIRE(Shell("mv " + d.data_dir() + "/secret-a " + d.data_dir() + "/secret-b " + secrets) == 0);
  CHECK(d.Password("secret-a", "alice") == pa);
  CHECK(Count(a, pa) == "2240");
  CHECK(Count(b, pb) == "2240");
  CHECK(d.Call("DELETE", "/v1/clones/secret-a", "", &body, "alice") == 204);
  CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/secrets/secret-a"));
  CHECK(d.Call("DELETE", "/v1/clones/secret-b", "", &body, "bob") == 204);
}

TEST_CASE("after kill -9 of zdapd its clones are adopted and still answer") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  int port = CreateClone(d, "survivor");
  CreateClone(d, "vanished");
  std::string password = d.Password("survivor");
  d.Kill(SIGKILL);
  CHECK(Count(port, password) == "2240");  // the server outlives the daemon
  // "vanished" is destroyed while the daemon is down, as an operator would by hand: its
  // record goes. The restarted daemon must stop its server and remove its volume.
  REQUIRE(::unlink((d.data_dir() + "/catalog/vanished.json").c_str()) == 0);
  d.Start();
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/vanished"));
  CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/store/clones/vanished"));
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones/survivor", "", &body) == 200);
  CHECK(JsonField(body, "state") == "ready");
  CHECK(Count(port, password) == "2240");
  CHECK(d.LogText().find("adopted") != std::string::npos);
  CHECK(d.Call("DELETE", "/v1/clones/survivor", "", &body) == 204);
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/"));
}

TEST_CASE(
    "a clone that does not start after a restart stays failed, with its reason, until "
    "deleted or expired") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  const std::vector<std::string> names = {"broken-del", "broken-ttl"};
  std::map<std::string, int> ports;
  for (const auto& n : names) ports[n] = CreateClone(d, n);
  d.Kill(SIGKILL);
  // Their servers die too, and their data no longer starts (a setting postgres refuses).
  for (const auto& n : names) {
    std::string volume = d.data_dir() + "/store/clones/" + n;
    REQUIRE(Shell("kill -9 $(head -1 " + d.data_dir() + "/run/" + n + "/postgres.pid)") == 0);
    REQUIRE(PollUntil(std::chrono::seconds(10), std::chrono::milliseconds(20),
                      [&] { return !ServersRunUnder(volume); }));
    std::ofstream(volume + "/postgresql.conf", std::ios::app) << "zdap_no_such_setting = on\n";
  }
  auto expect_failed = [&](const std::string& n) {
    std::string body;
    REQUIRE(d.Call("GET", "/v1/clones/" + n, "", &body) == 200);
    INFO(body);
    CHECK(JsonField(body, "state") == "failed");
    CHECK(body.find("does not start after a restart of zdapd") != std::string::npos);
    CHECK(body.find("zdap_no_such_setting") != std::string::npos);  // the server's own words
    CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/" + n));
    CHECK(Shell("timeout 2 bash -c '</dev/tcp/127.0.0.1/" + std::to_string(ports[n]) + "'") != 0);
  };
  d.Start();  // recovery finds them ready on disk but not starting: failed, with the reason
  for (const auto& n : names) expect_failed(n);
  // A second restart keeps them as they are: the owner still sees why, not a vanished clone.
  d.Kill(SIGTERM);
  d.Start();
  for (const auto& n : names) expect_failed(n);
  CHECK(std::filesystem::exists(d.data_dir() + "/store/clones/broken-del"));
  CHECK(d.LogText().find("broken-del failed") != std::string::npos);
  // The owner deletes one; the other goes at its ttl, as a ready clone would.
  std::string body;
  CHECK(d.Call("DELETE", "/v1/clones/broken-del", "", &body) == 204);
  CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/store/clones/broken-del"));
  REQUIRE(d.Call("PATCH", "/v1/clones/broken-ttl", "{\"ttl\":\"1s\"}", &body) == 200);
  CHECK(PollUntil(std::chrono::seconds(15), std::chrono::milliseconds(100),
                  [&] { return d.Call("GET", "/v1/clones/broken-ttl", "", &body) == 404; }));
  CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/store/clones/broken-ttl"));
  CHECK_FALSE(std::filesystem::exists(d.data_dir() + "/secrets/broken-ttl"));
}

TEST_CASE("the fixture stops the clone servers its daemons left, and no other process") {
  std::string volumes;
  pid_t decoy = -1;
  pid_t server = -1;
  {
    ZdapdFixture d;
    REQUIRE(d.Host("refresh chinook") == 0);
    d.Start();
    CreateClone(d, "left-running");
    volumes = d.data_dir() + "/store/clones/";
    // Another test's process whose command line names this data dir, as a server's would.
    decoy = ::fork();
    REQUIRE(decoy >= 0);
    if (decoy == 0) {
      ::execl("/bin/sh", "sh", "-c", "sleep 30; true", "-D", (volumes + "x").c_str(), nullptr);
      ::_exit(127);
    }
    std::ifstream pid_file(d.data_dir() + "/run/left-running/postgres.pid");
    pid_file >> server;
    REQUIRE(server > 0);
    d.Kill(SIGKILL);  // the clone's server outlives its daemon, by design
    REQUIRE(::kill(server, 0) == 0);
  }
  // Its postmaster is gone, not merely signalled (the fixture waits, bounded).
  CHECK(::kill(server, 0) != 0);
  int status = 0;
  CHECK(::waitpid(decoy, &status, WNOHANG) == 0);  // still running
  ::kill(decoy, SIGKILL);
  ::waitpid(decoy, &status, 0);
}

TEST_CASE("a dump with an error fails the refresh with its line and leaves nothing behind") {
  zdap::test::TempDir dumps("zdap-bad-dump");
  std::string dump = dumps.path() + "/bad.sql";
  std::ofstream(dump) << "CREATE TABLE ok(x int);\nINSERT INTO ok VALUES (1);\nSELEC oops;\n";
  ZdapdFixture d(
      "", "name: chinook\nengine: postgres\nsource:\n  dump: " + dump + "\n  database: postgres\n");
  std::string out;
  CHECK(d.Host("refresh chinook", &out) != 0);
  INFO(out);
  CHECK(out.find(dump + ":3") != std::string::npos);
  CHECK(out.find("syntax error") != std::string::npos);
  std::string left;
  Shell("ls -A " + d.data_dir() + "/store/volumes " + d.data_dir() + "/store/snapshots " +
            d.data_dir() + "/run",
        &left);
  CHECK(left.find("chinook") == std::string::npos);
  CHECK(left.find("import") == std::string::npos);
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/"));
}

TEST_CASE("the API answers hostile input with 4xx and keeps serving") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  d.Start();
  std::string body;
  auto post = [&](const std::string& json) {
    return d.Call("POST", "/v1/resources/chinook/clones", json, &body);
  };
  CHECK(post("{\"name\":\"Bad Name\"}") == 400);
  CHECK(body.find("\"invalid_argument\"") != std::string::npos);
  CHECK(post("{\"name\":\"../../etc\"}") == 400);
  CHECK(post("{\"nmae\":\"x\"}") == 400);
  CHECK(post("{\"ttl\":\"forever\"}") == 400);
  CHECK(post("[1,2") == 400);
  CHECK(post("\"just a string\"") == 400);
  CHECK(post(std::string(100, '[')) == 400);
  CHECK(post("{\"name\":42}") == 400);
  CHECK(d.Call("POST", "/v1/resources/nope/clones", "{}", &body) == 404);
  CHECK(d.Call("POST", "/v1/resources/NOPE/clones", "{}", &body) == 400);
  CHECK(d.Call("GET", "/v1/clones/no-such-clone", "", &body) == 404);
  CHECK(d.Call("PUT", "/v1/clones", "", &body) == 405);
  CHECK(d.Call("GET", "/v2/anything", "", &body) == 404);
  CHECK(d.Call("GET", "/v1/clones", "", &body, "Not A User") == 400);
  std::string out;
  std::string big = d.data_dir() + "/../big.json";
  Shell("head -c 2000000 /dev/zero | tr '\\0' ' ' > " + big);
  Shell("curl -s -o /dev/null -w '%{http_code}' --data-binary @" + big + " " + d.Url() +
            "/v1/resources/chinook/clones",
        &out);
  CHECK(out == "413");
  out.clear();
  Shell("printf 'GARBAGE\\r\\n\\r\\n' | timeout 5 socat -t 3 - TCP:127.0.0.1:" +
            d.Url().substr(d.Url().rfind(':') + 1),
        &out);
  CHECK(out.find("400") != std::string::npos);
  CHECK(d.Call("GET", "/v1/health", "", &body) == 200);
}
