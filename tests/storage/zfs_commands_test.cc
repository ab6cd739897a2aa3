// "zfs-commands": the zfs driver cannot run here (no zfs module), so these tests pin its exact
// command lines (a scripted runner answers each expected command in order) and its parsing
// of `zfs list -Hp` / `zfs get -Hp` output in the documented format: -H = no header, fields
// separated by one tab; -p = exact numbers (bytes) instead of 1.2G; "-" for an empty value.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/zfs_driver.h"
#include "support/test_env.h"

namespace zdap::storage {
namespace {

// Each step: the command line expected next, and the reply (stdout or an error).
struct Step {
  std::string command;
  Result<std::string> reply;
};

class Script {
 public:
  Script& Expect(std::string command, std::string out = "") {
    steps_.push_back({std::move(command), std::move(out)});
    return *this;
  }
  Script& Fail(std::string command, Status error) {
    steps_.push_back({std::move(command), std::move(error)});
    return *this;
  }
  ZfsRunner Runner() {
    return [this](const std::vector<std::string>& argv) -> Result<std::string> {
      std::string line = fmt::format("{}", fmt::join(argv, " "));
      ran_.push_back(line);
      if (steps_.empty()) return Internal("unexpected command: " + line);
      Step step = std::move(steps_.front());
      steps_.pop_front();
      if (step.command != line) {
        mismatches_.push_back(fmt::format("expected '{}', ran '{}'", step.command, line));
        return Internal("unexpected command: " + line);
      }
      return step.reply;
    };
  }
  void CheckDone() const {
    for (const auto& m : mismatches_) FAIL_CHECK(m);
    INFO("commands run: " << fmt::format("{}", fmt::join(ran_, "\n")));
    CHECK(steps_.empty());
  }

