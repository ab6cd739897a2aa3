// Snapshot streams (driver.h, issue 23) on real file systems: btrfs send/receive between two
// btrfs file systems, full and incremental; tar.zst from btrfs into reflink (XFS), copy and
// btrfs stores; and what is left (nothing) when a stream is cut, garbled, hostile, dropped
// half way or interrupted by a crash.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/subprocess.h"
#include "core/unique_fd.h"
#include "storage/driver.h"
#include "storage/loop_fs.h"
#include "storage/storage_checks.h"
#include "support/test_env.h"

namespace zdap::storage {
namespace {

using namespace test_checks;  // MustOk, Must, WriteText, ReadText, AllEntries, Names
using zdap::test::LoopFs;
using zdap::test::SharedLoopFs;
using zdap::test::Shell;
using zdap::test::TempDir;

constexpr uid_t kDbUid = 1234;  // an unprivileged database user; needs no passwd entry
constexpr gid_t kDbGid = 1235;
constexpr off_t kSparseSize = 16 << 20;

// A receiver's child that exits early turns the test's next write into EPIPE, not a SIGPIPE
// that would end the test program (zdapd's writers must do the same).
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string ShellOk(const std::string& command) {
  std::string out;
  int rc = Shell(command, &out);
  INFO(command << "\n" << out);
  REQUIRE(rc == 0);
  return out;
}

std::unique_ptr<Driver> OpenStoreAt(const std::string& driver, const std::string& root) {
  StorageConfig config;
  config.driver = driver;
  config.path = root;
  auto d = Must(OpenStore(config));
  REQUIRE(std::string(d->name()) == driver);
  return d;
}

// What a database data directory holds, in small: owned by the database user, 0700, files
// of several kinds, a sparse file, a hard link, a symlink, an xattr, a fifo.
void FillTree(const std::string& v) {
  std::filesystem::create_directories(v + "/base/1");
  std::filesystem::create_directories(v + "/empty");
  WriteText(v + "/PG_VERSION", "15\n");
  std::string data;
  std::mt19937 rng(7);
  for (int i = 0; i < 300000; ++i) data += static_cast<char>('a' + rng() % 26);
  WriteText(v + "/base/1/1259", data);
  {
    UniqueFd fd(::open((v + "/base/1/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fd.valid());
    std::string block(4096, 's');
    REQUIRE(::pwrite(fd.get(), block.data(), block.size(), 0) == 4096);
    REQUIRE(::pwrite(fd.get(), block.data(), block.size(), kSparseSize / 2) == 4096);
    REQUIRE(::ftruncate(fd.get(), kSparseSize) == 0);
  }
  REQUIRE(::link((v + "/base/1/1259").c_str(), (v + "/base/1/1259.link").c_str()) == 0);
  REQUIRE(::symlink("base/1", (v + "/pg_wal").c_str()) == 0);
  REQUIRE(::mkfifo((v + "/fifo").c_str(), 0600) == 0);
  REQUIRE(::setxattr((v + "/PG_VERSION").c_str(), "user.zdap", "42", 2, 0) == 0);
  for (const char* rel : {"", "/base", "/base/1", "/base/1/1259", "/base/1/sparse", "/PG_VERSION",
                          "/empty", "/fifo"}) {
    REQUIRE(::chown((v + rel).c_str(), kDbUid, kDbGid) == 0);
  }
  REQUIRE(::lchown((v + "/pg_wal").c_str(), kDbUid, kDbGid) == 0);
  REQUIRE(::chmod(v.c_str(), 0700) == 0);
  REQUIRE(::chmod((v + "/base/1/1259").c_str(), 0600) == 0);
  REQUIRE(::chmod((v + "/PG_VERSION").c_str(), 0640) == 0);
  REQUIRE(::chmod((v + "/empty").c_str(), 0750) == 0);
  // Times in the past, so that a receiver that does not restore them shows.
  struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  REQUIRE(::utimensat(AT_FDCWD, (v + "/PG_VERSION").c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

// One line per entry of the tree at `root` (root included): path, type and mode, owner,
// links, size, mtime, and content, symlink target or xattr. Equal descriptions, equal trees.
std::string DescribeTree(const std::string& root) {
  std::map<std::string, std::string> lines;
  auto describe = [&](const std::string& rel) {
    std::string path = root + rel;
    struct stat st;
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    std::string line = fmt::format("mode={:o} owner={}:{}", st.st_mode, st.st_uid, st.st_gid);
    if (!S_ISDIR(st.st_mode)) line += fmt::format(" links={}", st.st_nlink);
    if (S_ISREG(st.st_mode)) {
      line +=
          fmt::format(" size={} mtime={}.{:09}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
      std::string content = ReadText(path);
      line += fmt::format(" hash={:x}", std::hash<std::string>{}(content));
    } else if (S_ISLNK(st.st_mode)) {
      line += " -> " + std::filesystem::read_symlink(path).string();
    }
    char value[64];
    ssize_t n = ::lgetxattr(path.c_str(), "user.zdap", value, sizeof value);
    if (n >= 0) line += " user.zdap=" + std::string(value, static_cast<size_t>(n));
    lines[rel.empty() ? "." : rel] = line;
  };
  describe("");
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    describe(e.path().string().substr(root.size()));
  }
  std::string out;
  for (const auto& [rel, line] : lines) out += rel + " " + line + "\n";
  return out;
}

// Reads a sender to EOF and finishes it.
std::string ReadAll(SnapshotSender& sender) {
  std::string out;
  std::vector<char> buf(1 << 16);
  for (;;) {
    ssize_t n = ::read(sender.fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n >= 0);
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  MustOk(sender.Finish());
  return out;
}

// Writes `data` into a receiver; false if the child stopped reading (EPIPE).
bool WriteAll(SnapshotReceiver& receiver, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(receiver.fd(), data.data(), std::min<size_t>(data.size(), 1 << 16));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EPIPE) return false;
    REQUIRE(n > 0);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The whole stream of `snapshot` from `from`, then received into volume `volume` of `to`.
// Returns the stream's size.
size_t Transfer(Driver& from, const std::string& snapshot, const std::string& base, Driver& to,
                const std::string& volume, const std::string& format) {
  auto sender = Must(from.SendSnapshot(snapshot, format, base));
  auto receiver = Must(to.ReceiveSnapshot(volume, format));
  // Moved as the daemon will: a piece read, a piece written.
  std::vector<char> buf(1 << 16);
  size_t total = 0;
  for (;;) {
    ssize_t n = ::read(sender->fd(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n >= 0);
    if (n == 0) break;
    total += static_cast<size_t>(n);
    REQUIRE(WriteAll(*receiver, std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  MustOk(sender->Finish());
  MustOk(receiver->Finish());
  return total;
}

// `btrfs subvolume show` field, e.g. "Received UUID" or "UUID".
std::string SubvolumeField(const std::string& path, const std::string& field) {
  std::istringstream out(ShellOk("btrfs subvolume show '" + path + "'"));
  std::string line;
  while (std::getline(out, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(0, key.find_first_not_of(" \t"));
    if (key != field) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  FAIL("no field '" << field << "' for " << path);
  return "";
}

// The store holds nothing in volumes/, not even hidden entries.
void CheckNoVolumes(const Driver& d) {
  INFO(d.root());
  CHECK(AllEntries(d.root() + "/volumes") == Names{});
}

uint64_t AllocatedBytesOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

const std::string kSnap1 = "app@20261122T030405Z";
const std::string kSnap2 = "app@20261123T030405Z";

TEST_CASE("stream: btrfs to btrfs, full then incremental on top of the sealed base",
          "[storage][stream]") {
  auto sender = OpenStoreAt("btrfs", SharedLoopFs("btrfs").NewDir("send"));
  // Another file system, as on another host: the base of the increment can only be found by
  // the received UUID of what the first stream made.
  LoopFs other("btrfs", uint64_t{512} << 20);
  auto receiver = OpenStoreAt("btrfs", other.NewDir("recv"));
  CHECK(sender->stream_formats() == Names{"btrfs", "tar.zst"});

  FillTree(Must(sender->CreateVolume("import")));
  MustOk(sender->SealVolume("import", kSnap1));
  std::string snap1 = sender->SnapshotPath(kSnap1);

  auto probe = Must(sender->SendSnapshot(kSnap1, "btrfs", ""));
  // Bytes of files: the 300000-byte file once (the hard link is the same inode), the sparse
  // file's apparent size, PG_VERSION; and 1 KiB for each of the tree's few entries.
  const uint64_t file_bytes = 300000 + kSparseSize + 3;
  CHECK(probe->size_hint() > file_bytes);
  CHECK(probe->size_hint() <= file_bytes + 16 * 1024);
  probe.reset();  // dropped before EOF: the child is killed and reaped

  size_t full = Transfer(*sender, kSnap1, "", *receiver, kSnap1, "btrfs");
  CHECK(Must(receiver->ListVolumes()) == Names{kSnap1});
  std::string received = receiver->VolumePath(kSnap1);
  CHECK(SubvolumeField(received, "Flags") == "readonly");
  CHECK(DescribeTree(received) == DescribeTree(snap1));
  CHECK(AllocatedBytesOf(received + "/base/1/sparse") < 1 << 20);  // holes stayed holes
  MustOk(receiver->SealVolume(kSnap1, kSnap1));
  CHECK(Must(receiver->ListVolumes()).empty());
  std::string base = receiver->SnapshotPath(kSnap1);
  CHECK(SubvolumeField(base, "Flags") == "readonly");
  // Sealing made it writable to move it and read-only again: the received UUID (the
  // sender's UUID, by which the next increment finds its base) is still there.
  CHECK(SubvolumeField(base, "Received UUID") == SubvolumeField(snap1, "UUID"));
  CHECK(DescribeTree(base) == DescribeTree(snap1));

  // The next snapshot: a clone of the first, changed a little, snapshotted.
  std::string clone = Must(sender->Clone(kSnap1, "app-next"));
  {
    std::ofstream f(clone + "/base/1/1259", std::ios::binary | std::ios::app);
    f << "appended";
  }
  WriteText(clone + "/base/1/16384", "a new relation");
  REQUIRE(::unlink((clone + "/fifo").c_str()) == 0);
  MustOk(sender->SnapshotClone("app-next", kSnap2));
  MustOk(sender->DestroyClone("app-next"));

  auto inc_probe = Must(sender->SendSnapshot(kSnap2, "btrfs", kSnap1));
  CHECK(inc_probe->size_hint() == 0);
  inc_probe.reset();
  size_t incremental = Transfer(*sender, kSnap2, kSnap1, *receiver, kSnap2, "btrfs");
  WARN(fmt::format("btrfs stream of {}: full {} bytes, incremental on {} {} bytes", kSnap2, full,
                   kSnap1, incremental));
  CHECK(incremental * 10 < full);
  MustOk(receiver->SealVolume(kSnap2, kSnap2));
  std::string snap2 = sender->SnapshotPath(kSnap2);
  std::string got2 = receiver->SnapshotPath(kSnap2);
  CHECK(DescribeTree(got2) == DescribeTree(snap2));
  CHECK(ReadText(got2 + "/base/1/16384") == "a new relation");
  CHECK(SubvolumeField(got2, "Received UUID") == SubvolumeField(snap2, "UUID"));
  CHECK(SubvolumeField(got2, "Parent UUID") == SubvolumeField(base, "UUID"));
  CHECK(SubvolumeField(got2, "Flags") == "readonly");
  CHECK(Must(receiver->ListSnapshots()) == Names{kSnap1, kSnap2});
  CheckNoVolumes(*receiver);

  // The received snapshots are snapshots like any: cloned, destroyed.
  std::string c = Must(receiver->Clone(kSnap2, "app-c"));
  CHECK(ReadText(c + "/PG_VERSION") == "15\n");
  MustOk(receiver->DestroyClone("app-c"));
  MustOk(receiver->DestroySnapshot(kSnap2));
  MustOk(receiver->DestroySnapshot(kSnap1));
}

TEST_CASE("stream: tar.zst from btrfs into reflink (XFS), copy, overlay and btrfs stores",
          "[storage][stream]") {
  auto sender = OpenStoreAt("btrfs", SharedLoopFs("btrfs").NewDir("send"));
  FillTree(Must(sender->CreateVolume("import")));
  MustOk(sender->SealVolume("import", kSnap1));
  std::string snap = sender->SnapshotPath(kSnap1);
  std::string expected = DescribeTree(snap);
  CHECK(expected.find("user.zdap=42") != std::string::npos);
  CHECK(expected.find("1259.link mode=100600 owner=1234:1235 links=2") != std::string::npos);

  TempDir copy_dir("zdap-stream-copy");
  struct Target {
    std::string driver;
    std::string root;
  };
  for (const Target& t : {Target{"reflink", SharedLoopFs("xfs").NewDir("recv")},
                          Target{"copy", copy_dir.path() + "/store"},
                          Target{"overlay", SharedLoopFs("ext4").NewDir("recv")},
                          Target{"btrfs", SharedLoopFs("btrfs").NewDir("recv")}}) {
    SECTION(t.driver) {
      auto receiver = OpenStoreAt(t.driver, t.root);
      CHECK(receiver->stream_formats() ==
            (t.driver == "btrfs" ? Names{"btrfs", "tar.zst"} : Names{"tar.zst"}));
      size_t bytes = Transfer(*sender, kSnap1, "", *receiver, kSnap1, "tar.zst");
      WARN(fmt::format("tar.zst stream of {} into {}: {} bytes", kSnap1, t.driver, bytes));
      std::string got = receiver->VolumePath(kSnap1);
      CHECK(DescribeTree(got) == expected);
      CHECK(AllocatedBytesOf(got + "/base/1/sparse") < 1 << 20);
      if (t.driver == "btrfs") CHECK(SubvolumeField(got, "Name") == kSnap1);  // a subvolume
      MustOk(receiver->SealVolume(kSnap1, kSnap1));
      CHECK(DescribeTree(receiver->SnapshotPath(kSnap1)) == expected);
      std::string c = Must(receiver->Clone(kSnap1, "app-c"));
      CHECK(ReadText(c + "/base/1/1259").size() == 300000);
      MustOk(receiver->DestroyClone("app-c"));
      CheckNoVolumes(*receiver);
      zdap::test::UnmountUnder(t.root);
    }
  }
}

// A stream of kSnap1 from a fresh btrfs store, in `format`.
std::string MakeStream(const std::string& format) {
  auto sender = OpenStoreAt("btrfs", SharedLoopFs("btrfs").NewDir("send"));
  FillTree(Must(sender->CreateVolume("import")));
  MustOk(sender->SealVolume("import", kSnap1));
  auto s = Must(sender->SendSnapshot(kSnap1, format, ""));
  return ReadAll(*s);
}

struct Case {
  std::string format;
  std::string driver;
};
const Case kCases[] = {{"btrfs", "btrfs"}, {"tar.zst", "btrfs"}, {"tar.zst", "copy"}};

std::string StoreRoot(const std::string& driver, TempDir& dir) {
  return driver == "btrfs" ? SharedLoopFs("btrfs").NewDir("recv") : dir.path() + "/store";
}

TEST_CASE("stream: a receiver dropped half way leaves nothing", "[storage][stream]") {
  for (const Case& c : kCases) {
    SECTION(c.format + " into " + c.driver) {
      std::string stream = MakeStream(c.format);
      TempDir dir("zdap-stream");
      auto d = OpenStoreAt(c.driver, StoreRoot(c.driver, dir));
      {
        auto receiver = Must(d->ReceiveSnapshot(kSnap1, c.format));
        // The name is taken while it runs.
        CHECK(d->ReceiveSnapshot(kSnap1, c.format).status().code() == Code::kConflict);
        CHECK(WriteAll(*receiver, std::string_view(stream).substr(0, stream.size() / 2)));
        CHECK(AllEntries(d->root() + "/volumes") == Names{".recv-" + kSnap1});
        CHECK(Must(d->ListVolumes()).empty());  // out of sight until published
      }
      CheckNoVolumes(*d);
      // The name is free again: a whole stream goes in.
      auto receiver = Must(d->ReceiveSnapshot(kSnap1, c.format));
      REQUIRE(WriteAll(*receiver, stream));
      MustOk(receiver->Finish());
      CHECK(Must(d->ListVolumes()) == Names{kSnap1});
      CHECK(AllEntries(d->root() + "/volumes") == Names{kSnap1});
    }
  }
}

TEST_CASE("stream: a cut or garbled stream fails with the child's words and leaves nothing",
          "[storage][stream]") {
  for (const Case& c : kCases) {
    SECTION(c.format + " into " + c.driver) {
      std::string stream = MakeStream(c.format);
      std::string garbage(64 * 1024, '\0');
      std::mt19937 rng(1);
      for (char& ch : garbage) ch = static_cast<char>(rng());
      REQUIRE(stream.size() > 20 + garbage.size());
      std::string garbled = stream.substr(0, 20) + garbage + stream.substr(20 + garbage.size());
      struct Bad {
        const char* what;
        std::string bytes;
      };
      TempDir dir("zdap-stream");
      auto d = OpenStoreAt(c.driver, StoreRoot(c.driver, dir));
      for (const Bad& bad : {Bad{"cut", stream.substr(0, stream.size() / 2)},
                             Bad{"garbage", garbage}, Bad{"garbled", garbled}, Bad{"empty", ""}}) {
        INFO(bad.what);
        auto receiver = Must(d->ReceiveSnapshot(kSnap1, c.format));
        (void)WriteAll(*receiver, bad.bytes);  // the child may give up before the end
        Status st = receiver->Finish();
        INFO(st.ToString());
        CHECK(st.code() == Code::kIoError);
        // Which command failed, how, and what it said.
        if (c.format == "btrfs") {
          CHECK(st.message().find("btrfs -q receive -C -e") != std::string::npos);
          CHECK(st.message().find("ERROR: ") != std::string::npos);
        } else {
          CHECK(st.message().find("tar --extract") != std::string::npos);
          CHECK(st.message().find("tar: ") != std::string::npos);
        }
        CHECK(st.message().find("exited with status") != std::string::npos);
        CheckNoVolumes(*d);
      }
    }
  }
}

TEST_CASE("stream: a hostile tar cannot write outside the volume", "[storage][stream]") {
  TempDir dir("zdap-stream-hostile");
  std::string outside = dir.path() + "/outside";
  REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
  auto d = OpenStoreAt("copy", dir.path() + "/store");
  std::string volumes = d->root() + "/volumes";
  // Members that try every way out GNU tar knows of: '..' and absolute names, a symlink
  // (absolute, then relative) followed by a file through it, a hard link to a file outside.
  std::string script = dir.path() + "/make.py";
  WriteText(script, fmt::format(R"(import io, sys, tarfile
def add(t, name, data=b'x', kind=tarfile.REGTYPE, link=''):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    else:
        t.addfile(info)
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    add(t, './ok', b'fine')
    add(t, '../escape-dotdot')
    add(t, '../../escape-dotdot2')
    add(t, '{outside}/abs')
    add(t, 'abslink', tarfile.SYMTYPE, link='{outside}')
    add(t, 'abslink/through-abs')
    add(t, 'rellink', tarfile.SYMTYPE, link='../../../outside')
    add(t, 'rellink/through-rel')
    add(t, 'deep/../../escape-deep')
    add(t, 'hard', tarfile.LNKTYPE, link='{outside}/target')
    add(t, 'self', tarfile.SYMTYPE, link='.')
    add(t, 'self/self/ok2', b'ok2')
)",
                                fmt::arg("outside", outside)));
  WriteText(outside + "/target", "do not touch");
  std::string tar = dir.path() + "/hostile.tar";
  ShellOk(fmt::format("python3 '{}' '{}' && zstd -q -f '{}' -o '{}.zst'", script, tar, tar, tar));
  std::string stream = ReadText(tar + ".zst");

  auto receiver = Must(d->ReceiveSnapshot(kSnap1, "tar.zst"));
  CHECK(WriteAll(*receiver, stream));
  Status st = receiver->Finish();
  INFO(st.ToString());
  // tar skips the '..' members, extracts the rest inside, and exits 2 for what it skipped or
  // could not do: the receive fails and its volume goes.
  CHECK(st.code() == Code::kIoError);
  CHECK(st.message().find("Member name contains '..'") != std::string::npos);
  CHECK(AllEntries(outside) == Names{"target"});
  CHECK(ReadText(outside + "/target") == "do not touch");
  CHECK(AllEntries(d->root()) ==
        Names{".driver", ".meta", ".origins", "clones", "snapshots", "volumes"});
  CHECK(AllEntries(dir.path()) ==
        Names{"hostile.tar", "hostile.tar.zst", "make.py", "outside", "store"});
  CheckNoVolumes(*d);

  // A device node: tar makes it (root may), the receive refuses it.
  std::string tree = dir.path() + "/tree";
  REQUIRE(::mkdir(tree.c_str(), 0700) == 0);
  REQUIRE(::mknod((tree + "/disk").c_str(), S_IFBLK | 0600, ::makedev(7, 0)) == 0);
  ShellOk(fmt::format("tar --create --zstd -C '{}' -f '{}/dev.tar.zst' .", tree, dir.path()));
  auto dev_receiver = Must(d->ReceiveSnapshot(kSnap1, "tar.zst"));
  CHECK(WriteAll(*dev_receiver, ReadText(dir.path() + "/dev.tar.zst")));
  st = dev_receiver->Finish();
  INFO(st.ToString());
  CHECK(st.code() == Code::kUnprocessable);
  CHECK(st.message().find("device node (disk)") != std::string::npos);
  CheckNoVolumes(*d);
}

TEST_CASE("stream: opening a store removes what a crash left mid-receive", "[storage][stream]") {
  std::string stream = MakeStream("btrfs");
  std::string root = SharedLoopFs("btrfs").NewDir("recv");
  auto d = OpenStoreAt("btrfs", root);
  std::string volumes = root + "/volumes";
  // What a kill -9 of zdapd leaves: btrfs receive's partial subvolume in its .recv- dir...
  std::string recv_dir = volumes + "/.recv-" + kSnap1;
  REQUIRE(::mkdir(recv_dir.c_str(), 0700) == 0);
  std::string cut = root + "/../cut-" + std::to_string(::getpid());
  WriteText(cut, stream.substr(0, stream.size() / 2));
  std::string out;
  CHECK(Shell(fmt::format("btrfs receive -e '{}' < '{}'", recv_dir, cut), &out) != 0);
  ::unlink(cut.c_str());
  CHECK(AllEntries(recv_dir) == Names{kSnap1});
  CHECK(SubvolumeField(recv_dir + "/" + kSnap1, "Name") == kSnap1);
  // ...and a tar receive's subvolume, half filled.
  auto tar_receiver = Must(d->ReceiveSnapshot("other", "tar.zst"));
  std::string tar_stream = MakeStream("tar.zst");
  CHECK(WriteAll(*tar_receiver, std::string_view(tar_stream).substr(0, tar_stream.size() / 2)));
  // The crash: the receiver's child dies and its removal never runs. A copy of the
  // half-made subvolume stands in for it (the receiver removes its own when dropped).
  ShellOk(fmt::format("btrfs subvolume snapshot '{}/.recv-other' '{}/.recv-crashed' >/dev/null",
                      volumes, volumes));
  tar_receiver.reset();
  CHECK(AllEntries(volumes) == Names{".recv-app@20261122T030405Z", ".recv-crashed"});
  d.reset();

  d = OpenStoreAt("btrfs", root);
  CheckNoVolumes(*d);
  CHECK(Must(d->ListVolumes()).empty());
  // The names are free.
  auto receiver = Must(d->ReceiveSnapshot(kSnap1, "btrfs"));
  REQUIRE(WriteAll(*receiver, stream));
  MustOk(receiver->Finish());
  CHECK(Must(d->ListVolumes()) == Names{kSnap1});

  // The same for a copy store's plain .recv- directory.
  TempDir dir("zdap-stream-crash");
  auto copy = OpenStoreAt("copy", dir.path() + "/store");
  std::string leftover = dir.path() + "/store/volumes/.recv-" + kSnap1;
  std::filesystem::create_directories(leftover + "/base/1");
  WriteText(leftover + "/base/1/1259", "half");
  copy.reset();
  copy = OpenStoreAt("copy", dir.path() + "/store");
  CheckNoVolumes(*copy);
}

TEST_CASE("stream: refusals", "[storage][stream]") {
  auto d = OpenStoreAt("btrfs", SharedLoopFs("btrfs").NewDir("refuse"));
  FillTree(Must(d->CreateVolume("import")));
  MustOk(d->SealVolume("import", kSnap1));
  Must(d->CreateVolume("taken"));

  // Formats.
  CHECK(d->SendSnapshot(kSnap1, "zfs", "").status().code() == Code::kInvalidArgument);
  CHECK(d->ReceiveSnapshot("new", "zfs").status().code() == Code::kInvalidArgument);
  CHECK(d->ReceiveSnapshot("new", "").status().code() == Code::kInvalidArgument);
  Status tar_base = d->SendSnapshot(kSnap1, "tar.zst", kSnap1).status();
  CHECK(tar_base.code() == Code::kInvalidArgument);
  CHECK(tar_base.message().find("no increments") != std::string::npos);
  // Names.
  CHECK(d->SendSnapshot("../x", "btrfs", "").status().code() == Code::kInvalidArgument);
  CHECK(d->ReceiveSnapshot(".recv-x", "btrfs").status().code() == Code::kInvalidArgument);
  CHECK(d->SendSnapshot(kSnap1, "btrfs", kSnap1).status().code() == Code::kInvalidArgument);
  // Missing snapshot or base.
  for (const char* format : {"btrfs", "tar.zst"}) {
    INFO(format);
    Status missing = d->SendSnapshot("nope", format, "").status();
    CHECK(missing.code() == Code::kNotFound);
    CHECK(missing.message() == "snapshot 'nope' not found");
  }
  Status no_base = d->SendSnapshot(kSnap1, "btrfs", "nope").status();
  CHECK(no_base.code() == Code::kNotFound);
  CHECK(no_base.message() == "base snapshot 'nope' not found");
  // A volume is not a snapshot.
  CHECK(d->SendSnapshot("taken", "btrfs", "").status().code() == Code::kNotFound);
  // Existing volume.
  for (const char* format : {"btrfs", "tar.zst"}) {
    INFO(format);
    Status taken = d->ReceiveSnapshot("taken", format).status();
    CHECK(taken.code() == Code::kConflict);
    CHECK(taken.message() == "volume 'taken' already exists");
  }
  CHECK(AllEntries(d->root() + "/volumes") == Names{"taken"});

  // A btrfs stream of another snapshot than the volume's name says.
  auto sender = Must(d->SendSnapshot(kSnap1, "btrfs", ""));
  std::string stream = ReadAll(*sender);
  auto other = OpenStoreAt("btrfs", SharedLoopFs("btrfs").NewDir("recv"));
  auto receiver = Must(other->ReceiveSnapshot("app@20990101T000000Z", "btrfs"));
  CHECK(WriteAll(*receiver, stream));
  Status wrong = receiver->Finish();
  INFO(wrong.ToString());
  CHECK(wrong.code() == Code::kIoError);
  CHECK(wrong.message().find("made 'app@20261122T030405Z', not one subvolume named "
                             "'app@20990101T000000Z'") != std::string::npos);
  CheckNoVolumes(*other);

  // A volume that appears while the stream is received (the caller serialises names, but
  // the publishing rename never replaces).
  auto late = Must(other->ReceiveSnapshot(kSnap1, "btrfs"));
  CHECK(WriteAll(*late, stream));
  Must(other->CreateVolume(kSnap1));
  Status conflict = late->Finish();
  INFO(conflict.ToString());
  CHECK(conflict.code() == Code::kConflict);
  CHECK(AllEntries(other->root() + "/volumes") == Names{kSnap1});
}

TEST_CASE("stream: children get their stdin and stdout from the caller and nothing else",
          "[storage][stream]") {
  int leaked[2];
  REQUIRE(::pipe(leaked) == 0);  // without O_CLOEXEC, on purpose
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "ls /proc/self/fd; read line; echo \"read $line\"; echo oops >&2"};
  int in[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::write(in[1], "hello\n", 6) == 6);
  ::close(in[1]);
  options.stdin_fd = in[0];
  options.stdout_fd = out[1];
  auto run = Must(Run(options));
  ::close(in[0]);
  ::close(out[1]);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  ::close(leaked[0]);
  ::close(leaked[1]);
  CHECK(run.ok());
  // ls's own directory descriptor is 3; nothing of the parent's beyond 0, 1, 2.
  CHECK(got == "0\n1\n2\n3\nread hello\n");
  CHECK(run.output == "oops\n");  // stderr alone is captured

  SpawnOptions both;
  both.argv = {"/bin/true"};
  both.stdin_fd = 0;
  both.stdin_path = "/dev/null";
  CHECK(Run(both).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace zdap::storage
