#include <catch2/catch.hpp>

#include <fstream>

#include "config/daemon_config.h"
#include "config/resource.h"
#include "support/test_env.h"

using namespace zdap;
using namespace zdap::config;

TEST_CASE("the embedded default listens on loopback and needs no token") {
  DaemonConfig c;
  CHECK(c.listen == "127.0.0.1:43210");
  CHECK(c.storage_driver == "auto");
  CHECK(c.runtime_driver == "process");
  CHECK(ValidateDaemonConfig(c).ok());
}

TEST_CASE("listening beyond loopback requires a tokens file") {
  DaemonConfig c;
  c.listen = "0.0.0.0:43210";
  auto st = ValidateDaemonConfig(c);
  CHECK(st.message().find("tokens file") != std::string::npos);
  c.listen = "[::1]:43210";
  CHECK(ValidateDaemonConfig(c).ok());
  // A tokens file must exist at start (zdapd parses it when it serves).
  c.tokens_file = "/nonexistent/zdap-tokens.yaml";
  CHECK(ValidateDaemonConfig(c).message().find("does not exist") != std::string::npos);
}

TEST_CASE("clone servers beyond loopback require a tokens file") {
  DaemonConfig c;
  for (const char* bind : {"0.0.0.0", "::", "192.0.2.7"}) {
    c.clone_bind = bind;
    auto st = ValidateDaemonConfig(c);
    CHECK(st.message().find("clone_bind") != std::string::npos);
    CHECK(st.message().find("set tokens_file") != std::string::npos);
  }
  for (const char* bind : {"127.0.0.1", "::1", "localhost"}) {
    c.clone_bind = bind;
    CHECK(ValidateDaemonConfig(c).ok());
  }
}

TEST_CASE("storage.dataset is kept for the zfs driver, and only for it") {
  zdap::test::TempDir dir;
  std::string file = dir.path() + "/zdapd.yaml";
  std::ofstream(file) << "storage: {driver: zfs, dataset: tank/zdap}\n";
  SettingMap s;
  REQUIRE(ReadDaemonConfigFile(file, &s).ok());
  DaemonConfig c;
  REQUIRE(ApplyDaemonSettings(s, file, &c).ok());
  CHECK(c.storage_driver == "zfs");
  CHECK(c.storage_dataset == "tank/zdap");
  CHECK(c.StorePath() == c.data_dir + "/store");  // the dataset is not a path
  CHECK(ValidateDaemonConfig(c).ok());
  c.storage_dataset.clear();
  CHECK(ValidateDaemonConfig(c).message().find("needs storage.dataset") != std::string::npos);
  c.storage_driver = "btrfs";
  c.storage_dataset = "tank/zdap";
  CHECK(ValidateDaemonConfig(c).message().find("zfs only") != std::string::npos);
}

TEST_CASE("host:port parsing refuses garbage") {
  std::string h;
  int p;
  CHECK(SplitHostPort("127.0.0.1:5432", &h, &p).ok());
  CHECK((h == "127.0.0.1" && p == 5432));
  CHECK(SplitHostPort(":5432", &h, &p).ok());
  CHECK(h.empty());
  CHECK(SplitHostPort("[::1]:80", &h, &p).ok());
  CHECK(h == "::1");
  for (const char* bad :
       {"", "5432", "host:", "host:0", "host:65536", "host:-1", "::1:80", "[::1]80", "host:80x"}) {
    INFO(bad);
    CHECK_FALSE(SplitHostPort(bad, &h, &p).ok());
  }
}

