// zdapd on each storage driver (issue 4, acceptance 3): `storage.driver: auto` picks btrfs on
// a btrfs loop mount and overlay or copy on the machine's own ext4 root; reflink (XFS loop),
// overlay and copy chosen explicitly serve clones too. Each clone answers psql.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "e2e/zdapd_fixture.h"
#include "storage/loop_fs.h"

using namespace zdap::test;
namespace json = boost::json;

namespace {

// zdapd reads ZDAPD_STORAGE_* from its environment; set for one test, then restored.
class StorageEnv {
 public:
  StorageEnv(const std::string& driver, const std::string& path) {
    ::setenv("ZDAPD_STORAGE_DRIVER", driver.c_str(), 1);
    if (path.empty()) {
      ::unsetenv("ZDAPD_STORAGE_PATH");
    } else {
      ::setenv("ZDAPD_STORAGE_PATH", path.c_str(), 1);
    }
  }
  ~StorageEnv() {
    ::unsetenv("ZDAPD_STORAGE_DRIVER");
    ::unsetenv("ZDAPD_STORAGE_PATH");
  }
};

// A store directory on a loop file system that the database user can enter.
std::string StoreOn(LoopFs& fs) {
  ::chmod(std::filesystem::path(fs.mount_point()).parent_path().c_str(), 0755);
  return fs.NewDir("zdapd-store");
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Refreshes Chinook, serves one clone, checks its rows and the driver /v1/status reports,
// destroys the clone; returns the driver.
std::string CloneAndQuery(ZdapdFixture& d, const std::string& store_path) {
  std::string out;
  int refresh_rc = d.Host("refresh chinook", &out);
  INFO(out);  // after it is filled: INFO copies its text
  REQUIRE(refresh_rc == 0);
  d.Start();
  std::string body;
  REQUIRE(d.Call("GET", "/v1/status", "", &body) == 200);
  json::object status = json::parse(body).as_object();
  const json::object& storage = status.at("storage").as_object();
  std::string driver(storage.at("driver").as_string());
  CHECK(std::string(storage.at("path").as_string()) == store_path);

  int code = d.Call("POST", "/v1/resources/chinook/clones", "{\"name\":\"auto-1\"}", &body);
  INFO(body << d.LogText());
  REQUIRE(code == 201);
  int port = std::stoi(JsonField(body, "port"));
  std::string rows;
  CHECK(Psql(port, JsonField(body, "password"), "select count(*) from invoice_line", &rows) == 0);
  CHECK(Trim(rows) == "2240");
  CHECK(JsonField(body, "id") == "auto-1");
  // The clone's metadata is kept beside it in the store, not in its data dir.
  std::string meta;
  CHECK(Shell("cat " + store_path + "/.meta/clones/auto-1", &meta) == 0);
  CHECK(meta.find("clone=auto-1\n") != std::string::npos);
  CHECK(meta.find("resource=chinook\n") != std::string::npos);
  CHECK(meta.find("state=ready\n") != std::string::npos);
  CHECK(d.Call("DELETE", "/v1/clones/auto-1", "", &body) == 204);
  CHECK_FALSE(ServersRunUnder(store_path + "/clones/"));
  return driver;
}

}  // namespace

TEST_CASE("storage auto picks btrfs on a btrfs mount", "[e2e][storage]") {
  LoopFs fs("btrfs");
  std::string store = StoreOn(fs);
  StorageEnv env("auto", store);
  ZdapdFixture d;
  CHECK(CloneAndQuery(d, store) == "btrfs");
}

TEST_CASE("storage auto picks overlay or copy on the machine's ext4 root", "[e2e][storage]") {
  std::string tmpl = "/var/tmp/zdap-e2e-auto-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  ::chmod(tmpl.c_str(), 0755);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { Shell("umount -l " + dir + "/data/store/clones/* 2>/dev/null; rm -rf " + dir); }
  } cleanup{tmpl};
  std::string out;
  Shell("stat -f -c %T " + tmpl, &out);
  INFO("file system of /var/tmp: " << out);
  REQUIRE(Trim(out) == "ext2/ext3");  // stat's name for ext4; this test is about ext4
  StorageEnv env("auto", "");
  {
    ZdapdFixture d(tmpl + "/data");
    std::string driver = CloneAndQuery(d, tmpl + "/data/store");
    CHECK((driver == "overlay" || driver == "copy"));
  }
}

TEST_CASE("zdapd serves clones with storage reflink on XFS", "[e2e][storage]") {
  LoopFs fs("xfs");
  std::string store = StoreOn(fs);
  StorageEnv env("reflink", store);
  ZdapdFixture d;
  CHECK(CloneAndQuery(d, store) == "reflink");
}

TEST_CASE("zdapd serves clones with storage overlay and copy on ext4", "[e2e][storage]") {
  LoopFs fs("ext4");
  for (const char* driver : {"overlay", "copy"}) {
    DYNAMIC_SECTION(driver) {
      std::string store = StoreOn(fs);
      StorageEnv env(driver, store);
      ZdapdFixture d;
      CHECK(CloneAndQuery(d, store) == driver);
    }
  }
}

TEST_CASE("storage.dataset from the config file reaches the zfs driver") {
  // No zfs module here: a fake `zfs` first on PATH (named as such) records its arguments and
  // answers like zfs does for a dataset that does not exist.
  ZdapdFixture d;
  TempDir bin("fake-zfs");
  std::string calls = bin.path() + "/calls";
  {
    std::ofstream fake(bin.path() + "/zfs");
    fake << "#!/bin/sh\n# fake zfs for this test: records argv, fails like a missing dataset\n"
            "echo \"$*\" >> "
         << calls << "\necho \"cannot open '$5': dataset does not exist\" >&2\nexit 1\n";
  }
  REQUIRE(::chmod((bin.path() + "/zfs").c_str(), 0755) == 0);
  std::string config = bin.path() + "/zdapd.yaml";
  std::ofstream(config) << "storage: {driver: zfs, dataset: tank/zdap}\n";
  std::string out;
  int rc = Shell("PATH=" + bin.path() + ":$PATH " + ProgramPath("apps/zdapd/zdapd") +
                     " list chinook --config " + config + " --config-dir " + d.config_dir() +
                     " --data-dir " + d.data_dir() + " 2>&1",
                 &out);
  INFO(out);
  CHECK(rc != 0);
  CHECK(out.find("tank/zdap") != std::string::npos);
  std::string ran;
  REQUIRE(Shell("cat " + calls, &ran) == 0);
  CHECK(ran == "list -Hp -o name,mountpoint tank/zdap\n");

  // A zfs store without a dataset, and a dataset for another driver, are refused at load.
  std::ofstream(config) << "storage: {driver: zfs}\n";
  out.clear();
  CHECK(Shell(ProgramPath("apps/zdapd/zdapd") + " check-config --config " + config +
                  " --config-dir " + d.config_dir() + " 2>&1",
              &out) != 0);
  CHECK(out.find("needs storage.dataset") != std::string::npos);
  std::ofstream(config) << "storage: {driver: copy, dataset: tank/zdap}\n";
  out.clear();
  CHECK(Shell(ProgramPath("apps/zdapd/zdapd") + " check-config --config " + config +
                  " --config-dir " + d.config_dir() + " 2>&1",
              &out) != 0);
  CHECK(out.find("storage.dataset is for driver zfs only") != std::string::npos);
}

TEST_CASE("zdapd --help names every storage and runtime driver") {
  std::string out;
  REQUIRE(Shell(ProgramPath("apps/zdapd/zdapd") + " --help 2>&1", &out) == 0);
  for (const char* driver :
       {"auto", "btrfs", "reflink", "overlay", "zfs", "copy", "process", "docker"}) {
    CHECK(out.find(driver) != std::string::npos);
  }
}
