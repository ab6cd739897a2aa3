// End to end through the real zdapd with the mariadb engine on the process runtime: refresh
// from the Chinook MySQL dump, clones as running MariaDB servers, queried with the mariadb
// client over TCP with each clone's own password; zdap-proxyd's mysql health check against a
// clone.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "e2e/zdapd_fixture.h"
#include "proxy/net_helpers.h"

using namespace zdap::test;

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

// A global status counter of the clone (e.g. Connections), -1 when it cannot be read.
long long GlobalStatus(int port, const std::string& password, const std::string& name) {
  std::string out;
  if (Mariadb(port, password, "SHOW GLOBAL STATUS LIKE \"" + name + "\"", &out) != 0) return -1;
  size_t tab = out.find('\t');
  return tab == std::string::npos ? -1 : std::atoll(out.c_str() + tab + 1);
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
  // zdap-proxyd's mysql check logs in as zdap-healthcheck, an account the data dir's bootstrap
  // made: 100 checks leave no "Access denied" and no aborted connection in the clone's log.
  {
    std::string log_path = d.data_dir() + "/run/maria-a/server.log";
    std::string before;
    REQUIRE(Shell("cat " + log_path, &before) == 0);
    long long connections = GlobalStatus(ports[0], passwords[0], "Connections");
    REQUIRE(connections > 0);
    ProxyProcess proxy;
    REQUIRE(proxy.Start({"--listen", "127.0.0.1:0", "--target",
                         "127.0.0.1:" + std::to_string(ports[0]), "--check", "mysql",
                         "--check-interval", "20ms", "--fall", "1", "--rise", "1"}));
    REQUIRE(proxy.WaitListening() != 0);
    // Each status query is a connection too: count only the proxy's.
    long long queries = 0, checks = 0;
    for (auto deadline = Clock::now() + std::chrono::seconds(60);
         checks < 100 && Clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      long long now = GlobalStatus(ports[0], passwords[0], "Connections");
      REQUIRE(now > 0);
      checks = now - connections - ++queries;
    }
    INFO(proxy.output());
    REQUIRE(checks >= 100);
    // The log of the checks that ran, read before the stop: checks run one after another, so
    // every finished one has logged its close by now, and the one a stop cuts off (every 20 ms
    // one is under way) is left out: it ends without a login, which MariaDB logs as aborted.
    std::string after;
    REQUIRE(Shell("cat " + log_path, &after) == 0);
    proxy.Signal(SIGTERM);
    CHECK(proxy.Wait(std::chrono::seconds(10)) == 0);
    std::string added = after.substr(std::min(before.size(), after.size()));
    INFO(proxy.output() << "\nclone log since the checks began:\n" << added.substr(0, 4000));
    CHECK(proxy.output().find(" is down") == std::string::npos);
    CHECK(added.find("Access denied") == std::string::npos);
    CHECK(added.find("Aborted connection") == std::string::npos);
    CHECK(added.find("Warning") == std::string::npos);
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
