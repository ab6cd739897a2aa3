// The origin's timed work, running, on a fake calendar clock: cron refreshes, ttl expiry, idle
// expiry and pool refill inside an Origin with StartTimedWork, exactly as zdapd runs them.
// Real parts: a btrfs loop file system, the process runtime, PostgreSQL 15 servers and the
// Chinook dump. Only calendar time is fake (FakeClockEnv): the servers are real, so waiting on
// them takes real time, bounded, in polls of 20 ms.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/env.h"
#include "core/subprocess.h"
#include "origin/origin.h"
#include "storage/loop_fs.h"
#include "support/test_env.h"
#include "support/test_ports.h"

using namespace zdap;
using namespace std::chrono_literals;

namespace {

SystemTime Utc(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

// Polls `done` every 20 ms until it holds or `limit` (real time) has passed.
bool WaitFor(std::chrono::seconds limit, const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// psql's tuples-only answer in *out (replaced, not appended to).
int Psql(int port, const std::string& password, const std::string& sql, std::string* out) {
  out->clear();
  return test::Shell("PGPASSWORD='" + password +
                         "' PGCONNECT_TIMEOUT=10 psql -X -A -t -q -h 127.0.0.1 -p " +
                         std::to_string(port) + " -U postgres -d chinook -c \"" + sql + "\"",
                     out);
}

bool Running(pid_t pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

// An origin on its own btrfs directory with one Chinook resource (`extra` YAML appended),
// opened on a FakeClockEnv. Stops its timed work and destroys its clones at the end.
// What the origin told its observer, as "what id reason actor" lines.
class Recorder : public origin::OriginObserver {
 public:
  void CloneCreated(const catalog::CloneRecord& c, const std::string& actor) override {
    Add("created " + c.id + " - " + actor);
  }
  void CloneDestroyed(const catalog::CloneRecord& c, origin::DestroyReason reason,
                      const std::string& actor) override {
    Add("destroyed " + c.id + " " + origin::DestroyReasonName(reason) + " " + actor);
  }
  void PoolExhausted(const std::string& resource) override { Add("pool.exhausted " + resource); }
  void ExpirySwept(SystemTime) override { ++sweeps; }
  std::vector<std::string> Told() {
    std::lock_guard lock(mu_);
    return told_;
  }
  bool Has(const std::string& line) {
    auto t = Told();
    return std::find(t.begin(), t.end(), line) != t.end();
  }
  std::atomic<int> sweeps{0};

 private:
  void Add(std::string line) {
    std::lock_guard lock(mu_);
    told_.push_back(std::move(line));
  }
  std::mutex mu_;
  std::vector<std::string> told_;
};

class TimedOrigin {
 public:
  // `extra`: more top-level keys of the resource; `source_extra`: more keys of its source.
  explicit TimedOrigin(const std::string& extra, SystemTime start = Utc("2030-01-01T00:00:30Z"),
                       const std::string& source_extra = "")
      : config_dir_("zdap-timed"), env_(start) {
    test::LoopFs& fs = test::SharedLoopFs("btrfs");
    // The database servers run unprivileged: they must be able to enter the data dir.
    ::chmod(std::filesystem::path(fs.mount_point()).parent_path().c_str(), 0755);
    test::Shell("mkdir -p " + config_dir_.path() + "/resources");
    std::ofstream(config_dir_.path() + "/resources/chinook.yaml")
        << "name: chinook\nengine: postgres\nsource:\n  dump: " << test::ChinookDir()
        << "/Chinook_PostgreSql.sql\n  database: chinook\n"
        << source_extra << "credentials: {user: postgres, password: zdap}\n"
        << extra;
    ::chmod(config_dir_.path().c_str(), 0755);
    cfg_.config_dir = config_dir_.path();
    cfg_.data_dir = fs.NewDir("timed");
    cfg_.storage_driver = "btrfs";
    cfg_.clone_port_first = ports_.first();
    cfg_.clone_port_last = ports_.last();
    auto o = origin::Origin::Open(cfg_, &env_);
    if (!o.ok()) FAIL(o.status().message());
    origin_ = std::move(o).value();
    origin_->SetObserver(&told_);
    REQUIRE(origin_->Recover().ok());
  }
  ~TimedOrigin() {
    origin_->StopTimedWork();
    for (const auto& c : origin_->clones().List(origin::DaemonCaller(), true)) {
      (void)origin_->clones().Destroy(c.id, origin::DaemonCaller());
    }
  }

  origin::Origin& o() { return *origin_; }
  Recorder& told() { return told_; }
  FakeClockEnv& env() { return env_; }
  const config::DaemonConfig& config() const { return cfg_; }

  // Moves the fake clock and waits until the timed work has completed a pass at the new time.
  void AdvanceAndSettle(std::chrono::seconds by) {
    env_.Advance(by);
    SystemTime target = env_.Now();
    REQUIRE(WaitFor(60s, [&] { return origin_->timed_progress().last_pass >= target; }));
  }
  // Waits until the timed work has completed a pass that started after this call (a kick).
  void SettleAfterKick(uint64_t passes_before) {
    REQUIRE(WaitFor(120s, [&] { return origin_->timed_progress().passes > passes_before; }));
  }

  std::string NewestSnapshot() {
    auto snaps = origin_->snapshots().List("chinook");
    REQUIRE(snaps.ok());
    return snaps->empty() ? "" : snaps->front().id;
  }

  origin::CloneView Create(const std::string& name, bool is_protected = false) {
    origin::CreateCloneRequest req;
    req.resource = "chinook";
    req.name = name;
    req.is_protected = is_protected;
    auto made = origin_->clones().Create(req, origin::Caller{"alice", false});
    if (!made.ok()) FAIL(made.status().message());
    return *made;
  }

  bool Exists(const std::string& id) {
    return origin_->clones().Get(id, origin::DaemonCaller()).ok();
  }

 private:
  test::TempDir config_dir_;
  test::PortBlock ports_;
  FakeClockEnv env_;
  config::DaemonConfig cfg_;
  Recorder told_;  // outlives the origin
  std::unique_ptr<origin::Origin> origin_;
};

// The clone's server, port and volume are gone.
void CheckGone(TimedOrigin& t, const std::string& id, int port, const std::string& volume) {
  INFO("clone " << id);
  CHECK_FALSE(t.Exists(id));
  CHECK(test::PortBindable(port));
  CHECK_FALSE(std::filesystem::exists(volume));
  CHECK_FALSE(std::filesystem::exists(t.config().data_dir + "/secrets/" + id));
}

class LocalTime {
 public:
  LocalTime() {
    ::setenv("TZ", "UTC0", 1);
    ::tzset();
  }
  ~LocalTime() {
    ::unsetenv("TZ");
    ::tzset();
  }
};

}  // namespace

TEST_CASE("timed work: a cron refresh starts when the fake clock reaches its time, not before") {
  LocalTime utc;  // cron times are local time
  TimedOrigin t("refresh: {cron: \"*/5 * * * *\", keep: 2}\n");
  REQUIRE(t.o().StartTimedWork().ok());
  t.AdvanceAndSettle(0s);

  CHECK(t.o().NextRefresh("chinook") == Utc("2030-01-01T00:05:00Z"));
  CHECK_FALSE(t.o().refresher().LastOutcome("chinook"));

  // 00:04:59: one second early. No job, no snapshot.
  t.AdvanceAndSettle(269s);
  CHECK(t.o().refresher().Jobs().empty());
  CHECK(t.NewestSnapshot().empty());

  // 00:05:00: due. The job runs on its own thread; its snapshot is stamped with the fake time.
  t.AdvanceAndSettle(1s);
  auto jobs = t.o().refresher().Jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].resource == "chinook");
  CHECK(jobs[0].created_at == Utc("2030-01-01T00:05:00Z"));
  auto finished = [&](const std::string& id) {
    auto job = t.o().refresher().GetJob(id);
    return job.ok() &&
           (job->state == origin::JobState::kDone || job->state == origin::JobState::kFailed);
  };
  REQUIRE(WaitFor(300s, [&] { return finished(jobs[0].id); }));
  auto done = t.o().refresher().GetJob(jobs[0].id);
  REQUIRE(done.ok());
  INFO(done->error);
  REQUIRE(done->state == origin::JobState::kDone);
  CHECK(done->snapshot == "chinook@20300101T000500Z");
  CHECK(t.NewestSnapshot() == "chinook@20300101T000500Z");
  // What the Origin page shows: the next due time moved on, and how this one ended.
  CHECK(t.o().NextRefresh("chinook") == Utc("2030-01-01T00:10:00Z"));
  auto last = t.o().refresher().LastOutcome("chinook");
  REQUIRE(last);
  CHECK(last->ok);
  CHECK(last->snapshot == "chinook@20300101T000500Z");

  // Not again until 00:10:00.
  t.AdvanceAndSettle(299s);
  CHECK(t.o().refresher().Jobs().size() == 1);
  t.AdvanceAndSettle(1s);
  CHECK(t.o().refresher().Jobs().size() == 2);
  REQUIRE(WaitFor(300s, [&] { return t.NewestSnapshot() == "chinook@20300101T001000Z"; }));
}

TEST_CASE(
    "timed work: a clone is destroyed when the fake clock passes expires_at; a protected "
    "one stays") {
  TimedOrigin t("clone:\n  ttl: 1h\n");
  REQUIRE(t.o().refresher().Refresh("chinook").ok());
  origin::CloneView brief = t.Create("brief");
  origin::CloneView kept = t.Create("kept", /*is_protected=*/true);
  REQUIRE(brief.expires_at);
  CHECK(*brief.expires_at == t.env().Now() + 1h);
  auto brief_pid = [&] {
    std::string pid;
    test::Shell("head -1 " + t.config().data_dir + "/store/clones/brief/postmaster.pid", &pid);
    return static_cast<pid_t>(std::atol(pid.c_str()));
  }();
  REQUIRE(Running(brief_pid));
  REQUIRE(t.o().StartTimedWork().ok());
  t.AdvanceAndSettle(0s);

  // One second before its time both stay.
  t.AdvanceAndSettle(3599s);
  CHECK(t.Exists("brief"));
  CHECK(t.Exists("kept"));
  std::string out;
  CHECK(Psql(brief.port, brief.password, "SELECT count(*) FROM invoice_line", &out) == 0);
  CHECK(out == "2240\n");

  // At expires_at the sweep destroys it: record, server, port, volume and secret.
  t.AdvanceAndSettle(1s);
  CheckGone(t, "brief", brief.port, t.config().data_dir + "/store/clones/brief");
  CHECK(WaitFor(10s, [&] { return !Running(brief_pid); }));
  // The observer heard of both creates, then of the expiry (by the origin itself), once each
  // sweep.
  CHECK(t.told().Told() == std::vector<std::string>{"created brief - alice", "created kept - alice",
                                                    "destroyed brief expiry zdapd"});
  CHECK(t.told().sweeps.load() >= 3);
  // Protected: still there a year later, and it answers.
  t.AdvanceAndSettle(std::chrono::hours(24 * 365));
  REQUIRE(t.Exists("kept"));
  CHECK(Psql(kept.port, kept.password, "SELECT count(*) FROM invoice_line", &out) == 0);
  CHECK(out == "2240\n");
}

TEST_CASE(
    "timed work: a clone nobody connects to is destroyed after idle_timeout; one with an "
    "open session stays") {
  TimedOrigin t("clone:\n  idle_timeout: 60s\n");
  REQUIRE(t.o().refresher().Refresh("chinook").ok());
  origin::CloneView quiet = t.Create("quiet");
  origin::CloneView busy = t.Create("busy");
  // One psql session held open on "busy" (bounded: pg_sleep ends it, and it is killed at the
  // end of the test).
  SpawnOptions session;
  session.argv = {"psql",
                  "-X",
                  "-q",
                  "-h",
                  "127.0.0.1",
                  "-p",
                  std::to_string(busy.port),
                  "-U",
                  "postgres",
                  "-d",
                  "chinook",
                  "-c",
                  "SELECT pg_sleep(600)"};
  session.env = {"PGPASSWORD=" + busy.password};
  session.inherit_env = true;
  session.output_path = "/dev/null";
  auto held = Subprocess::Spawn(session);
  REQUIRE(held.ok());
  struct Reap {
    Subprocess& p;
    ~Reap() {
      p.Signal(SIGKILL);
      (void)p.Wait();
    }
  } reap{*held};
  std::string out;
  REQUIRE(WaitFor(30s, [&] {
    return Psql(busy.port, busy.password,
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'",
                &out) == 0 &&
           out == "1\n";
  }));

  REQUIRE(t.o().StartTimedWork().ok());
  t.AdvanceAndSettle(0s);  // the first probe of each: the idle clock starts
  t.AdvanceAndSettle(59s);
  CHECK(t.Exists("quiet"));
  CHECK(t.Exists("busy"));
  t.AdvanceAndSettle(1s);
  CheckGone(t, "quiet", quiet.port, t.config().data_dir + "/store/clones/quiet");
  REQUIRE(t.Exists("busy"));
  CHECK(t.told().Has("destroyed quiet idle zdapd"));
  // Long after, with its session still open, "busy" is not idle.
  t.AdvanceAndSettle(600s);
  CHECK(t.Exists("busy"));
}

TEST_CASE("timed work: pool.min 2 fills to 2; a claim takes one and the pool refills to 2") {
  TimedOrigin t("clone:\n  ttl: 1h\npool: {min: 2, max: 2}\n");
  REQUIRE(t.o().refresher().Refresh("chinook").ok());
  const config::Resource& res = **t.o().resources().Find("chinook");
  CHECK(t.o().pools().Ready("chinook") == 0);
  // The pool is empty before the timed work fills it: a claim now makes a clone, and says so.
  auto made = t.o().pools().Claim("chinook", std::nullopt, origin::Caller{"bob", false});
  REQUIRE(made.ok());
  CHECK_FALSE(made->from_pool);
  // Told: the pool had none, and bob got a clone made for him.
  CHECK(t.told().Told() ==
        std::vector<std::string>{"pool.exhausted chinook", "created " + made->clone.id + " - bob"});
  CHECK(made->clone.owner == "bob");
  CHECK_FALSE(made->clone.pooled);
  CHECK_FALSE(made->clone.password.empty());

  REQUIRE(t.o().StartTimedWork().ok());
  t.AdvanceAndSettle(0s);  // the first pass makes both, one after the other
  origin::PoolCounts counts = t.o().pools().CountsOf(res);
  CHECK(counts.fresh_ready == 2);
  CHECK(counts.making == 0);
  std::set<std::string> pooled;
  for (const auto& c : t.o().clones().List(origin::DaemonCaller(), true)) {
    if (c.pooled) pooled.insert(c.id);
    // An admin's view of a clone it does not own (a pool clone: nobody's yet) carries no
    // password, in the field or in the URI.
    INFO(c.id << ": " << c.uri);
    std::string secret;
    REQUIRE(test::Shell("cat " + t.config().data_dir + "/secrets/" + c.id, &secret) == 0);
    REQUIRE(secret.size() >= 16);
    CHECK(c.password.empty());
    CHECK(c.uri.find(secret) == std::string::npos);
    CHECK(c.uri.rfind("postgres://postgres@", 0) == 0);
  }
  REQUIRE(pooled.size() == 2);

  // A claim takes one of them (no time passes on the fake clock: the kick runs the pass).
  uint64_t before = t.o().timed_progress().passes;
  auto claimed = t.o().pools().Claim("chinook", 30min, origin::Caller{"alice", false});
  REQUIRE(claimed.ok());
  CHECK(claimed->from_pool);
  CHECK(pooled.count(claimed->clone.id) == 1);
  CHECK(claimed->clone.owner == "alice");
  REQUIRE(claimed->clone.expires_at);
  CHECK(*claimed->clone.expires_at == t.env().Now() + 30min);
  std::string out;
  CHECK(Psql(claimed->clone.port, claimed->clone.password, "SELECT count(*) FROM invoice_line",
             &out) == 0);
  CHECK(out == "2240\n");
  t.SettleAfterKick(before);
  REQUIRE(WaitFor(120s, [&] { return t.o().pools().Ready("chinook") == 2; }));
  std::set<std::string> now;
  for (const auto& c : t.o().clones().List(origin::DaemonCaller(), true)) {
    if (c.pooled) now.insert(c.id);
  }
  CHECK(now.size() == 2);
  CHECK(now.count(claimed->clone.id) == 0);
  // Pool clones being made are nobody's: only the two claims were told, as creates.
  CHECK(t.told().Told() == std::vector<std::string>{"pool.exhausted chinook",
                                                    "created " + made->clone.id + " - bob",
                                                    "created " + claimed->clone.id + " - alice"});
}

TEST_CASE(
    "refresh: with the example's mask.sql, no replaced e-mail is in any file of the snapshot") {
  TimedOrigin t(
      "", Utc("2030-01-01T00:00:30Z"),
      "  after: [" + test::SourceDir() + "/compose-examples/chinook/zdap/sql/mask.sql]\n");
  auto job = t.o().refresher().Start("chinook");
  REQUIRE(job.ok());
  REQUIRE(WaitFor(300s, [&] {
    auto j = t.o().refresher().GetJob(job->id);
    return j.ok() && (j->state == origin::JobState::kDone || j->state == origin::JobState::kFailed);
  }));
  auto done = t.o().refresher().GetJob(job->id);
  INFO(done->error);
  REQUIRE(done->state == origin::JobState::kDone);
  const std::string volume = t.o().store().SnapshotPath(done->snapshot);
  std::string out;
  REQUIRE(test::Shell("grep -o \"[A-Za-z0-9._-]*@[A-Za-z0-9.-]*\\.[a-z]*\" " + test::ChinookDir() +
                          "/Chinook_PostgreSql.sql | sort -u > " + t.config().data_dir +
                          "/emails && grep -a -r -l -F -f " + t.config().data_dir + "/emails " +
                          volume + " | wc -l",
                      &out) == 0);
  CHECK(std::stoi(out) == 0);
  // A clone of it starts (its WAL was reset) and answers with every row.
  origin::CloneView c = t.Create("masked");
  REQUIRE(Psql(c.port, c.password, "SELECT count(*) FROM invoice_line", &out) == 0);
  CHECK(out == "2240\n");
  REQUIRE(Psql(c.port, c.password, "SELECT email FROM customer WHERE customer_id = 1", &out) == 0);
  CHECK(out == "customer1@example.com\n");
}
