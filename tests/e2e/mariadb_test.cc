// End to end through the real zdapd with the mariadb engine on the process runtime: refresh
// from the Chinook MySQL dump, clones as running MariaDB servers, queried with the mariadb
// client over TCP with each clone's own password.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string MariadbResource(const std::string& dump, const std::string& database) {
  return "name: chinook\nengine: mariadb\nsource:\n  dump: " + dump + "\n  database: " + database +
         "\nclone:\n  ttl: 1h\ncredentials: {user: root, password: zdap}\n";
}

std::string CountInvoiceLines(int port, const std::string& password) {
  std::string out;
  int rc = Mariadb(port, password, "SELECT COUNT(*) FROM InvoiceLine", &out);
  INFO(out);
  CHECK(rc == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

long long MillisSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

TEST_CASE("mariadb: refresh, clones answer the mariadb client, destroy leaves nothing") {
  ZdapdFixture d("", MariadbResource(ChinookDir() + "/Chinook_MySql.sql", "Chinook"));
  std::string out;
  auto t = Clock::now();
  int rc = d.Host("refresh chinook", &out);
  INFO(out);
  REQUIRE(rc == 0);
  WARN("mariadb: refresh of Chinook took " << MillisSince(t) << " ms");
  d.Start();

  std::string body;
  std::vector<int> ports;
  std::vector<std::string> passwords;
  const char* owners[] = {"alice", "bob"};
  for (const char* name : {"maria-a", "maria-b"}) {
    t = Clock::now();
    int code = d.Call("POST", "/v1/resources/chinook/clones",
                      std::string("{\"name\":\"") + name + "\"}", &body, owners[ports.size()]);
    INFO(body << d.LogText());
    REQUIRE(code == 201);
    REQUIRE(JsonField(body, "state") == "ready");
    WARN("mariadb: clone " << name << " ready in " << MillisSince(t) << " ms");
    passwords.push_back(JsonField(body, "password"));
    CHECK(passwords.back().size() >= 22);
    CHECK(JsonField(body, "uri").rfind("mysql://root:" + passwords.back() + "@", 0) == 0);
    ports.push_back(std::stoi(JsonField(body, "port")));
  }
  // Each clone has its own password; neither opens the other, nor does the resource's.
  REQUIRE(passwords[0] != passwords[1]);
  for (int i = 0; i < 2; ++i) {
    std::string refused;
    CHECK(Mariadb(ports[i], passwords[1 - i], "SELECT 1", &refused) != 0);
    CHECK(refused.find("Access denied") != std::string::npos);
    refused.clear();
    CHECK(Mariadb(ports[i], "zdap", "SELECT 1", &refused) != 0);
    CHECK(refused.find("Access denied") != std::string::npos);
  }
  // No file with the password is left in the clone's run dir.
  CHECK(Shell("grep -rl -- '" + passwords[0] + "' " + d.data_dir() + "/run/maria-a") != 0);
  CHECK(CountInvoiceLines(ports[0], passwords[0]) == "2240");
  // A write in one clone stays in that clone.
  REQUIRE(Mariadb(ports[0], passwords[0], "DELETE FROM InvoiceLine", &out) == 0);
  CHECK(CountInvoiceLines(ports[0], passwords[0]) == "0");
  CHECK(CountInvoiceLines(ports[1], passwords[1]) == "2240");

  CHECK(d.Call("DELETE", "/v1/clones/maria-a", "", &body, "alice") == 204);
  CHECK(d.Call("DELETE", "/v1/clones/maria-b", "", &body, "bob") == 204);
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/"));
}

TEST_CASE("mariadb: a dump with an error fails the refresh with its line, leaving nothing") {
  TempDir dumps("zdap-bad-mysql-dump");
  std::string dump = dumps.path() + "/bad.sql";
  std::ofstream(dump) << "CREATE TABLE ok (x INT);\nINSERT INTO ok VALUES (1);\nSELEC oops;\n";
  ZdapdFixture d("", MariadbResource(dump, "app"));
  std::string out;
  CHECK(d.Host("refresh chinook", &out) != 0);
  INFO(out);
  CHECK(out.find(dump) != std::string::npos);
  CHECK(out.find("ERROR 1064 (42000) at line 3") != std::string::npos);
  std::string left;
  Shell("ls -A " + d.data_dir() + "/store/volumes " + d.data_dir() + "/store/snapshots " +
            d.data_dir() + "/run",
        &left);
  CHECK(left.find("chinook") == std::string::npos);
  CHECK(left.find("import") == std::string::npos);
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/"));
}
