// A standby as the template (issue 22 §1): a real PostgreSQL 15 primary started here (its own
// data dir and port, a replication role, pg_hba for it), under write load (pgbench, and a
// writer that inserts numbered rows and records when each commit returned), a real zdapd on a
// btrfs loop file system with a `source.replica` resource, clones answering psql.
//   - the first sync killed (-9) leaves nothing after a restart, and the next refresh syncs;
//   - every row committed before a snapshot was asked for is in its clone, none begun after the
//     job ended; data_as_of lies between; writes on a clone do not reach the primary;
//   - the standby follows across a primary restart and a zdapd kill -9 (newer data each time);
//   - masking: no original e-mail in any file of the snapshot (the standby's own volume holds
//     them, so the grep can find them);
//   - status and metrics say streaming, then disconnected within 10 s of the primary's stop;
//   - the replication password is in no argv, no long-lived environ, no log, no job;
//   - removing the resource drops the slot on the primary and leaves no volume or server.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/time.h"
#include "storage/loop_fs.h"
#include "zdapd_fixture.h"

using namespace zdap::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kReplPassword = "R3pl-s3cret-xyzzy";
using Clock = std::chrono::system_clock;

// A PostgreSQL 15 primary owned by the `postgres` user, on 127.0.0.1:port.
class Primary {
 public:
  explicit Primary(const std::string& dir) : dir_(dir), data_(dir + "/pgdata") {
    port_ = ports_.first();
    REQUIRE(Shell("mkdir -p " + dir_ + " && chown postgres " + dir_ + " && chmod 0755 " + dir_) ==
            0);
    std::string out;
    REQUIRE(Shell(As("/usr/lib/postgresql/15/bin/initdb -D " + data_ +
                     " -U postgres --auth-local=trust --auth-host=scram-sha-256 "
                     "--no-sync >/dev/null"),
                  &out) == 0);
    std::ofstream(data_ + "/pg_hba.conf", std::ios::app)
        << "host replication zdap_replicator 127.0.0.1/32 scram-sha-256\n";
    Start();
    Sql("CREATE ROLE zdap_replicator REPLICATION LOGIN PASSWORD '" + std::string(kReplPassword) +
            "'",
        "postgres");
    Sql("CREATE DATABASE app", "postgres");
    Sql("CREATE TABLE marks (n int PRIMARY KEY, at timestamptz DEFAULT now());"
        "CREATE TABLE people (id int PRIMARY KEY, email text);"
        "INSERT INTO people SELECT i, 'person' || i || '.original@example.org' "
        "FROM generate_series(1, 50) i");
    REQUIRE(Shell(As("/usr/lib/postgresql/15/bin/pgbench -q -i -s 2 -h " + dir_ + " -p " +
                     std::to_string(port_) + " app >/dev/null 2>&1")) == 0);
  }
  ~Primary() { Shell(As(Ctl("stop -m immediate")) + " >/dev/null 2>&1"); }

  void Start() { REQUIRE(Shell(As(Ctl("start -w -t 60")) + " >/dev/null") == 0); }
  void Stop() { REQUIRE(Shell(As(Ctl("stop -m fast -w")) + " >/dev/null") == 0); }
  void Restart() { REQUIRE(Shell(As(Ctl("restart -m fast -w -t 60")) + " >/dev/null") == 0); }

