// The Refresher's contract with a Source (source.h), whatever its kind: a test's own kind of
// source (TestSource below, named so: it stands for the standby and origin-pull sources to
// come) behind the interface, the real parts around it (copy storage on a temp dir, the
// catalog, the journal, a FakeClockEnv for the snapshot stamps). What every refresh does is
// the refresher's: the id, the journal entry, the run dir, the seal, the metadata, the undo
// of a failed build, the job; the source only fills the volume.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "core/env.h"
#include "core/file_util.h"
#include "origin/refresh_record.h"
#include "origin/refresher.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "runtime/runtime.h"
#include "storage/driver.h"
#include "support/test_env.h"

using namespace zdap;
using namespace zdap::origin;

namespace {

// A source of a test's making: its plan and build are the test's functions.
class TestSource : public Source {
 public:
  std::function<Result<SourcePlan>()> plan = [] { return Result<SourcePlan>(SourcePlan{}); };
  std::function<Result<SourceResult>(const SourceRun&)> build;
  const char* kind() const override { return "test"; }
  Result<SourcePlan> Plan() override { return plan(); }
  Result<SourceResult> Build(const SourceRun& run) override { return build(run); }
};

// The parts a refresher needs, real, on a temp dir; the one resource's source is `source`.
class RefresherRig {
 public:
  RefresherRig() : dir_("zdap-refresher"), env_(ParseRfc3339("2030-01-01T00:00:00Z").value()) {
    data_ = dir_.path() + "/data";
    const std::string config = dir_.path() + "/config";
    REQUIRE(MakeDirs(config + "/resources", 0755).ok());
    REQUIRE(MakeDirs(data_ + "/locks", 0700).ok());
    REQUIRE(MakeDirs(data_ + "/run", 0755).ok());
    REQUIRE(MakeDirs(data_ + "/secrets", 0700).ok());
    std::ofstream(config + "/resources/chinook.yaml")
        << "name: chinook\nengine: postgres\nsource:\n  dump: " << test::ChinookDir()
        << "/Chinook_PostgreSql.sql\n  database: chinook\n"
           "credentials: {user: postgres, password: zdap}\nrefresh: {keep: 2}\n";
    resources_ = ResourceSet::Load(config, env_).value();
    storage::StorageConfig sc;
    sc.driver = "copy";
    sc.path = data_ + "/store";
    store_ = storage::OpenStore(sc).value();
    catalog_ = catalog::Catalog::Open(data_ + "/catalog").value();
    journal_ = Journal::Open(data_ + "/journal", env_).value();
    secrets_ = std::make_unique<SecretStore>(env_, data_ + "/secrets");
    runtime_ = std::make_unique<runtime::ProcessRuntime>(std::nullopt, store_->root());
    servers_ = std::make_unique<Servers>(env_, *runtime_, *resources_, *store_, *secrets_,
                                         std::nullopt, data_, "127.0.0.1");
    snapshots_ = std::make_unique<Snapshots>(env_, *resources_, *store_, *catalog_);
    RefresherParts parts{env_,      *resources_, *store_,         *journal_,
                         *servers_, *snapshots_, data_ + "/locks"};
    parts.records_dir = data_ + "/refreshes";
    parts.make_source = [this](const config::Resource& r, const SourceParts& sp) {
      CHECK(r.name == "chinook");
      seen_parts_ = &sp.store;
      return Result<std::unique_ptr<Source>>(std::make_unique<TestSource>());
    };
    refresher_ = Refresher::Make(std::move(parts)).value();
    source_ =
        dynamic_cast<TestSource*>(&refresher_->SourceOf(*resources_->Find("chinook").value()));
    REQUIRE(source_ != nullptr);
    REQUIRE(seen_parts_ == store_.get());
  }