 private:
  std::deque<Step> steps_;
  std::vector<std::string> ran_;
  std::vector<std::string> mismatches_;
};

constexpr const char* kListChildren = "zfs list -Hp -o name -t filesystem -d 1 ";

// Opening a store whose areas exist and that has nothing half-sealed.
void ExpectOpen(Script& s) {
  s.Expect("zfs list -Hp -o name,mountpoint tank/zdap", "tank/zdap\t/var/lib/zdap\n")
      .Expect(std::string(kListChildren) + "tank/zdap",
              "tank/zdap\ntank/zdap/clones\ntank/zdap/snapshots\ntank/zdap/volumes\n")
      .Expect(std::string(kListChildren) + "tank/zdap/snapshots", "tank/zdap/snapshots\n")
      .Expect("zfs list -Hp -o name -t snapshot -r tank/zdap/snapshots", "");
}

std::unique_ptr<Driver> MustOpen(Script& s) {
  auto d = ZfsDriver::Open("tank/zdap", s.Runner());
  INFO(d.status().ToString());
  REQUIRE(d.ok());
  return std::move(d).value();
}

TEST_CASE("zfs-commands: open creates missing areas", "[storage][zfs]") {
  Script s;
  s.Expect("zfs list -Hp -o name,mountpoint tank/zdap", "tank/zdap\t/var/lib/zdap\n")
      .Expect(std::string(kListChildren) + "tank/zdap", "tank/zdap\ntank/zdap/volumes\n")
      .Expect("zfs create tank/zdap/snapshots")
      .Expect("zfs create tank/zdap/clones")
      .Expect(std::string(kListChildren) + "tank/zdap/snapshots", "tank/zdap/snapshots\n")
      .Expect("zfs list -Hp -o name -t snapshot -r tank/zdap/snapshots", "");
  auto d = MustOpen(s);
  CHECK(std::string(d->name()) == "zfs");
  CHECK(d->root() == "/var/lib/zdap");
  CHECK(d->ClonePath("c") == "/var/lib/zdap/clones/c");
  s.CheckDone();
}

TEST_CASE("zfs-commands: create, seal, clone, destroy", "[storage][zfs]") {
  Script s;
  ExpectOpen(s);
  auto d = MustOpen(s);
  s.Expect(
      "zfs create -o mountpoint=/var/lib/zdap/volumes/chinook-import "
      "tank/zdap/volumes/chinook-import");
  CHECK(*d->CreateVolume("chinook-import") == "/var/lib/zdap/volumes/chinook-import");

  // '@' is not allowed in dataset names: stored as ':'; the mountpoint keeps the real name.
  s.Expect(std::string(kListChildren) + "tank/zdap/volumes",
           "tank/zdap/volumes\ntank/zdap/volumes/chinook-import\n")
      .Expect(std::string(kListChildren) + "tank/zdap/snapshots", "tank/zdap/snapshots\n")
      .Expect(
          "zfs rename tank/zdap/volumes/chinook-import "
          "tank/zdap/snapshots/chinook:20261122T030405Z")
      .Expect("zfs set readonly=on tank/zdap/snapshots/chinook:20261122T030405Z")
      .Expect(
          "zfs set mountpoint=/var/lib/zdap/snapshots/chinook@20261122T030405Z "
          "tank/zdap/snapshots/chinook:20261122T030405Z")
      .Expect("zfs snapshot tank/zdap/snapshots/chinook:20261122T030405Z@zdap");
  CHECK(d->SealVolume("chinook-import", "chinook@20261122T030405Z").ok());

  s.Expect(std::string(kListChildren) + "tank/zdap/snapshots",
           "tank/zdap/snapshots\ntank/zdap/snapshots/chinook:20261122T030405Z\n")
      .Expect(
          "zfs clone -o readonly=off -o mountpoint=/var/lib/zdap/clones/chinook-7f3a "
          "tank/zdap/snapshots/chinook:20261122T030405Z@zdap tank/zdap/clones/chinook-7f3a");
  CHECK(*d->Clone("chinook@20261122T030405Z", "chinook-7f3a") ==
        "/var/lib/zdap/clones/chinook-7f3a");

  s.Expect(std::string(kListChildren) + "tank/zdap/snapshots",
           "tank/zdap/snapshots\ntank/zdap/snapshots/chinook:20261122T030405Z\n");
  s.Expect(std::string(kListChildren) + "tank/zdap/snapshots",
           "tank/zdap/snapshots\ntank/zdap/snapshots/chinook:20261122T030405Z\n");
  s.Expect(std::string(kListChildren) + "tank/zdap/volumes", "tank/zdap/volumes\n");
  CHECK(*d->ListSnapshots() == std::vector<std::string>{"chinook@20261122T030405Z"});
  CHECK(d->Clone("chinook@20261122T030405Z", "chinook@20261122T030405Z").status().code() ==
        Code::kConflict);
  CHECK(d->ListVolumes()->empty());

  // A snapshot with clones is refused, naming them (origin from zfs list).
  const std::string origins =
      "tank/zdap/clones\t-\n"
      "tank/zdap/clones/chinook-7f3a\ttank/zdap/snapshots/chinook:20261122T030405Z@zdap\n"
      "tank/zdap/clones/other-1\ttank/zdap/snapshots/other:20261101T000000Z@zdap\n";
  s.Expect("zfs list -Hp -o name,origin -t filesystem -d 1 tank/zdap/clones", origins);
  Status refused = d->DestroySnapshot("chinook@20261122T030405Z");
  CHECK(refused.code() == Code::kConflict);
  CHECK(refused.message().find("chinook-7f3a") != std::string::npos);
  CHECK(refused.message().find("other-1") == std::string::npos);

  s.Expect("zfs destroy tank/zdap/clones/chinook-7f3a");
  CHECK(d->DestroyClone("chinook-7f3a").ok());
  s.Expect("zfs list -Hp -o name,origin -t filesystem -d 1 tank/zdap/clones",
           "tank/zdap/clones\t-\n")
      .Expect("zfs destroy -r tank/zdap/snapshots/chinook:20261122T030405Z");
  CHECK(d->DestroySnapshot("chinook@20261122T030405Z").ok());
  s.Expect("zfs destroy tank/zdap/volumes/scratch");
  CHECK(d->DestroyVolume("scratch").ok());
  s.CheckDone();
}

TEST_CASE("zfs-commands: errors map to codes; names are checked before any command",
          "[storage][zfs]") {
  Script s;
  ExpectOpen(s);
  auto d = MustOpen(s);
  s.Fail("zfs create -o mountpoint=/var/lib/zdap/volumes/v tank/zdap/volumes/v",
         Conflict("cannot create 'tank/zdap/volumes/v': dataset already exists"));
  CHECK(d->CreateVolume("v").status().code() == Code::kConflict);
  s.Fail("zfs destroy tank/zdap/clones/gone",
         NotFound("cannot open 'tank/zdap/clones/gone': dataset does not exist"));
  Status st = d->DestroyClone("gone");
  CHECK(st.code() == Code::kNotFound);
  CHECK(st.message() == "clone 'gone' not found");
  for (const char* bad : {"../x", "a/b", ".hidden", "a b", "x;rm -rf /"}) {
    CHECK(d->CreateVolume(bad).status().code() == Code::kInvalidArgument);
    CHECK(d->DestroyClone(bad).code() == Code::kInvalidArgument);
  }
  s.CheckDone();  // no command ran for the bad names
}

TEST_CASE("zfs-commands: an interrupted seal is finished on open", "[storage][zfs]") {
  Script s;
  s.Expect("zfs list -Hp -o name,mountpoint tank/zdap", "tank/zdap\t/var/lib/zdap\n")
      .Expect(std::string(kListChildren) + "tank/zdap",
              "tank/zdap\ntank/zdap/clones\ntank/zdap/snapshots\ntank/zdap/volumes\n")
      .Expect(std::string(kListChildren) + "tank/zdap/snapshots",
              "tank/zdap/snapshots\ntank/zdap/snapshots/a:20261122T000000Z\n"
              "tank/zdap/snapshots/b:20261122T000000Z\n")
      .Expect("zfs list -Hp -o name -t snapshot -r tank/zdap/snapshots",
              "tank/zdap/snapshots/a:20261122T000000Z@zdap\n")
      .Expect("zfs set readonly=on tank/zdap/snapshots/b:20261122T000000Z")
      .Expect(
          "zfs set mountpoint=/var/lib/zdap/snapshots/b@20261122T000000Z "
          "tank/zdap/snapshots/b:20261122T000000Z")
      .Expect("zfs snapshot tank/zdap/snapshots/b:20261122T000000Z@zdap");
  MustOpen(s);
  s.CheckDone();
}

TEST_CASE("zfs-commands: space from zfs get -Hp", "[storage][zfs]") {
  Script s;
  ExpectOpen(s);
  auto d = MustOpen(s);
  s.Expect("zfs get -Hp -o property,value used,available tank/zdap",
           "used\t3221225472\navailable\t96636764160\n");
  auto space = d->StoreSpace();
  REQUIRE(space.ok());
  CHECK(space->free_bytes == 96636764160u);
  CHECK(space->total_bytes == 96636764160u + 3221225472u);
  CHECK(space->used_bytes == 3221225472u);
  s.CheckDone();

  // Human-readable sizes (no -p) are refused rather than misread.
  CHECK_FALSE(ParseZfsSpace("used\t3.00G\navailable\t90.0G\n").ok());
  CHECK_FALSE(ParseZfsSpace("used\t12\n").ok());
}

TEST_CASE("zfs-commands: volume metadata in zdap: user properties", "[storage][zfs]") {
  Script s;
  ExpectOpen(s);
  auto d = MustOpen(s);
  const std::string get_clone =
      "zfs get -Hp -o property,value -s local all tank/zdap/clones/chinook-7f3a";
  // Local properties of a clone as zfs get prints them (zfs-get(8); user properties are
  // module:property, lowercase), with properties zdap did not set mixed in.
  s.Expect(get_clone,
           "mountpoint\t/var/lib/zdap/clones/chinook-7f3a\n"
           "readonly\toff\n"
           "zdap:owner\talice\n"
           "zdap:port\t6001\n"
           "zdap:state\tcreating\n"
           "other:tag\tx\n");
  auto meta = d->ReadMeta(Area::kClone, "chinook-7f3a");
  REQUIRE(meta.ok());
  CHECK(*meta == VolumeMeta{{"owner", "alice"}, {"port", "6001"}, {"state", "creating"}});

  // Writing replaces the record: dropped keys are inherited (cleared), the rest set at once.
  s.Expect(get_clone, "zdap:owner\talice\nzdap:port\t6001\nzdap:state\tcreating\n")
      .Expect("zfs inherit zdap:port tank/zdap/clones/chinook-7f3a")
      .Expect(
          "zfs set zdap:expires_at=2026-11-22T11:04:05Z zdap:owner=alice zdap:state=ready "
          "tank/zdap/clones/chinook-7f3a");
  CHECK(
      d->WriteMeta(Area::kClone, "chinook-7f3a",
                   {{"owner", "alice"}, {"state", "ready"}, {"expires_at", "2026-11-22T11:04:05Z"}})
          .ok());

  // '@' in a snapshot name becomes ':' in its dataset, as everywhere.
  s.Expect(
      "zfs get -Hp -o property,value -s local all tank/zdap/snapshots/chinook:20261122T030405Z",
      "readonly\ton\nzdap:resource\tchinook\n");
  CHECK(*d->ReadMeta(Area::kSnapshot, "chinook@20261122T030405Z") ==
        VolumeMeta{{"resource", "chinook"}});

  s.Fail("zfs get -Hp -o property,value -s local all tank/zdap/volumes/gone",
         NotFound("cannot open 'tank/zdap/volumes/gone': dataset does not exist"));
  auto gone = d->ReadMeta(Area::kVolume, "gone");
  CHECK(gone.status().code() == Code::kNotFound);
  CHECK(gone.status().message() == "volume 'gone' not found");
  // Bad keys and values are refused before any command runs.
  CHECK(d->WriteMeta(Area::kClone, "c", {{"Owner", "x"}}).code() == Code::kInvalidArgument);
  CHECK(d->WriteMeta(Area::kClone, "c", {{"k", "a\tb"}}).code() == Code::kInvalidArgument);
  CHECK(d->ReadMeta(Area::kClone, "../c").status().code() == Code::kInvalidArgument);
  s.CheckDone();

  CHECK(ParseZfsUserProps("").value().empty());
  CHECK_FALSE(ParseZfsUserProps("zdap:Bad\tx\n").ok());
}

TEST_CASE("zfs-commands: used bytes per volume from zfs get -Hp", "[storage][zfs]") {
  Script s;
  ExpectOpen(s);
  auto d = MustOpen(s);
  s.Expect("zfs get -Hp -o value used tank/zdap/clones/chinook-7f3a", "12288\n");
  auto used = d->UsedBytes(Area::kClone, "chinook-7f3a");
  REQUIRE(used.ok());
  CHECK(*used == 12288u);
  s.Expect("zfs get -Hp -o value used tank/zdap/snapshots/chinook:20261122T030405Z",
           "2147549184\n");
  CHECK(*d->UsedBytes(Area::kSnapshot, "chinook@20261122T030405Z") == 2147549184u);
  s.Fail("zfs get -Hp -o value used tank/zdap/clones/gone",
         NotFound("cannot open 'tank/zdap/clones/gone': dataset does not exist"));
  CHECK(d->UsedBytes(Area::kClone, "gone").status().code() == Code::kNotFound);
  s.CheckDone();

  CHECK_FALSE(ParseZfsBytes("12.0K\n").ok());  // without -p
  CHECK_FALSE(ParseZfsBytes("").ok());
  CHECK_FALSE(ParseZfsBytes("1\n2\n").ok());
}

TEST_CASE("zfs-commands: parsing zfs list -H tables", "[storage][zfs]") {
  // The shape of `zfs list -H -o name,used,avail,refer,mountpoint` in zfs-list(8).
  auto rows = ParseZfsTable(
      "pool\t450K\t457G\t18K\t/pool\n"
      "pool/home\t315K\t457G\t21K\t/export/home\n"
      "pool/home/anne\t18K\t457G\t18K\t/export/home/anne\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1] == std::vector<std::string>{"pool/home", "315K", "457G", "21K", "/export/home"});
  // Empty fields and a missing trailing newline.
  rows = ParseZfsTable("a\t\tb");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == std::vector<std::string>{"a", "", "b"});
  CHECK(ParseZfsTable("").empty());
}

TEST_CASE("zfs-commands: a dataset without mountpoint is refused with what to do",
          "[storage][zfs]") {
  Script s;
  s.Expect("zfs list -Hp -o name,mountpoint tank/zdap", "tank/zdap\tnone\n");
  auto d = ZfsDriver::Open("tank/zdap", s.Runner());
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().find("zfs set mountpoint=") != std::string::npos);
  CHECK(ZfsDriver::Open("", s.Runner()).status().code() == Code::kInvalidArgument);
  CHECK(ZfsDriver::Open("tank/zdap@x", s.Runner()).status().code() == Code::kInvalidArgument);
  s.CheckDone();
}

TEST_CASE("zfs-commands: snapshot streams: tar.zst of the mounted snapshot; no receive yet",
          "[storage][zfs][stream]") {
  // The snapshot's dataset is mounted at <root>/snapshots/<name>: the default sender reads
  // the tree there, with no zfs command.
  zdap::test::TempDir root("zdap-zfs-stream");
  Script s;
  s.Expect("zfs list -Hp -o name,mountpoint tank/zdap", "tank/zdap\t" + root.path() + "\n")
      .Expect(std::string(kListChildren) + "tank/zdap",
              "tank/zdap\ntank/zdap/clones\ntank/zdap/snapshots\ntank/zdap/volumes\n")
      .Expect(std::string(kListChildren) + "tank/zdap/snapshots", "tank/zdap/snapshots\n")
      .Expect("zfs list -Hp -o name -t snapshot -r tank/zdap/snapshots", "");
  auto d = MustOpen(s);
  CHECK(d->stream_formats() == std::vector<std::string>{"tar.zst"});
  std::string snap = root.path() + "/snapshots/app@1";
  std::filesystem::create_directories(snap + "/base");
  std::ofstream(snap + "/base/1259") << "twelve bytes";

  auto sender = d->SendSnapshot("app@1", "tar.zst", "");
  INFO(sender.status().ToString());
  REQUIRE(sender.ok());
  CHECK((*sender)->size_hint() > 12);  // the file's bytes, 1 KiB per entry (space_usage.h)
  CHECK((*sender)->size_hint() <= 12 + 3 * 1024);
  std::string stream;
  char buf[4096];
  ssize_t n;
  while ((n = ::read((*sender)->fd(), buf, sizeof buf)) > 0) stream.append(buf, n);
  CHECK((*sender)->Finish().ok());
  std::string file = root.path() + "/stream.tar.zst";
  std::ofstream(file, std::ios::binary) << stream;
  std::string listing;
  CHECK(zdap::test::Shell("tar --zstd -tvf " + file, &listing) == 0);
  CHECK(listing.find("./base/1259") != std::string::npos);

  CHECK(d->SendSnapshot("app@1", "zfs", "").status().code() == Code::kInvalidArgument);
  CHECK(d->SendSnapshot("app@2", "tar.zst", "").status().code() == Code::kNotFound);
  Status receive = d->ReceiveSnapshot("app@1", "tar.zst").status();
  CHECK(receive.code() == Code::kUnprocessable);
  CHECK(receive.message().find("cannot receive") != std::string::npos);
  s.CheckDone();
}

}  // namespace
}  // namespace zdap::storage