  // psql's tuples-only answer on database `db`.
  std::string Sql(const std::string& sql, const std::string& db = "app") {
    std::string out;
    INFO(sql);
    int rc = Shell(As("psql -X -qtA -v ON_ERROR_STOP=1 -h " + dir_ + " -p " +
                      std::to_string(port_) + " -d " + db + " -c \"" + sql + "\""),
                   &out);
    INFO(out);
    REQUIRE(rc == 0);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // Inserts row n; false if the primary did not take it.
  bool Insert(int n) {
    return Shell(As("psql -X -qtA -h " + dir_ + " -p " + std::to_string(port_) +
                    " -d app -c 'INSERT INTO marks (n) VALUES (" + std::to_string(n) + ")'") +
                 " >/dev/null 2>&1") == 0;
  }
  // pgbench in the background for `seconds` (bounded by itself).
  void Bench(int seconds) {
    Shell(As("/usr/lib/postgresql/15/bin/pgbench -n -c 2 -T " + std::to_string(seconds) + " -h " +
             dir_ + " -p " + std::to_string(port_) + " app") +
          " >/dev/null 2>&1 &");
  }
  int port() const { return port_; }

 private:
  static std::string As(const std::string& cmd) { return "runuser -u postgres -- " + cmd; }
  std::string Ctl(const std::string& what) const {
    return "/usr/lib/postgresql/15/bin/pg_ctl -D " + data_ + " -l " + dir_ + "/log -o '-p " +
           std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off' " +
           what;
  }
  std::string dir_, data_;
  PortBlock ports_{1};
  int port_ = 0;
};

// Rows inserted one by one, each with when its insert began and when its commit returned.
class Writer {
 public:
  explicit Writer(Primary& p)
      : thread_([this, &p] {
          for (int n = 1; !stop_ && n < 100000; ++n) {
            auto began = Clock::now();
            bool ok = p.Insert(n);
            std::lock_guard lock(mu_);
            if (ok) rows_[n] = {began, Clock::now()};
          }
        }) {}
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  struct Row {
    Clock::time_point began, returned;
  };
  std::map<int, Row> rows() {
    std::lock_guard lock(mu_);
    return rows_;
  }

 private:
  std::mutex mu_;
  std::map<int, Row> rows_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

json::object Parse(const std::string& body) {
  return json::parse(body).as_object();
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// POST a refresh job as the admin; waits for it (bounded); returns the job object.
json::object Refresh(ZdapdFixture& d) {
  return Parse(d.RefreshAndWait("app"));
}

// The set of `marks` rows in a new clone of `snapshot`, and the clone's port and password.
struct CloneRows {
  std::set<int> rows;
  int port = 0;
  std::string password;
};
CloneRows CloneOf(ZdapdFixture& d, const std::string& snapshot, const std::string& name) {
  std::string body;
  REQUIRE(d.Call("POST", "/v1/resources/app/clones",
                 "{\"name\":\"" + name + "\",\"snapshot\":\"" + snapshot + "\"}", &body) == 201);
  CloneRows c;
  c.port = std::stoi(JsonField(body, "port"));
  c.password = JsonField(body, "password");
  std::string out;
  REQUIRE(Psql(c.port, c.password, "SELECT n FROM marks", &out, "app") == 0);
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    if (end > pos) c.rows.insert(std::stoi(out.substr(pos, end - pos)));
    pos = end + 1;
  }
  return c;
}

json::object StandbyStatus(ZdapdFixture& d) {
  std::string body;
  REQUIRE(d.AdminCall("GET", "/v1/status", "", &body) == 200);
  const json::object status = Parse(body);
  for (const auto& r : status.at("resources").as_array()) {
    if (r.as_object().at("name").as_string() == "app") {
      return r.as_object().at("standby").as_object();
    }
  }
  FAIL("no resource app in /v1/status: " + body);
  return {};
}

bool StandbyState(ZdapdFixture& d, const std::string& state) {
  std::string body;
  if (d.AdminCall("GET", "/v1/status", "", &body) != 200) return false;
  if (StandbyStatus(d).at("state").as_string() != state) return false;
  REQUIRE(d.AdminCall("GET", "/metrics", "", &body) == 200);
  return body.find("zdap_standby_state{resource=\"app\",state=\"" + state + "\"} 1") !=
         std::string::npos;
}

// Every process's argv and environment that holds `secret`, as "pid what" lines.
std::string ProcessesHolding(const std::string& secret) {
  std::string found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    for (const char* what : {"cmdline", "environ"}) {
      if (ReadFileText(e.path().string() + "/" + what).find(secret) != std::string::npos) {
        found += pid + " " + what + "\n";
      }
    }
  }
  return found;
}

}  // namespace

