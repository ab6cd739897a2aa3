// The compose examples end to end with real containers: a real zdapd serves a clone,
// `zdap attach db` turns the example's db service into the zdap/proxyd image, Debian's
// docker-compose 1.29 starts it and the app container on the project's own bridge network, and
// the app's client reads the 2240 Chinook invoice lines through the service name `db`.
// Needs dockerd, docker-compose and the test images (scripts/build-test-images); builds the
// proxy image offline (proxy/build-image) when it is missing.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/version.h"
#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

namespace {

constexpr const char kProxyImage[] = "zdap/proxyd:" ZDAP_VERSION;

struct Example {
  std::string dir;        // under compose-examples/
  std::string resource;   // the resource yaml for the fixture
  std::string app_image;  // has the engine's client
  std::string client;     // host-side client command, with PORT and PASSWORD in the env
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The password of the only clone, from the clone object the API returns.
std::string ClonePassword(const ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones", "", &body) == 200);
  auto clones = boost::json::parse(body).as_object().at("clones").as_array();
  REQUIRE(clones.size() == 1);
  return std::string(clones[0].as_object().at("password").as_string());
}

void EnsureProxyImage() {
  if (Shell(std::string("docker image inspect ") + kProxyImage + " >/dev/null") == 0) return;
  std::string out;
  int rc = Shell(SourceDir() + "/proxy/build-image " + kProxyImage, &out);
  INFO(out);
  REQUIRE(rc == 0);
}

// Runs docker-compose in the project with the example's variables; output in *out.
struct ComposeProject {
  std::string dir, env;
  int Run(const std::string& args, std::string* out = nullptr) const {
    return Shell("cd '" + dir + "' && " + env + " docker-compose " + args + " 2>&1", out);
  }
  ~ComposeProject() { Run("down -v --remove-orphans >/dev/null"); }
};

// Polls `cmd` (bounded) until its output contains `want`; returns the last output.
std::string PollFor(const std::string& cmd, const std::string& want, int seconds) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    out.clear();
    Shell(cmd, &out);
    if (out.find(want) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return out;
}

void RunExample(const Example& ex) {
  REQUIRE(Shell("docker info >/dev/null") == 0);  // scripts/test starts dockerd
  REQUIRE(Shell("docker-compose version >/dev/null") == 0);
  INFO("test image " << ex.app_image << " comes from scripts/build-test-images");
  REQUIRE(Shell("docker image inspect " + ex.app_image + " >/dev/null") == 0);
  EnsureProxyImage();

  ZdapdFixture d("", ex.resource);
  REQUIRE(d.Host("refresh chinook") == 0);
  // The default clone_bind (127.0.0.1) is refused by attach: containers cannot reach it.
  // A clone on a non-loopback address needs token authentication (zdapd refuses it in open mode).
  d.UseTokens({"alice"});
  ::setenv("ZDAPD_CLONE_BIND", "0.0.0.0", 1);
  d.Start();
  ::unsetenv("ZDAPD_CLONE_BIND");

  TempDir project("zdap-compose-e2e");
  const std::string p = project.path();
  REQUIRE(Shell("cp " + SourceDir() + "/compose-examples/" + ex.dir + "/docker-compose.yml " + p +
                "/") == 0);
  // The team's own override file, which zdap must give back byte for byte.
  const std::string original =
      "# our own overrides\r\nservices:\r\n  app:\r\n    labels: {team: \"x\"}  # kept\t(tab)\r\n";
  std::ofstream(p + "/docker-compose.override.yml", std::ios::binary) << original;

  std::string zdap =
      "cd " + p + " && ZDAP_CONFIG=" + p + "/user.yaml " + ProgramPath("apps/zdap/zdap") + " ";
  std::string out;
  REQUIRE(Shell(zdap + "origin add " + d.Url() + " --token " + d.Token("alice"), &out) == 0);
  REQUIRE(Shell(zdap + "user set alice", &out) == 0);
  REQUIRE(Shell(zdap + "init", &out) == 0);
  INFO(out);
  REQUIRE(Shell(zdap + "attach chinook --service db", &out) == 0);
  INFO(ReadAll(p + "/docker-compose.override.yml"));

  const std::string project_name = "zdapce" + std::to_string(::getpid()) + ex.dir.substr(0, 7);
  const int host_port = FreeTcpPort();
  const std::string password = ClonePassword(d);
  ComposeProject compose{p, "COMPOSE_PROJECT_NAME=" + project_name +
                                " CHINOOK_APP_IMAGE=" + ex.app_image + " CHINOOK_PASSWORD='" +
                                password + "'" + " CHINOOK_PORT=" + std::to_string(host_port)};
  REQUIRE(compose.Run("config -q", &out) == 0);
  REQUIRE(compose.Run("up -d", &out) == 0);

  // The app's client reads through `db` (the proxy container) and exits.
  std::string app_logs = PollFor(
      "cd '" + p + "' && " + compose.env + " docker-compose logs --no-color app 2>&1", "2240", 120);
  INFO("app logs: " << app_logs);
  std::string proxy_logs;
  compose.Run("logs --no-color db", &proxy_logs);
  INFO("proxy logs: " << proxy_logs);
  CHECK(app_logs.find("2240") != std::string::npos);

  // The published port works from the host as it did for the database container.
  std::string count;
  Shell("export PORT=" + std::to_string(host_port) + " PASSWORD='" + password + "'; " + ex.client,
        &count);
  CHECK(Trim(count) == "2240");

  // Nothing of the database container is in the proxy container.
  std::string id;
  REQUIRE(compose.Run("ps -q db", &id) == 0);
  std::string inspect;
  Shell(
      "docker inspect -f '{{.Config.Image}} {{.Config.User}} {{range .Mounts}}{{.Type}}:{{.Name}} "
      "{{end}}{{range .Config.Env}}{{.}} {{end}}' " +
          Trim(id),
      &inspect);
  INFO("proxy container: " << inspect);
  CHECK(inspect.find(kProxyImage) == 0);
  CHECK(inspect.find("65534:65534") != std::string::npos);
  CHECK(inspect.find("volume:") == std::string::npos);
  CHECK(inspect.find("bind:") == std::string::npos);
  CHECK(inspect.find("=zdap") == std::string::npos);

  REQUIRE(Shell(zdap + "detach db", &out) == 0);
  CHECK(ReadAll(p + "/docker-compose.override.yml") == original);
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones", "", &body) == 200);
  CHECK(body == "{\"clones\":[]}\n");

  REQUIRE(compose.Run("down", &out) == 0);
  std::string left;
  Shell("docker ps -aq --filter label=com.docker.compose.project=" + project_name +
            "; docker network ls -q --filter label=com.docker.compose.project=" + project_name,
        &left);
  CHECK(left.empty());
}

}  // namespace

TEST_CASE("compose example on PostgreSQL runs on a clone through the proxy container",
          "[compose][docker]") {
  RunExample({"chinook", "", "zdap-test/postgres:15",
              "PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p $PORT -U postgres -d chinook -Atc "
              "'select count(*) from invoice_line'"});
}

TEST_CASE("compose example on MariaDB runs on a clone through the proxy container",
          "[compose][docker]") {
  RunExample({"chinook-mariadb",
              "name: chinook\nengine: mariadb\nsource:\n  dump: " + ChinookDir() +
                  "/Chinook_MySql.sql\n  database: Chinook\nclone:\n  ttl: 1h\n"
                  "credentials: {user: root, password: zdap}\n",
              "zdap-test/mariadb:10.11",
              "MYSQL_PWD=$PASSWORD mariadb --no-defaults -N -B -h127.0.0.1 -P$PORT -uroot Chinook "
              "-e 'SELECT COUNT(*) FROM InvoiceLine'"});
}