  FakeClockEnv& env() { return env_; }
  storage::Driver& store() { return *store_; }
  Journal& journal() { return *journal_; }
  Snapshots& snapshots() { return *snapshots_; }
  Refresher& refresher() { return *refresher_; }
  TestSource& source() { return *source_; }
  const std::string& data() const { return data_; }
  std::vector<std::string> SnapshotIds() {
    std::vector<std::string> ids;
    auto snaps = snapshots_->List("chinook");
    REQUIRE(snaps.ok());
    for (const auto& s : *snaps) ids.push_back(s.id);
    return ids;
  }

 private:
  test::TempDir dir_;
  FakeClockEnv env_;
  std::string data_;
  std::unique_ptr<ResourceSet> resources_;
  std::unique_ptr<storage::Driver> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<Servers> servers_;
  std::unique_ptr<Snapshots> snapshots_;
  std::unique_ptr<Refresher> refresher_;
  TestSource* source_ = nullptr;
  const storage::Driver* seen_parts_ = nullptr;
};

// A build that fills the volume with one file saying `what`.
std::function<Result<SourceResult>(const SourceRun&)> Writes(RefresherRig& t,
                                                             const std::string& what,
                                                             engine::CloneLock lock) {
  return [&t, what, lock](const SourceRun& run) -> Result<SourceResult> {
    // The run dir is made, empty, before the build, and is the refresher's to remove.
    CHECK(std::filesystem::is_directory(run.run_dir));
    CHECK(std::filesystem::is_empty(run.run_dir));
    CHECK(run.label == "import-chinook");
    ZDAP_ASSIGN_OR_RETURN(std::string vol, t.store().CreateVolume(run.snapshot));
    std::ofstream(vol + "/data") << what;
    SourceResult r;
    r.clone_lock = lock;
    return r;
  };
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("refresher: a source's volume becomes the snapshot, stamped, with its metadata") {
  RefresherRig t;
  t.source().build = Writes(t, "first", engine::CloneLock::kNoPassword);
  auto id = t.refresher().Refresh("chinook");
  REQUIRE(id.ok());
  CHECK(*id == "chinook@20300101T000000Z");  // the refresher's stamp, on the env's clock
  CHECK(t.SnapshotIds() == std::vector<std::string>{*id});
  CHECK(ReadAll(t.store().SnapshotPath(*id) + "/data") == "first");
  CHECK(t.snapshots().FreshCloneLock(*id) == engine::CloneLock::kNoPassword);
  CHECK(t.journal().Pending().empty());
  CHECK_FALSE(std::filesystem::exists(t.data() + "/run/import-chinook"));
  CHECK_FALSE(t.refresher().Running("chinook"));

  // Two more: `refresh.keep: 2` prunes the oldest; a second within the same second of the
  // (unmoving) clock takes the next second's stamp rather than wait.
  t.source().build = Writes(t, "second", engine::CloneLock::kConfig);
  auto second = t.refresher().Refresh("chinook");
  REQUIRE(second.ok());
  CHECK(*second == "chinook@20300101T000001Z");
  CHECK(t.snapshots().FreshCloneLock(*second) == engine::CloneLock::kConfig);
  t.env().Advance(std::chrono::hours(1));
  auto third = t.refresher().Refresh("chinook");
  REQUIRE(third.ok());
  CHECK(*third == "chinook@20300101T010000Z");
  CHECK(t.SnapshotIds() == std::vector<std::string>{*third, *second});
}

TEST_CASE("refresher: a failed build leaves nothing behind and keeps the previous snapshot") {
  RefresherRig t;
  t.source().build = Writes(t, "good", engine::CloneLock::kConfig);
  auto good = t.refresher().Refresh("chinook");
  REQUIRE(good.ok());
  t.env().Advance(std::chrono::minutes(5));

  std::string half;
  t.source().build = [&](const SourceRun& run) -> Result<SourceResult> {
    ZDAP_ASSIGN_OR_RETURN(half, t.store().CreateVolume(run.snapshot));
    std::ofstream(half + "/data") << "half";
    std::ofstream(run.run_dir + "/log") << "the source's own log";
    return Unavailable("the upstream went away; try again later");
  };
  auto failed = t.refresher().Refresh("chinook");
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message().find("refresh chinook") != std::string::npos);
  CHECK(failed.status().message().find("the upstream went away") != std::string::npos);
  REQUIRE_FALSE(half.empty());
  CHECK_FALSE(std::filesystem::exists(half));  // the volume is the refresher's to remove
  CHECK(t.store().ListVolumes().value().empty());
  CHECK_FALSE(std::filesystem::exists(t.data() + "/run/import-chinook"));
  CHECK(t.journal().Pending().empty());
  CHECK(t.SnapshotIds() == std::vector<std::string>{*good});
  CHECK(ReadAll(t.store().SnapshotPath(*good) + "/data") == "good");
}

TEST_CASE("refresher: a source with nothing new ends the refresh at the snapshot it names") {
  RefresherRig t;
  t.source().build = Writes(t, "only", engine::CloneLock::kConfig);
  auto only = t.refresher().Refresh("chinook");
  REQUIRE(only.ok());
  bool built = false;
  t.source().plan = [&]() -> Result<SourcePlan> {
    SourcePlan p;
    p.nothing_new = true;
    p.existing = *only;
    return p;
  };
  t.source().build = [&](const SourceRun&) -> Result<SourceResult> {
    built = true;
    return SourceResult{};
  };
  t.env().Advance(std::chrono::minutes(1));
  auto again = t.refresher().Refresh("chinook");
  REQUIRE(again.ok());
  CHECK(*again == *only);
  CHECK_FALSE(built);
  CHECK(t.SnapshotIds() == std::vector<std::string>{*only});

  // A source that keeps upstream's id (a pull from another origin): the snapshot has it.
  t.source().plan = [] {
    SourcePlan p;
    p.id = "chinook@20291231T235900Z";
    return Result<SourcePlan>(p);
  };
  t.source().build = Writes(t, "pulled", engine::CloneLock::kConfig);
  auto pulled = t.refresher().Refresh("chinook");
  REQUIRE(pulled.ok());
  CHECK(*pulled == "chinook@20291231T235900Z");
  CHECK(ReadAll(t.store().SnapshotPath(*pulled) + "/data") == "pulled");
}

TEST_CASE("refresher: a job runs the source on its own thread; one refresh at a time") {
  RefresherRig t;
  // Holds the build until opened; opened at the latest when the test ends (before the rig's
  // refresher joins the job's thread), so that a failed check cannot hang the test.
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void Open() {
      std::lock_guard lock(mu);
      open = true;
      cv.notify_all();
    }
    ~Gate() { Open(); }
  } gate;
  bool had_job = false;
  // Runs on the job's thread: no Catch2 assertion here, only what the test checks after.
  t.source().build = [&](const SourceRun& run) -> Result<SourceResult> {
    std::unique_lock lock(gate.mu);
    had_job = run.job != nullptr;
    gate.cv.wait(lock, [&] { return gate.open; });
    ZDAP_ASSIGN_OR_RETURN(std::string vol, t.store().CreateVolume(run.snapshot));
    std::ofstream(vol + "/data") << "job";
    return SourceResult{};
  };
  auto job = t.refresher().Start("chinook");
  REQUIRE(job.ok());
  CHECK(job->resource == "chinook");
  // While it runs, a second refresh of the resource is refused, naming the job.
  auto second = t.refresher().Start("chinook");
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == Code::kConflict);
  CHECK(second.status().message().find(job->id) != std::string::npos);
  gate.Open();
  JobInfo done;
  for (int i = 0; i < 500; ++i) {  // bounded: 10 s in polls of 20 ms
    done = t.refresher().GetJob(job->id).value();
    if (done.state == JobState::kDone || done.state == JobState::kFailed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(done.error);
  REQUIRE(done.state == JobState::kDone);
  CHECK(had_job);
  CHECK(done.snapshot == "chinook@20300101T000000Z");
  CHECK(done.phase == "snapshot");  // the refresher's seal comes last
  CHECK(t.SnapshotIds() == std::vector<std::string>{done.snapshot});
}

TEST_CASE("refresher: how the last refresh ended is kept, across a restart") {
  RefresherRig t;
  CHECK_FALSE(t.refresher().LastOutcome("chinook"));  // never ran here
  t.source().build = Writes(t, "good", engine::CloneLock::kConfig);
  auto good = t.refresher().Refresh("chinook");
  REQUIRE(good.ok());
  auto last = t.refresher().LastOutcome("chinook");
  REQUIRE(last);
  CHECK(last->ok);
  CHECK(last->snapshot == *good);
  CHECK(last->finished_at == t.env().Now());
  CHECK(last->error.empty());

  t.env().Advance(std::chrono::hours(3));
  t.source().build = [&](const SourceRun&) -> Result<SourceResult> {
    return Unavailable("pg_restore: error: <img src=x onerror=alert(1)>\nline two");
  };
  REQUIRE_FALSE(t.refresher().Refresh("chinook").ok());
  last = t.refresher().LastOutcome("chinook");
  REQUIRE(last);
  CHECK_FALSE(last->ok);
  CHECK(last->finished_at == t.env().Now());
  CHECK(last->error.find("<img src=x onerror=alert(1)> line two") != std::string::npos);
  CHECK(last->error.find('\n') == std::string::npos);

  // The record is a 0600 file of its own: another RefreshRecords on the directory (zdapd
  // after a restart) reads the same outcome back.
  const std::string file = t.data() + "/refreshes/chinook";
  CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  auto reopened = RefreshRecords::Open(t.env(), t.data() + "/refreshes");
  REQUIRE(reopened.ok());
  auto again = (*reopened)->Last("chinook");
  REQUIRE(again);
  CHECK_FALSE(again->ok);
  CHECK(again->finished_at == last->finished_at);
  CHECK(again->error == last->error);
  CHECK_FALSE((*reopened)->Last("other"));

  // A damaged record is no record (logged), not an error of the status that shows it.
  std::ofstream(file, std::ios::trunc) << "state=maybe\n";
  auto damaged = RefreshRecords::Open(t.env(), t.data() + "/refreshes");
  REQUIRE(damaged.ok());
  CHECK_FALSE((*damaged)->Last("chinook"));
  std::ofstream(file, std::ios::trunc) << std::string(10000, 'x');
  CHECK_FALSE((*RefreshRecords::Open(t.env(), t.data() + "/refreshes"))->Last("chinook"));
}

TEST_CASE("refresher: an error line is kept as one line, cut between characters") {
  CHECK(OneLine("a\tb\r\nc\x7f") == "a b  c ");
  CHECK(OneLine("short", 10) == "short");
  CHECK(OneLine("0123456789abc", 10) == "0123456...");
  // "é" is two bytes: a cut that would split it backs up before it.
  const std::string accents = "aaaaaa\xc3\xa9\xc3\xa9x";  // 11 bytes; byte 7 is inside "é"
  std::string cut = OneLine(accents, 10);
  CHECK(cut == "aaaaaa...");
  CHECK(OneLine(std::string(5000, 'e')).size() == kMaxErrorBytes);
}

TEST_CASE("refresher: the source's data_as_of is kept with the snapshot and listed") {
  RefresherRig t;
  const SystemTime as_of = ParseRfc3339("2029-12-31T22:00:00Z").value();
  t.source().build = [&](const SourceRun& run) -> Result<SourceResult> {
    ZDAP_RETURN_IF_ERROR(t.store().CreateVolume(run.snapshot).status());
    SourceResult r;
    r.data_as_of = as_of;
    return r;
  };
  auto id = t.refresher().Refresh("chinook");
  REQUIRE(id.ok());
  CHECK(t.snapshots().DataAsOf(*id) == as_of);
  auto listed = t.snapshots().List("chinook");
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().data_as_of == as_of);

  // A source that cannot say: unset, not the epoch.
  t.env().Advance(std::chrono::minutes(1));
  t.source().build = Writes(t, "unknown", engine::CloneLock::kConfig);
  auto unknown = t.refresher().Refresh("chinook");
  REQUIRE(unknown.ok());
  CHECK_FALSE(t.snapshots().DataAsOf(*unknown));
}