TEST_CASE("a replica resource: a standby that follows its primary, snapshotted while it runs",
          "[e2e][replica]") {
  LoopFs& btrfs = SharedLoopFs("btrfs");
  ::chmod(fs::path(btrfs.mount_point()).parent_path().c_str(), 0755);
  TempDir tmp("zdap-replica");
  ::chmod(tmp.path().c_str(), 0755);
  Primary primary(tmp.path() + "/primary");

  ZdapdFixture d(btrfs.NewDir("replica"));
  const std::string res_dir = d.config_dir() + "/resources";
  REQUIRE(Shell("rm " + res_dir + "/chinook.yaml && mkdir -p " + d.config_dir() + "/secrets") == 0);
  {
    std::ofstream(d.config_dir() + "/secrets/replicator.pass") << kReplPassword << "\n";
    ::chmod((d.config_dir() + "/secrets/replicator.pass").c_str(), 0600);
    std::ofstream(d.config_dir() + "/mask.sql")
        << "UPDATE people SET email = 'masked' || id || '@example.invalid';\n";
    std::ofstream(res_dir + "/app.yaml")
        << "name: app\nengine: postgres\nsource:\n  replica:\n"
        << "    primary: \"host=127.0.0.1 port=" << primary.port() << " user=zdap_replicator\"\n"
        << "    password_file: secrets/replicator.pass\n    slot: zdap_app\n"
        << "  database: app\n  after: [mask.sql]\n"
        << "clone: {ttl: 1h}\ncredentials: {user: postgres, password: zdap}\n";
  }
  const std::string standby_volume = d.data_dir() + "/store/volumes/standby-app";
  primary.Bench(600);
  Writer writer(primary);
  d.Start();

  SECTION(
      "the first sync killed -9 leaves nothing; then snapshots under load hold what they must") {
    // Kill zdapd as soon as the first sync runs.
    std::string body;
    REQUIRE(d.AdminCall("POST", "/v1/resources/app/snapshots", "", &body) == 202);
    std::string job_id(Parse(body).at("id").as_string());
    REQUIRE(PollUntil(60s, 5ms, [&] {
      return d.AdminCall("GET", "/v1/jobs/" + job_id, "", &body) == 200 &&
             body.find("\"phase\":\"sync\"") != std::string::npos;
    }));
    d.Kill(SIGKILL);
    d.Start();
    INFO(d.LogText());
    CHECK_FALSE(fs::exists(standby_volume));
    CHECK_FALSE(ServersRunUnder(standby_volume));

    // A snapshot: every commit that returned before the request is in it, none begun after
    // the job ended; data_as_of lies between.
    std::this_thread::sleep_for(1s);  // rows to find: the writer commits a few per second
    auto requested = Clock::now();
    auto rows_before = writer.rows();
    json::object job = Refresh(d);
    auto finished = Clock::now();
    INFO(json::serialize(job));
    INFO(d.LogText());
    REQUIRE(job.at("state").as_string() == "done");
    std::string snap1(job.at("snapshot").as_string());
    CloneRows c1 = CloneOf(d, snap1, "one");
    int before = 0, missing = 0;
    for (const auto& [n, row] : rows_before) {
      if (row.returned >= requested) continue;
      ++before;
      if (c1.rows.count(n) == 0) ++missing;
    }
    CHECK(before > 0);
    CHECK(missing == 0);
    int late = 0;
    for (const auto& [n, row] : writer.rows()) {
      if (row.began > finished && c1.rows.count(n) != 0) ++late;
    }
    CHECK(late == 0);
    REQUIRE(d.Call("GET", "/v1/resources/app/snapshots", "", &body) == 200);
    std::string as_of;
    const json::object listed = Parse(body);
    for (const auto& s : listed.at("snapshots").as_array()) {
      if (s.as_object().at("id").as_string() == snap1) {
        as_of = std::string(s.as_object().at("data_as_of").as_string());
      }
    }
    auto data_as_of = zdap::ParseRfc3339(as_of);
    REQUIRE(data_as_of.ok());
    CHECK(*data_as_of >= std::chrono::floor<std::chrono::seconds>(requested) - 1s);
    CHECK(*data_as_of <= finished + 1s);

    // Writes on the clone stay there.
    std::string out;
    REQUIRE(Psql(c1.port, c1.password, "INSERT INTO marks (n) VALUES (-1)", &out, "app") == 0);
    CHECK(primary.Sql("SELECT count(*) FROM marks WHERE n = -1") == "0");

    // Masked: no original address in any file of the snapshot, while the standby's own data
    // (unmasked) has them: the grep can find them.
    const std::string snap_dir = d.data_dir() + "/store/snapshots/" + snap1;
    REQUIRE(fs::is_directory(snap_dir));
    REQUIRE(fs::is_directory(standby_volume));
    CHECK(Shell("grep -a -r -q -F 'original@example.org' " + snap_dir) != 0);
    CHECK(Shell("grep -a -r -q -F 'original@example.org' " + standby_volume) == 0);
    REQUIRE(Psql(c1.port, c1.password, "SELECT count(*) FROM people WHERE email LIKE 'masked%'",
                 &out, "app") == 0);
    CHECK(out == "50\n");

    // Status and metrics: streaming.
    CHECK(PollUntil(20s, 200ms, [&] { return StandbyState(d, "streaming"); }));

    // Across a primary restart: the standby follows again; a new snapshot has newer rows.
    primary.Restart();
    primary.Bench(600);
    std::this_thread::sleep_for(2s);
    job = Refresh(d);
    REQUIRE(job.at("state").as_string() == "done");
    CloneRows c2 = CloneOf(d, std::string(job.at("snapshot").as_string()), "two");
    REQUIRE(!c1.rows.empty());
    REQUIRE(!c2.rows.empty());
    CHECK(*c2.rows.rbegin() > *c1.rows.rbegin());

    // A snapshot killed -9 while its scratch server runs: after the restart, no half snapshot,
    // volume or scratch server is left, the standby still runs.
    std::string snapshots_before;
    Shell("ls " + d.data_dir() + "/store/snapshots", &snapshots_before);
    REQUIRE(d.AdminCall("POST", "/v1/resources/app/snapshots", "", &body) == 202);
    job_id = std::string(Parse(body).at("id").as_string());
    REQUIRE(PollUntil(120s, 5ms, [&] {
      return d.AdminCall("GET", "/v1/jobs/" + job_id, "", &body) == 200 &&
             (body.find("\"phase\":\"promote\"") != std::string::npos ||
              body.find("\"phase\":\"after\"") != std::string::npos);
    }));
    d.Kill(SIGKILL);
    d.Start();
    {
      std::set<std::string> volumes;
      for (const auto& e : fs::directory_iterator(d.data_dir() + "/store/volumes")) {
        volumes.insert(e.path().filename().string());
      }
      CHECK(volumes == std::set<std::string>{"standby-app"});
      std::string snapshots_after;
      Shell("ls " + d.data_dir() + "/store/snapshots", &snapshots_after);
      CHECK(snapshots_after == snapshots_before);
      CHECK(ServersRunUnder(standby_volume));
      CHECK_FALSE(fs::exists(d.data_dir() + "/run/import-app"));
    }

    // Across a zdapd kill -9: the standby's server keeps running and is adopted.
    d.Kill(SIGKILL);
    CHECK(ServersRunUnder(standby_volume));
    d.Start();
    std::this_thread::sleep_for(1s);
    job = Refresh(d);
    INFO(d.LogText());
    REQUIRE(job.at("state").as_string() == "done");
    CloneRows c3 = CloneOf(d, std::string(job.at("snapshot").as_string()), "three");
    CHECK(*c3.rows.rbegin() > *c2.rows.rbegin());

    // The replication password: in no process's argv or environment, no log, no job.
    CHECK(ProcessesHolding(kReplPassword).empty());
    CHECK(ReadFileText(d.LogPath()).find(kReplPassword) == std::string::npos);
    REQUIRE(d.AdminCall("GET", "/v1/jobs", "", &body) == 200);
    CHECK(body.find(kReplPassword) == std::string::npos);

    // Cut off from the primary: disconnected within 10 s, in status and metrics.
    primary.Stop();
    auto stopped = std::chrono::steady_clock::now();
    CHECK(PollUntil(10s, 200ms, [&] { return StandbyState(d, "disconnected"); }));
    CHECK(std::chrono::steady_clock::now() - stopped <= 10s);
    CHECK(StandbyStatus(d).at("disconnected_since").is_string());
    primary.Start();
    CHECK(PollUntil(30s, 200ms, [&] { return StandbyState(d, "streaming"); }));

    // The resource leaves the config: its slot on the primary, volume and server go.
    for (const char* c : {"one", "two", "three"}) {
      REQUIRE(d.Call("DELETE", std::string("/v1/clones/") + c, "", &body) == 204);
    }
    CHECK(primary.Sql("SELECT count(*) FROM pg_replication_slots", "postgres") == "1");
    d.Kill(SIGTERM);
    REQUIRE(Shell("mv " + res_dir + "/app.yaml " + tmp.path() + "/app.yaml.off") == 0);
    d.Start();
    INFO(d.LogText());
    CHECK(primary.Sql("SELECT count(*) FROM pg_replication_slots", "postgres") == "0");
    CHECK_FALSE(fs::exists(standby_volume));
    CHECK_FALSE(ServersRunUnder(standby_volume));
  }
}
