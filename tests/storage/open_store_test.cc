// OpenStore: driver choice, `auto` probing and the errors that say what to do.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "core/file_util.h"
#include "storage/driver.h"
#include "storage/loop_fs.h"
#include "support/test_env.h"

namespace zdap::storage {
namespace {

using zdap::test::SharedLoopFs;
using zdap::test::TempDir;

Result<std::unique_ptr<Driver>> OpenWith(const std::string& driver, const std::string& path) {
  StorageConfig config;
  config.driver = driver;
  config.path = path;
  return OpenStore(config);
}

TEST_CASE("OpenStore: auto picks overlay on ext4 (as root) and creates the layout", "[storage]") {
  std::string root = SharedLoopFs("ext4").NewDir("open") + "/a/b/store";
  auto d = OpenWith("auto", root);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  CHECK(std::string((*d)->name()) == "overlay");
  CHECK((*d)->root() == root);
  for (const char* area : {"volumes", "snapshots", "clones"}) CHECK(PathExists(root + "/" + area));
  // No probe leftovers.
  CHECK(std::distance(std::filesystem::directory_iterator(root + "/clones"),
                      std::filesystem::directory_iterator()) == 0);
}

TEST_CASE("OpenStore: auto keeps the driver a store was made with", "[storage]") {
  TempDir dir("zdap-open");
  REQUIRE(OpenWith("copy", dir.path()).ok());
  auto d = OpenWith("auto", dir.path());
  REQUIRE(d.ok());
  CHECK(std::string((*d)->name()) == "copy");
}

TEST_CASE("OpenStore: auto picks reflink on XFS", "[storage][xfs]") {
  auto d = OpenWith("auto", SharedLoopFs("xfs").NewDir("open"));
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  CHECK(std::string((*d)->name()) == "reflink");
}

TEST_CASE("OpenStore: reflink on ext4 says what to do", "[storage]") {
  auto d = OpenWith("reflink", SharedLoopFs("ext4").NewDir("open"));
  REQUIRE_FALSE(d.ok());
  INFO(d.status().message());
  CHECK(d.status().code() == Code::kInvalidArgument);
  CHECK(d.status().message().find("reflink=1") != std::string::npos);
  CHECK(d.status().message().find("FICLONE fails on ext4") != std::string::npos);
}

TEST_CASE("OpenStore: auto picks btrfs on btrfs", "[storage][btrfs]") {
  std::string root = SharedLoopFs("btrfs").NewDir("open") + "/store/";
  auto d = OpenWith("auto", root);
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  CHECK(std::string((*d)->name()) == "btrfs");
  CHECK((*d)->root().back() != '/');
}

TEST_CASE("OpenStore: copy works on btrfs too", "[storage][btrfs]") {
  auto d = OpenWith("copy", SharedLoopFs("btrfs").NewDir("open"));
  REQUIRE(d.ok());
  CHECK(std::string((*d)->name()) == "copy");
}

TEST_CASE("OpenStore: btrfs on a non-btrfs path says what to do", "[storage]") {
  TempDir dir("zdap-open");
  auto d = OpenWith("btrfs", dir.path());
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kInvalidArgument);
  const std::string& m = d.status().message();
  INFO(m);
  CHECK(m.find("needs a btrfs file system") != std::string::npos);
  CHECK(m.find("ext4") != std::string::npos);
  CHECK(m.find("mkfs.btrfs") != std::string::npos);
  CHECK(m.find("driver auto or copy") != std::string::npos);
}

TEST_CASE("OpenStore: unknown driver and empty path are refused", "[storage]") {
  TempDir dir("zdap-open");
  auto d = OpenWith("lvm", dir.path());
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kInvalidArgument);
  INFO(d.status().message());
  CHECK(d.status().message().find("'lvm' is not known") != std::string::npos);
  CHECK(d.status().message().find("auto, btrfs, reflink, overlay, zfs, copy") != std::string::npos);
  CHECK_FALSE(PathExists(dir.path() + "/volumes"));

  auto e = OpenWith("auto", "");
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace zdap::storage
