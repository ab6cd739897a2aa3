// The storage conformance suite: ONE set of tests, run against every driver (issue 4,
// acceptance 1). Each TEMPLATE_TEST_CASE runs once per environment in storage_env.h.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "storage/driver.h"
#include "storage/storage_checks.h"
#include "storage/storage_env.h"

namespace zdap::storage {
namespace {

using namespace test_checks;  // MustOk, Must, WriteText, ReadText, AllEntries, Names
using zdap::test::BtrfsEnv;
using zdap::test::CopyEnv;
using zdap::test::OverlayEnv;
using zdap::test::ReflinkBtrfsEnv;
using zdap::test::ReflinkXfsEnv;

// Every driver runs every test of the suite.
#define ZDAP_DRIVER_ENVS CopyEnv, BtrfsEnv, ReflinkXfsEnv, ReflinkBtrfsEnv, OverlayEnv

constexpr uid_t kDbUid = 4242;  // an unprivileged "postgres"; needs no passwd entry
constexpr gid_t kDbGid = 4243;

struct stat Lstat(const std::string& path) {
  struct stat st;
  INFO(path);
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

template <typename Env>
std::unique_ptr<Driver> Open(const Env& env) {
  StorageConfig config;
  config.driver = Env::kDriver;
  config.path = env.Root();
  auto driver = Must(OpenStore(config));
  REQUIRE(std::string(driver->name()) == Env::kDriver);
  return driver;
}

struct Listing {
  Names volumes, snapshots, clones;
  bool operator==(const Listing&) const = default;
};

Listing ListAll(const Driver& d) {
  return {Must(d.ListVolumes()), Must(d.ListSnapshots()), Must(d.ListClones())};
}

// A volume sealed into `snapshot`, filled by `fill(volume_path)`.
template <typename Fill>
void MakeSnapshot(Driver& d, const std::string& snapshot, Fill fill) {
  std::string volume = "import-" + std::to_string(std::hash<std::string>{}(snapshot) % 100000);
  std::string path = Must(d.CreateVolume(volume));
  fill(path);
  MustOk(d.SealVolume(volume, snapshot));
}

bool WriteFails(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == EROFS || errno == EPERM || errno == EACCES;
}

TEMPLATE_TEST_CASE("storage: create, seal, clone, destroy, list", "[storage][conformance]",
                   ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  REQUIRE(ListAll(*d) == Listing{});

  std::string vol = Must(d->CreateVolume("chinook-import"));
  CHECK(vol == d->VolumePath("chinook-import"));
  CHECK(vol == env.Root() + "/volumes/chinook-import");
  WriteText(vol + "/PG_VERSION", "15\n");
  CHECK(Must(d->ListVolumes()) == Names{"chinook-import"});

  const std::string snap = "chinook@20261122T030405Z";
  MustOk(d->SealVolume("chinook-import", snap));
  CHECK(Must(d->ListVolumes()).empty());
  CHECK(Must(d->ListSnapshots()) == Names{snap});
  CHECK_FALSE(PathExists(vol));
  CHECK(ReadText(d->SnapshotPath(snap) + "/PG_VERSION") == "15\n");

  std::string c1 = Must(d->Clone(snap, "chinook-7f3a"));
  std::string c2 = Must(d->Clone(snap, "chinook-b2c4"));
  CHECK(c1 == d->ClonePath("chinook-7f3a"));
  CHECK(Must(d->ListClones()) == Names{"chinook-7f3a", "chinook-b2c4"});
  CHECK(ReadText(c1 + "/PG_VERSION") == "15\n");

  CHECK(Must(d->ClonesOf(snap)) == Names{"chinook-7f3a", "chinook-b2c4"});
  Status refused = d->DestroySnapshot(snap);
  CHECK(refused.code() == Code::kConflict);
  CHECK(refused.message().find("chinook-b2c4") != std::string::npos);

  MustOk(d->DestroyClone("chinook-7f3a"));
  CHECK(Must(d->ListClones()) == Names{"chinook-b2c4"});
  CHECK(Must(d->ClonesOf(snap)) == Names{"chinook-b2c4"});
  CHECK(d->DestroySnapshot(snap).code() == Code::kConflict);
  CHECK(ReadText(c2 + "/PG_VERSION") == "15\n");  // siblings untouched
  CHECK(ReadText(d->SnapshotPath(snap) + "/PG_VERSION") == "15\n");

  Must(d->CreateVolume("scratch"));
  MustOk(d->DestroyVolume("scratch"));
  MustOk(d->DestroyClone("chinook-b2c4"));
  MustOk(d->DestroySnapshot(snap));
  CHECK(ListAll(*d) == Listing{});
  // Nothing left behind, not even hidden entries: the three areas are empty, and the
  // directories a driver keeps beside them (.meta, overlay's .overlay) hold no file.
  for (const char* area : {"volumes", "snapshots", "clones"}) {
    INFO(area);
    CHECK(AllEntries(env.Root() + "/" + area).empty());
  }
  Names files_below;
  for (const auto& top : std::filesystem::directory_iterator(env.Root())) {
    if (!top.is_directory()) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(top.path())) {
      if (!e.is_directory()) files_below.push_back(e.path().string());
    }
  }
  CHECK(files_below == Names{});
}

TEMPLATE_TEST_CASE("storage: a write in one clone is invisible in another and in the snapshot",
                   "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  const std::string big(1 << 20, 'x');
  MakeSnapshot(*d, "app@20261122T000000Z", [&](const std::string& v) {
    std::filesystem::create_directories(v + "/base/1");
    WriteText(v + "/base/1/1259", "original");
    WriteText(v + "/base/1/big", big);
    WriteText(v + "/to-delete", "here");
  });
  std::string snap = d->SnapshotPath("app@20261122T000000Z");
  std::string a = Must(d->Clone("app@20261122T000000Z", "app-a"));
  std::string b = Must(d->Clone("app@20261122T000000Z", "app-b"));

  WriteText(a + "/base/1/1259", "changed in a");
  {
    std::ofstream f(a + "/base/1/big", std::ios::binary | std::ios::app);
    f << "more";
  }
  WriteText(a + "/only-in-a", "new");
  REQUIRE(::unlink((a + "/to-delete").c_str()) == 0);

  for (const std::string& other : {b, snap}) {
    INFO(other);
    CHECK(ReadText(other + "/base/1/1259") == "original");
    CHECK(ReadText(other + "/base/1/big") == big);
    CHECK_FALSE(PathExists(other + "/only-in-a"));
    CHECK(ReadText(other + "/to-delete") == "here");
  }
  WriteText(b + "/base/1/1259", "changed in b");
  CHECK(ReadText(a + "/base/1/1259") == "changed in a");
  CHECK(ReadText(snap + "/base/1/1259") == "original");

  if (TestType::kReadOnlySnapshots) {
    CHECK(WriteFails(snap + "/base/1/1259"));
    CHECK(WriteFails(snap + "/new-file"));
  }
}

TEMPLATE_TEST_CASE("storage: clones keep owners, modes, times, links and holes",
                   "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  const off_t sparse_size = off_t{64} << 20;
  const std::string block(4096, 'd');
  bool have_xattr = false;
  MakeSnapshot(*d, "pg@20261122T000000Z", [&](const std::string& v) {
    std::filesystem::create_directories(v + "/base/16384");
    WriteText(v + "/pg_hba.conf", "local all all trust\n");
    WriteText(v + "/base/16384/2619", "rows");
    WriteText(v + "/hard1", "linked");
    REQUIRE(::link((v + "/hard1").c_str(), (v + "/hard2").c_str()) == 0);
    REQUIRE(::symlink("../elsewhere/pg_wal", (v + "/pg_wal").c_str()) == 0);
    REQUIRE(::mkfifo((v + "/fifo").c_str(), 0620) == 0);
    {
      int fd = ::open((v + "/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      REQUIRE(fd >= 0);
      REQUIRE(::ftruncate(fd, sparse_size) == 0);
      REQUIRE(::pwrite(fd, block.data(), block.size(), 0) == 4096);
      REQUIRE(::pwrite(fd, block.data(), block.size(), off_t{32} << 20) == 4096);
      ::close(fd);
    }
    have_xattr = ::setxattr((v + "/pg_hba.conf").c_str(), "user.zdap", "v1", 2, 0) == 0;
    for (const char* rel : {"", "/base", "/base/16384", "/pg_hba.conf", "/base/16384/2619",
                            "/hard1", "/sparse", "/fifo"}) {
      REQUIRE(::chown((v + rel).c_str(), kDbUid, kDbGid) == 0);
    }
    REQUIRE(::lchown((v + "/pg_wal").c_str(), kDbUid, kDbGid) == 0);
    REQUIRE(::chmod(v.c_str(), 0700) == 0);
    REQUIRE(::chmod((v + "/base").c_str(), 02750) == 0);
    REQUIRE(::chmod((v + "/pg_hba.conf").c_str(), 0600) == 0);
    REQUIRE(::chmod((v + "/base/16384/2619").c_str(), 0640) == 0);
    struct timespec old_times[2] = {{1000000000, 123456789}, {1000000000, 123456789}};
    REQUIRE(::utimensat(AT_FDCWD, (v + "/pg_hba.conf").c_str(), old_times, 0) == 0);
    REQUIRE(::utimensat(AT_FDCWD, (v + "/base").c_str(), old_times, 0) == 0);
  });
  std::string snap = d->SnapshotPath("pg@20261122T000000Z");
  std::string c = Must(d->Clone("pg@20261122T000000Z", "pg-1"));

  for (const char* rel : {"", "/base", "/base/16384", "/pg_hba.conf", "/base/16384/2619", "/hard1",
                          "/hard2", "/pg_wal", "/fifo", "/sparse"}) {
    INFO("path " << rel);
    struct stat s = Lstat(snap + rel);
    struct stat k = Lstat(c + rel);
    CHECK(k.st_uid == kDbUid);
    CHECK(k.st_gid == kDbGid);
    CHECK(k.st_mode == s.st_mode);
    CHECK(k.st_size == s.st_size);
    if (!S_ISDIR(s.st_mode) || std::string(rel) == "/base") {
      CHECK(k.st_mtim.tv_sec == s.st_mtim.tv_sec);
      CHECK(k.st_mtim.tv_nsec == s.st_mtim.tv_nsec);
    }
  }
  CHECK((Lstat(c).st_mode & 07777) == 0700);
  CHECK((Lstat(c + "/base").st_mode & 07777) == 02750);
  CHECK(Lstat(c + "/pg_hba.conf").st_mtim.tv_sec == 1000000000);
  CHECK(S_ISFIFO(Lstat(c + "/fifo").st_mode));
  CHECK(Lstat(c + "/hard1").st_ino == Lstat(c + "/hard2").st_ino);
  CHECK(std::filesystem::read_symlink(c + "/pg_wal") == "../elsewhere/pg_wal");

  struct stat sp = Lstat(c + "/sparse");
  CHECK(sp.st_size == sparse_size);
  CHECK(sp.st_blocks * 512 <= (1 << 20));  // 8 KiB of data, not 64 MiB
  std::string content = ReadText(c + "/sparse");
  CHECK(content.substr(0, 4096) == block);
  CHECK(content.substr(size_t{32} << 20, 4096) == block);
  CHECK(content.substr(4096, 4096) == std::string(4096, '\0'));

  if (have_xattr) {
    char value[16] = {};
    CHECK(::getxattr((c + "/pg_hba.conf").c_str(), "user.zdap", value, sizeof value) == 2);
    CHECK(std::string(value) == "v1");
  }
}

TEMPLATE_TEST_CASE("storage: bad names are refused", "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  MakeSnapshot(*d, "s", [](const std::string&) {});
  Must(d->CreateVolume("v"));
  Must(d->Clone("s", "c"));
  const Listing before = ListAll(*d);

  const std::vector<std::string> bad = {"",
                                        ".",
                                        "..",
                                        "a/b",
                                        "../x",
                                        "/abs",
                                        ".hidden",
                                        std::string("a\0b", 3),
                                        std::string(300, 'a'),
                                        "a b",
                                        "a\nb",
                                        "a:b"};
  for (const std::string& name : bad) {
    INFO("name '" << name << "' (" << name.size() << " bytes)");
    CHECK(ValidateVolumeName(name).code() == Code::kInvalidArgument);
    CHECK(d->CreateVolume(name).status().code() == Code::kInvalidArgument);
    CHECK(d->SealVolume(name, "s2").code() == Code::kInvalidArgument);
    CHECK(d->SealVolume("v", name).code() == Code::kInvalidArgument);
    CHECK(d->Clone(name, "c2").status().code() == Code::kInvalidArgument);
    CHECK(d->Clone("s", name).status().code() == Code::kInvalidArgument);
    CHECK(d->DestroyVolume(name).code() == Code::kInvalidArgument);
    CHECK(d->DestroySnapshot(name).code() == Code::kInvalidArgument);
    CHECK(d->DestroyClone(name).code() == Code::kInvalidArgument);
  }
  CHECK(ListAll(*d) == before);
  CHECK_FALSE(PathExists(env.Root() + "/x"));

  for (const std::string& good :
       {std::string("chinook@20261122T030405Z"), std::string("A_b.c-d"), std::string(128, 'z')}) {
    INFO(good);
    CHECK(ValidateVolumeName(good).ok());
  }
  CHECK(Must(d->Clone("s", std::string(128, 'z'))) == d->ClonePath(std::string(128, 'z')));
}

TEMPLATE_TEST_CASE("storage: existing names conflict, missing ones are not found",
                   "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  std::string v = Must(d->CreateVolume("v"));
  WriteText(v + "/marker", "v");
  CHECK(d->CreateVolume("v").status().code() == Code::kConflict);
  CHECK(ReadText(v + "/marker") == "v");  // untouched by the refused create

  MakeSnapshot(*d, "s", [](const std::string& p) { WriteText(p + "/marker", "s"); });
  CHECK(d->SealVolume("v", "s").code() == Code::kConflict);
  CHECK(Must(d->ListVolumes()) == Names{"v"});  // the refused seal kept the volume
  CHECK(ReadText(d->SnapshotPath("s") + "/marker") == "s");

  Must(d->Clone("s", "c"));
  WriteText(d->ClonePath("c") + "/marker", "c");
  CHECK(d->Clone("s", "c").status().code() == Code::kConflict);
  CHECK(ReadText(d->ClonePath("c") + "/marker") == "c");
  CHECK(d->Clone("s", "s").status().code() == Code::kConflict);  // a snapshot's name

  CHECK(d->Clone("missing", "c2").status().code() == Code::kNotFound);
  CHECK(d->SealVolume("missing", "s2").code() == Code::kNotFound);
  CHECK(d->DestroyVolume("missing").code() == Code::kNotFound);
  CHECK(d->DestroySnapshot("missing").code() == Code::kNotFound);
  CHECK(d->DestroyClone("missing").code() == Code::kNotFound);
  CHECK(d->DestroySnapshot("c").code() == Code::kNotFound);  // areas do not mix
  CHECK(d->Clone("s", "c2").ok());
  CHECK(Must(d->ListClones()) == Names{"c", "c2"});
  MustOk(d->DestroyClone("c"));
}

TEMPLATE_TEST_CASE("storage: listing after reopening equals listing before; leftovers recovered",
                   "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  Must(d->CreateVolume("v1"));
  MakeSnapshot(*d, "s1", [](const std::string& p) { WriteText(p + "/f", "1"); });
  Must(d->Clone("s1", "c1"));
  const Listing before = ListAll(*d);
  d.reset();
  d = Open(env);
  CHECK(ListAll(*d) == before);

  // What a crash leaves (store_layout.h): a clone copy in progress (plain directory, and a
  // published-then-renamed one), trash in each area, and a seal past its commit point.
  const std::string root = env.Root();
  std::filesystem::create_directories(root + "/clones/.tmp-c2/base");
  WriteText(root + "/clones/.tmp-c2/base/f", "partial");
  if (!TestType::kClonesAreMounts) {  // a mount point cannot be renamed
    Must(d->Clone("s1", "c9"));
    REQUIRE(::rename((root + "/clones/c9").c_str(), (root + "/clones/.tmp-c9").c_str()) == 0);
  }
  std::filesystem::create_directories(root + "/volumes/.trash-v7-0001/x");
  std::filesystem::create_directories(root + "/snapshots/.trash-s7-0002");
  Must(d->CreateVolume("v3"));
  WriteText(root + "/volumes/v3/f", "3");
  REQUIRE(::rename((root + "/volumes/v3").c_str(), (root + "/snapshots/.sealing-s3").c_str()) == 0);
  CHECK(ListAll(*d) == before);  // hidden entries are never listed

  d.reset();
  d = Open(env);
  Listing after = before;
  after.snapshots = {"s1", "s3"};
  CHECK(ListAll(*d) == after);
  CHECK(ReadText(d->SnapshotPath("s3") + "/f") == "3");
  CHECK(Must(d->ClonesOf("s1")) == Names{"c1"});
  for (const char* area : {"volumes", "snapshots", "clones", ".origins"}) {
    for (const std::string& e : AllEntries(root + "/" + area)) {
      INFO(area << "/" << e);
      CHECK(e[0] != '.');
    }
  }
  if (TestType::kReadOnlySnapshots) CHECK(WriteFails(d->SnapshotPath("s3") + "/f"));
  CHECK(Must(d->Clone("s3", "c3")) == d->ClonePath("c3"));
  CHECK(ReadText(d->ClonePath("c3") + "/f") == "3");
}

TEMPLATE_TEST_CASE("storage: space", "[storage][conformance]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  Space space = Must(d->StoreSpace());
  CHECK(space.total_bytes > 0);
  CHECK(space.free_bytes > 0);
  CHECK(space.free_bytes <= space.total_bytes);
  CHECK(space.used_bytes > 0);
  CHECK(space.used_bytes <= space.total_bytes);
}

// Writes `bytes` of incompressible data and fsyncs, so that every driver has allocated it.
void WriteRandom(const std::string& path, size_t bytes, uint64_t seed) {
  std::string data(bytes, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(&data[i], &x, 8);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  INFO(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

TEMPLATE_TEST_CASE("storage: used bytes per volume count what only that volume holds",
                   "[storage][conformance][space]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  constexpr uint64_t kMiB = 1 << 20;
  std::string v = Must(d->CreateVolume("v"));
  WriteRandom(v + "/seg", 8 * kMiB, 1);
  for (int i = 0; i < 20; ++i) WriteRandom(v + "/small" + std::to_string(i), 8192, 10 + i);
  uint64_t volume_used = Must(d->UsedBytes(Area::kVolume, "v"));
  CHECK(volume_used >= 8 * kMiB);
  CHECK(volume_used < 10 * kMiB);
  MustOk(d->SealVolume("v", "s"));
  CHECK(d->UsedBytes(Area::kVolume, "v").status().code() == Code::kNotFound);
  uint64_t snapshot_used = Must(d->UsedBytes(Area::kSnapshot, "s"));
  CHECK(snapshot_used >= 8 * kMiB);

  std::string c = Must(d->Clone("s", "c"));
  uint64_t fresh = Must(d->UsedBytes(Area::kClone, "c"));
  INFO("fresh clone uses " << fresh << " bytes");
  if (TestType::kCopyOnWrite) {
    CHECK(fresh < kMiB);  // issue 4: a fresh clone costs <= 1 MiB beyond metadata
  } else {
    CHECK(fresh >= 8 * kMiB);  // a full copy
  }
  WriteRandom(c + "/new", 10 * kMiB, 2);
  uint64_t written = Must(d->UsedBytes(Area::kClone, "c"));
  INFO("after writing 10 MiB: " << written << " bytes");
  CHECK(written >= fresh + 10 * kMiB);
  CHECK(written <= fresh + 11 * kMiB);
  CHECK(d->UsedBytes(Area::kClone, "missing").status().code() == Code::kNotFound);
  CHECK(d->UsedBytes(Area::kClone, "../s").status().code() == Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("storage: volume metadata is kept with the volume and goes with it",
                   "[storage][conformance][meta]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  const VolumeMeta import_meta = {{"resource", "chinook"}, {"state", "importing"}};
  Must(d->CreateVolume("chinook@20261122T030405Z"));
  CHECK(Must(d->ReadMeta(Area::kVolume, "chinook@20261122T030405Z")).empty());
  MustOk(d->WriteMeta(Area::kVolume, "chinook@20261122T030405Z", import_meta));
  CHECK(Must(d->ReadMeta(Area::kVolume, "chinook@20261122T030405Z")) == import_meta);
  MustOk(d->SealVolume("chinook@20261122T030405Z", "chinook@20261122T030405Z"));
  CHECK(Must(d->ReadMeta(Area::kSnapshot, "chinook@20261122T030405Z")) == import_meta);
  CHECK(d->ReadMeta(Area::kVolume, "chinook@20261122T030405Z").status().code() == Code::kNotFound);

  std::string c = Must(d->Clone("chinook@20261122T030405Z", "chinook-7f3a"));
  CHECK(Must(d->ReadMeta(Area::kClone, "chinook-7f3a")).empty());
  const VolumeMeta clone_meta = {{"resource", "chinook"},
                                 {"snapshot", "chinook@20261122T030405Z"},
                                 {"owner", "alice"},
                                 {"created_at", "2026-11-22T03:04:05Z"},
                                 {"expires_at", "2026-11-22T11:04:05Z"},
                                 {"port", "6001"},
                                 {"state", "creating"},
                                 {"note", "a = b, c: d"}};
  MustOk(d->WriteMeta(Area::kClone, "chinook-7f3a", clone_meta));
  VolumeMeta ready = clone_meta;
  ready["state"] = "ready";
  ready.erase("note");
  MustOk(d->WriteMeta(Area::kClone, "chinook-7f3a", ready));  // replaces the whole record
  CHECK(Must(d->ReadMeta(Area::kClone, "chinook-7f3a")) == ready);
  // Nothing of it inside the clone's data dir (a database server would see it) or listed.
  CHECK(AllEntries(c) == AllEntries(d->SnapshotPath("chinook@20261122T030405Z")));
  CHECK(Must(d->ListClones()) == Names{"chinook-7f3a"});
  CHECK(Must(d->ListSnapshots()) == Names{"chinook@20261122T030405Z"});

  CHECK(d->WriteMeta(Area::kClone, "missing", ready).code() == Code::kNotFound);
  CHECK(d->ReadMeta(Area::kClone, "missing").status().code() == Code::kNotFound);
  CHECK(d->WriteMeta(Area::kSnapshot, "chinook-7f3a", ready).code() == Code::kNotFound);
  CHECK(d->WriteMeta(Area::kClone, "../x", ready).code() == Code::kInvalidArgument);
  CHECK(d->WriteMeta(Area::kClone, "chinook-7f3a", {{"Bad Key", "x"}}).code() ==
        Code::kInvalidArgument);
  CHECK(d->WriteMeta(Area::kClone, "chinook-7f3a", {{"k", "two\nlines"}}).code() ==
        Code::kInvalidArgument);
  CHECK(d->WriteMeta(Area::kClone, "chinook-7f3a", {{"k", std::string(2000, 'x')}}).code() ==
        Code::kInvalidArgument);
  CHECK(Must(d->ReadMeta(Area::kClone, "chinook-7f3a")) ==
        ready);  // refused writes changed nothing

  // Survives reopening; the listing too.
  const Listing before = ListAll(*d);
  d.reset();
  d = Open(env);
  CHECK(ListAll(*d) == before);
  CHECK(Must(d->ReadMeta(Area::kClone, "chinook-7f3a")) == ready);
  CHECK(Must(d->ReadMeta(Area::kSnapshot, "chinook@20261122T030405Z")) == import_meta);

  // Destroying a volume removes its metadata: a new clone of the same name starts empty.
  MustOk(d->DestroyClone("chinook-7f3a"));
  Must(d->Clone("chinook@20261122T030405Z", "chinook-7f3a"));
  CHECK(Must(d->ReadMeta(Area::kClone, "chinook-7f3a")).empty());
  MustOk(d->DestroyClone("chinook-7f3a"));

  // Orphan records (a crash between destroy and record removal, or mid-write) are pruned.
  const std::string meta_dir = env.Root() + "/.meta/clones";
  WriteText(meta_dir + "/ghost", "state=ready\n");
  WriteText(meta_dir + "/.ghost.tmp-0badf00d", "state=");
  d.reset();
  d = Open(env);
  CHECK(AllEntries(meta_dir).empty());
  CHECK(ListAll(*d) == Listing{{}, {"chinook@20261122T030405Z"}, {}});
  MustOk(d->DestroySnapshot("chinook@20261122T030405Z"));
  CHECK(AllEntries(env.Root() + "/.meta/snapshots").empty());
}

TEMPLATE_TEST_CASE(
    "storage: a process killed at any point of clone and destroy leaves no leftovers",
    "[storage][conformance][crash]", ZDAP_DRIVER_ENVS) {
  TestType env;
  auto d = Open(env);
  const std::string big(2 << 20, 'b');
  MakeSnapshot(*d, "s", [&](const std::string& p) {
    std::filesystem::create_directories(p + "/base");
    for (int i = 0; i < 100; ++i) WriteText(p + "/base/" + std::to_string(i), std::to_string(i));
    WriteText(p + "/big", big);
  });
  d.reset();
  StorageConfig config;
  config.driver = TestType::kDriver;
  config.path = env.Root();
  for (int round = 0; round < 16; ++round) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // the helper: clones and destroys until it is killed
      auto store = OpenStore(config);
      if (!store.ok()) ::_exit(2);
      for (;;) {
        (void)(*store)->Clone("s", "k");
        (void)(*store)->WriteMeta(Area::kClone, "k", {{"owner", "alice"}, {"state", "ready"}});
        (void)(*store)->DestroyClone("k");
      }
    }
    ::usleep(static_cast<useconds_t>(2000 + round * 1500));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("round " << round);
    REQUIRE(WIFSIGNALED(status));

    d = Open(env);  // recovery
    Names clones = Must(d->ListClones());
    CHECK((clones.empty() || clones == Names{"k"}));
    if (!clones.empty()) {  // a published clone is whole
      CHECK(ReadText(d->ClonePath("k") + "/big") == big);
      CHECK(ReadText(d->ClonePath("k") + "/base/99") == "99");
      CHECK(Must(d->ClonesOf("s")) == Names{"k"});
      VolumeMeta meta = Must(d->ReadMeta(Area::kClone, "k"));  // none yet, or all of it
      CHECK((meta.empty() || meta == VolumeMeta{{"owner", "alice"}, {"state", "ready"}}));
      MustOk(d->DestroyClone("k"));
    }
    CHECK(AllEntries(env.Root() + "/.meta/clones").empty());
    for (const char* area : {"volumes", "snapshots", "clones"}) {
      for (const std::string& e : AllEntries(env.Root() + "/" + area)) {
        INFO(area << "/" << e);
        CHECK(e[0] != '.');
      }
    }
    CHECK(AllEntries(env.Root() + "/.origins").empty());
    CHECK(Must(d->ListSnapshots()) == Names{"s"});
    d.reset();
  }
}

TEST_CASE("storage: overlay clones are mounted again after a reboot", "[storage][overlay]") {
  OverlayEnv env;
  auto d = Open(env);
  MakeSnapshot(*d, "s", [](const std::string& p) { WriteText(p + "/f", "snap"); });
  Must(d->Clone("s", "c"));
  WriteText(d->ClonePath("c") + "/f", "clone");
  d.reset();
  REQUIRE(zdap::test::UnmountUnder(env.Root()) == 1);  // what a reboot does
  d = Open(env);
  CHECK(Must(d->ListClones()) == Names{"c"});
  CHECK(ReadText(d->ClonePath("c") + "/f") == "clone");
  CHECK(ReadText(d->SnapshotPath("s") + "/f") == "snap");
  MustOk(d->DestroyClone("c"));
  CHECK(AllEntries(env.Root() + "/.overlay").empty());
}

TEST_CASE("storage: reflink clones share extents", "[storage][xfs]") {
  ReflinkXfsEnv env;
  auto d = Open(env);
  const std::string data(8 << 20, 'r');
  MakeSnapshot(*d, "s", [&](const std::string& p) { WriteText(p + "/seg", data); });
  ::sync();
  Space before = Must(d->StoreSpace());
  for (int i = 0; i < 8; ++i) Must(d->Clone("s", "c" + std::to_string(i)));
  ::sync();
  Space after = Must(d->StoreSpace());
  // Eight full copies would take 64 MiB; shared extents take (almost) nothing.
  int64_t used = static_cast<int64_t>(before.free_bytes) - static_cast<int64_t>(after.free_bytes);
  CHECK(used < (int64_t{8} << 20));
  CHECK(ReadText(d->ClonePath("c7") + "/seg") == data);
}

}  // namespace
}  // namespace zdap::storage