TEST_CASE("config file, environment and flags apply in that order with clear errors") {
  zdap::test::TempDir dir;
  std::string file = dir.path() + "/zdapd.yaml";
  std::ofstream(file) << "listen: 127.0.0.1:5000\nstorage: {driver: btrfs, path: /srv/z}\n"
                         "clone_ports: 7000-7099\n";
  SettingMap s;
  REQUIRE(ReadDaemonConfigFile(file, &s).ok());
  DaemonConfig c;
  REQUIRE(ApplyDaemonSettings(s, file, &c).ok());
  CHECK(c.listen == "127.0.0.1:5000");
  CHECK(c.storage_driver == "btrfs");
  CHECK(c.StorePath() == "/srv/z");
  CHECK(c.clone_port_first == 7000);

  ::setenv("ZDAPD_LISTEN", "127.0.0.1:6000", 1);
  SettingMap env;
  ReadDaemonEnvironment(&env);
  ::unsetenv("ZDAPD_LISTEN");
  REQUIRE(ApplyDaemonSettings(env, "environment", &c).ok());
  CHECK(c.listen == "127.0.0.1:6000");

  std::ofstream(file) << "listen: 127.0.0.1:5000\nstorage: {drivr: btrfs}\n";
  SettingMap bad;
  auto st = ReadDaemonConfigFile(file, &bad);
  CHECK(st.message().find(":2:") != std::string::npos);
  CHECK(st.message().find("storage.drivr") != std::string::npos);

  DaemonConfig c2;
  CHECK(
      ApplyDaemonSettings({{"clone_ports", "7000-6000"}}, "x", &c2).message().find("port range") !=
      std::string::npos);
  CHECK(ApplyDaemonSettings({{"storage.driver", "ntfs"}}, "x", &c2).message().find("btrfs") !=
        std::string::npos);
}

TEST_CASE("quota is read from the file and refuses what is not a count") {
  zdap::test::TempDir dir;
  std::string file = dir.path() + "/zdapd.yaml";
  std::ofstream(file) << "quota: {clones_per_user: 10, protected_per_user: 3}\n";
  SettingMap s;
  REQUIRE(ReadDaemonConfigFile(file, &s).ok());
  DaemonConfig c;
  REQUIRE(ApplyDaemonSettings(s, file, &c).ok());
  CHECK(c.quota_clones_per_user == 10);
  CHECK(c.quota_protected_per_user == 3);

  std::ofstream(file) << "quota: {clones: 10}\n";
  SettingMap bad;
  CHECK(ReadDaemonConfigFile(file, &bad).message().find("quota.clones") != std::string::npos);
  DaemonConfig c2;
  auto st = ApplyDaemonSettings({{"quota.clones_per_user", "-1"}}, "x", &c2);
  CHECK(st.message().find("quota.clones_per_user") != std::string::npos);
  CHECK(st.message().find("whole number") != std::string::npos);
}

TEST_CASE("a setting the chosen driver would ignore is refused with what to do") {
  // runtime.socket: only the docker runtime talks to dockerd.
  SettingMap s{{"runtime.socket", "/run/docker.sock"}};
  DaemonConfig c;
  REQUIRE(ApplyDaemonSettings(s, "zdapd.yaml", &c).ok());
  auto st = ValidateDaemonConfig(c);
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.message().find("runtime.socket /run/docker.sock is for runtime docker only") !=
        std::string::npos);
  CHECK(st.message().find("set runtime.driver: docker") != std::string::npos);
  c.runtime_driver = "docker";
  CHECK(ValidateDaemonConfig(c).ok());
  // The default is no setting: a process origin does not have to clear it.
  CHECK(ValidateDaemonConfig(DaemonConfig()).ok());

  // storage.path: zfs keeps volumes in datasets, mounted where the dataset is.
  DaemonConfig z;
  REQUIRE(ApplyDaemonSettings({{"storage.driver", "zfs"},
                               {"storage.dataset", "tank/zdap"},
                               {"storage.path", "/srv/zdap"}},
                              "zdapd.yaml", &z)
              .ok());
  st = ValidateDaemonConfig(z);
  CHECK(st.message().find("storage.path /srv/zdap is not used by driver zfs") != std::string::npos);
  CHECK(st.message().find("remove storage.path") != std::string::npos);
  z.storage_path.clear();
  CHECK(ValidateDaemonConfig(z).ok());
  // Every other driver keeps its store at storage.path.
  for (const char* driver : {"auto", "btrfs", "reflink", "overlay", "copy"}) {
    DaemonConfig d;
    d.storage_driver = driver;
    d.storage_path = "/srv/zdap";
    INFO(driver);
    CHECK(ValidateDaemonConfig(d).ok());
  }
}

