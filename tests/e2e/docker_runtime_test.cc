// End to end on the docker runtime: the real zdapd drives the real dockerd through its Engine
// API; clones run in containers of zdap-test/postgres:15 (scripts/build-test-images) and are
// queried with psql from the host.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

std::string ChinookDockerResource() {
  return "name: chinook\nengine: postgres\nsource:\n  dump: " + ChinookDir() +
         "/Chinook_PostgreSql.sql\n  database: chinook\nclone:\n  ttl: 1h\n"
         "credentials: {user: postgres, password: zdap}\n"
         "docker: {image: \"zdap-test/postgres:15\", shm: 128MB}\n";
}

std::string DockerCount(int port, const std::string& password) {
  std::string out;
  Psql(port, password, "select count(*) from invoice_line", &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("docker runtime: clones answer, survive kill -9 of zdapd, and vanished ones are removed",
          "[docker]") {
  REQUIRE(Shell("docker image inspect zdap-test/postgres:15 >/dev/null 2>&1") == 0);
  ZdapdFixture d("", ChinookDockerResource());
  d.UseRuntime("docker");
  std::string out;
  int refresh_rc = d.Host("refresh chinook", &out);
  INFO(out);  // after it is filled: INFO copies its text
  REQUIRE(refresh_rc == 0);
  CHECK(ContainersOf(d.data_dir()) == 0);  // the import's container is gone
  d.Start();

  std::string body;
  for (const char* name : {"dock-a", "dock-b"}) {
    int code = d.Call("POST", "/v1/resources/chinook/clones",
                      std::string("{\"name\":\"") + name + "\"}", &body);
    INFO(body << d.LogText());
    REQUIRE(code == 201);
  }
  REQUIRE(d.Call("GET", "/v1/clones/dock-a", "", &body) == 200);
  int a = std::stoi(JsonField(body, "port"));
  REQUIRE(d.Call("GET", "/v1/clones/dock-b", "", &body) == 200);
  int b = std::stoi(JsonField(body, "port"));
  std::string pa = d.Password("dock-a");
  std::string pb = d.Password("dock-b");
  CHECK(DockerCount(a, pa) == "2240");
  // Each clone has its own password, and one clone's does not open the other.
  CHECK(pa.size() >= 22);
  CHECK(pa != pb);
  CHECK(DockerCount(b, pb) == "2240");
  CHECK(DockerCount(b, pa).find("password authentication failed") != std::string::npos);
  CHECK(DockerCount(a, "zdap").find("password authentication failed") != std::string::npos);
  CHECK(ContainersOf(d.data_dir()) == 2);

  // kill -9: the containers keep serving; dock-b is destroyed while the daemon is down the
  // way an operator would by hand (its record removed), so only its container is orphaned.
  d.Kill(SIGKILL);
  CHECK(DockerCount(a, pa) == "2240");
  REQUIRE(::unlink((d.data_dir() + "/catalog/dock-b.json").c_str()) == 0);
  d.Start();
  REQUIRE(d.Call("GET", "/v1/clones/dock-a", "", &body) == 200);
  CHECK(JsonField(body, "state") == "ready");
  CHECK(DockerCount(a, pa) == "2240");
  CHECK(d.Password("dock-a") == pa);
  CHECK(d.LogText().find("adopted") != std::string::npos);
  CHECK(d.Call("GET", "/v1/clones/dock-b", "", &body) == 404);
  CHECK(DockerCount(b, pb).find("2240") == std::string::npos);
  CHECK(ContainersOf(d.data_dir()) == 1);

  CHECK(d.Call("DELETE", "/v1/clones/dock-a", "", &body) == 204);
  CHECK(ContainersOf(d.data_dir()) == 0);
}

TEST_CASE("docker runtime: a missing image is named and nothing is left", "[docker]") {
  ZdapdFixture d("", "name: chinook\nengine: postgres\nsource:\n  dump: " + ChinookDir() +
                         "/Chinook_PostgreSql.sql\n  database: chinook\n"
                         "docker: {image: \"zdap-test/absent:0\"}\n");
  d.UseRuntime("docker");
  std::string out;
  CHECK(d.Host("refresh chinook", &out) != 0);
  INFO(out);
  CHECK(out.find("image zdap-test/absent:0 is not present on this host") != std::string::npos);
  CHECK(ContainersOf(d.data_dir()) == 0);
  std::string left;
  Shell("ls -A " + d.data_dir() + "/store/volumes", &left);
  CHECK(left.find("chinook") == std::string::npos);
}

TEST_CASE("docker runtime: a failing dump leaves no volume and no container", "[docker]") {
  TempDir dumps("zdap-bad-dump");
  std::string dump = dumps.path() + "/bad.sql";
  std::ofstream(dump) << "CREATE TABLE ok(x int);\nSELEC oops;\n";
  ZdapdFixture d("", "name: chinook\nengine: postgres\nsource:\n  dump: " + dump +
                         "\n  database: postgres\ndocker: {image: \"zdap-test/postgres:15\"}\n");
  d.UseRuntime("docker");
  std::string out;
  CHECK(d.Host("refresh chinook", &out) != 0);
  INFO(out);
  CHECK(out.find(dump + ":2") != std::string::npos);
  CHECK(ContainersOf(d.data_dir()) == 0);
  std::string left;
  Shell("ls -A " + d.data_dir() + "/store/volumes " + d.data_dir() + "/run", &left);
  CHECK(left.find("chinook") == std::string::npos);
}

TEST_CASE("docker runtime: a MariaDB clone answers through the mariadb client", "[docker]") {
  REQUIRE(Shell("docker image inspect zdap-test/mariadb:10.11 >/dev/null 2>&1") == 0);
  ZdapdFixture d("", "name: chinook\nengine: mariadb\nsource:\n  dump: " + ChinookDir() +
                         "/Chinook_MySql.sql\n  database: Chinook\nclone:\n  ttl: 1h\n"
                         "credentials: {user: root, password: zdap}\n"
                         "docker: {image: \"zdap-test/mariadb:10.11\"}\n");
  d.UseRuntime("docker");
  std::string out;
  int refresh_rc = d.Host("refresh chinook", &out);
  INFO(out);  // after it is filled: INFO copies its text
  REQUIRE(refresh_rc == 0);
  CHECK(ContainersOf(d.data_dir()) == 0);
  d.Start();
  std::string body;
  int code = d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"dock-m\"}", &body);
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  int port = std::stoi(JsonField(body, "port"));
  CHECK(ContainersOf(d.data_dir()) == 1);
  std::string count;
  std::string password = JsonField(body, "password");
  CHECK(password.size() >= 22);
  CHECK(Shell("MYSQL_PWD='" + password +
                  "' mariadb --no-defaults -N -B --connect-timeout=10 -h127.0.0.1 -P" +
                  std::to_string(port) + " -uroot Chinook -e 'SELECT COUNT(*) FROM InvoiceLine'",
              &count) == 0);
  CHECK(count == "2240\n");

  // kill -9 of zdapd: the container keeps serving and the restarted daemon adopts it.
  d.Kill(SIGKILL);
  d.Start();
  REQUIRE(d.Call("GET", "/v1/clones/dock-m", "", &body) == 200);
  CHECK(JsonField(body, "state") == "ready");
  CHECK(d.LogText().find("adopted") != std::string::npos);
  CHECK(d.Call("DELETE", "/v1/clones/dock-m", "", &body) == 204);
  CHECK(ContainersOf(d.data_dir()) == 0);
}