namespace {

Resource ParsedResource(const std::string& text) {
  auto r = ParseResource("/etc/zdap/resources/app.yaml", text, "/etc/zdap");
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("engine mysql is warned about: it runs MariaDB, not a MySQL 8 server") {
  auto warnings = ResourceWarnings(
      {ParsedResource("name: app\nengine: mysql\nsource: {dump: a.sql, database: app}\n"),
       ParsedResource("name: app\nengine: mariadb\nsource: {dump: a.sql, database: app}\n"),
       ParsedResource("name: app\nengine: postgres\nsource: {dump: a.sql, database: app}\n")});
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("resource 'app' has engine mysql, which runs MariaDB") !=
        std::string::npos);
  CHECK(warnings[0].find("MySQL 8 servers (caching_sha2_password) are not supported") !=
        std::string::npos);
}

TEST_CASE("zdapd check-config refuses an ignored setting and warns about engine mysql") {
  zdap::test::TempDir dir("zdap-check-config");
  const std::string config_dir = dir.path() + "/config";
  REQUIRE(zdap::test::Shell("mkdir -p " + config_dir + "/resources") == 0);
  const std::string zdapd = zdap::test::ProgramPath("apps/zdapd/zdapd") +
                            " check-config --config-dir " + config_dir + " ";
  std::string out;
  CHECK(zdap::test::Shell("ZDAPD_RUNTIME_SOCKET=/run/docker.sock " + zdapd + "2>&1", &out) == 1);
  CHECK(out.find("runtime.socket /run/docker.sock is for runtime docker only") !=
        std::string::npos);

  std::ofstream(config_dir + "/resources/app.yaml")
      << "name: app\nengine: mysql\nsource: {dump: a.sql, database: app}\n";
  out.clear();
  CHECK(zdap::test::Shell(zdapd + "2>&1", &out) == 0);
  CHECK(out.find("zdapd: warning: " + config_dir +
                 "/resources/app.yaml: resource 'app' has engine mysql") != std::string::npos);
  CHECK(out.find("ok: 1 resource(s)") != std::string::npos);

  std::ofstream(config_dir + "/resources/app.yaml")
      << "name: app\nengine: mariadb\nsource: {dump: a.sql, database: app}\n";
  out.clear();
  CHECK(zdap::test::Shell(zdapd + "2>&1", &out) == 0);
  CHECK(out == "ok: 1 resource(s) in " + config_dir + "; listen 127.0.0.1:43210; data_dir " +
                   "./zdap-data\n");
}

namespace {

// Reads `yaml` as a config file and applies it; the first error's message, "" if none.
std::string LoadConfig(const std::string& yaml, DaemonConfig* c) {
  zdap::test::TempDir dir;
  std::string file = dir.path() + "/zdapd.yaml";
  std::ofstream(file) << yaml;
  SettingMap s;
  Status st = ReadDaemonConfigFile(file, &s);
  if (st.ok()) st = ApplyDaemonSettings(s, file, c);
  return st.message();
}

}  // namespace

TEST_CASE("webhooks: every key is read, checked, and nothing unknown is accepted (issue 24)") {
  zdap::test::TempDir dir;
  std::string secret = dir.path() + "/hook.secret";
  std::ofstream(secret) << "s3cret\n";
  DaemonConfig c;
  REQUIRE(LoadConfig("webhooks:\n"
                     "  - url: https://chat.example.com/hook\n"
                     "    events: [clone.*, refresh.failed]\n"
                     "    secret_file: " +
                         secret +
                         "\n"
                         "  - {url: 'http://127.0.0.1:9000/', events: ['*'], secret_file: " +
                         secret + ", ca: " + secret + "}\n",
                     &c) == "");
  REQUIRE(c.webhooks.size() == 2);
  CHECK(c.webhooks[0].url == "https://chat.example.com/hook");
  CHECK(c.webhooks[0].events == std::vector<std::string>{"clone.*", "refresh.failed"});
  CHECK(c.webhooks[0].secret_file == secret);
  CHECK(c.webhooks[0].ca.empty());
  CHECK(c.webhooks[1].events == std::vector<std::string>{"*"});
  CHECK(c.webhooks[1].ca == secret);
  CHECK(ValidateDaemonConfig(c).ok());

  DaemonConfig bad;
  CHECK(LoadConfig("webhooks: {url: x}\n", &bad).find("expected a list") != std::string::npos);
  CHECK(LoadConfig("webhooks: [{url: https://x, events: [a], secret_file: f, colour: red}]\n", &bad)
            .find("colour") != std::string::npos);
  CHECK(LoadConfig("webhooks: [{url: https://x, secret_file: f}]\n", &bad).find("events") !=
        std::string::npos);
  CHECK(LoadConfig("webhooks: [{url: https://x, events: [], secret_file: f}]\n", &bad)
            .find("events") != std::string::npos);
  CHECK(LoadConfig("webhooks: [{events: [a], secret_file: f}]\n", &bad).find("url") !=
        std::string::npos);
  CHECK(LoadConfig("webhooks: [{url: https://x, events: [a]}]\n", &bad).find("secret_file") !=
        std::string::npos);
  CHECK(LoadConfig("webhooks: [{url: https://x, events: ['a,b'], secret_file: f}]\n", &bad)
            .find("not an event pattern") != std::string::npos);

  // Plain HTTP only to this host; a secret file that exists.
  DaemonConfig remote;
  remote.webhooks = {{"http://chat.example.com/hook", {"*"}, secret, ""}};
  CHECK(ValidateDaemonConfig(remote).message().find("use https://") != std::string::npos);
  remote.webhooks[0].url = "ftp://127.0.0.1/";
  CHECK(ValidateDaemonConfig(remote).message().find("not an https://") != std::string::npos);
  for (const char* ok : {"http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:80/"}) {
    remote.webhooks[0].url = ok;
    CHECK(ValidateDaemonConfig(remote).ok());
  }
  remote.webhooks[0].secret_file = dir.path() + "/missing";
  CHECK(ValidateDaemonConfig(remote).message().find("does not exist") != std::string::npos);
}

TEST_CASE("expiry_warning is a duration, from the file or ZDAPD_EXPIRY_WARNING") {
  DaemonConfig c;
  CHECK(c.expiry_warning_seconds == 3600);
  REQUIRE(LoadConfig("expiry_warning: 30m\n", &c) == "");
  CHECK(c.expiry_warning_seconds == 1800);
  REQUIRE(ApplyDaemonSettings({{"expiry_warning", "0"}}, "environment", &c).ok());
  CHECK(c.expiry_warning_seconds == 0);
  CHECK_FALSE(ApplyDaemonSettings({{"expiry_warning", "soon"}}, "environment", &c).ok());
  CHECK_FALSE(ApplyDaemonSettings({{"expiry_warning", "90d"}}, "environment", &c).ok());
  CHECK_FALSE(ApplyDaemonSettings({{"webhooks.x.url", "https://a"}}, "environment", &c).ok());
  CHECK_FALSE(ApplyDaemonSettings({{"webhooks.0.colour", "red"}}, "environment", &c).ok());
}

TEST_CASE("replication.rate_limit is a byte count per second, from the file or the environment") {
  DaemonConfig c;
  CHECK(c.replication_rate_limit == 0);
  REQUIRE(LoadConfig("replication: {rate_limit: 100MB}\n", &c) == "");
  CHECK(c.replication_rate_limit == 100000000);
  REQUIRE(ApplyDaemonSettings({{"replication.rate_limit", "512 KiB"}}, "environment", &c).ok());
  CHECK(c.replication_rate_limit == 512 * 1024);
  REQUIRE(ApplyDaemonSettings({{"replication.rate_limit", "0"}}, "environment", &c).ok());
  CHECK(c.replication_rate_limit == 0);
  for (const char* bad : {"fast", "1.5GB", "-1", "100 MBps", "99999999999999999999", "1000"}) {
    INFO(bad);
    Status st = ApplyDaemonSettings({{"replication.rate_limit", bad}}, "environment", &c);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("replication.rate_limit") != std::string::npos);
  }
  CHECK(LoadConfig("replication: {rate: 1MB}\n", &c).find("rate") != std::string::npos);
}
