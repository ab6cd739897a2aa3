// The engines against real servers: MariaDB 10.11 and PostgreSQL 15 started by the process
// runtime as the unprivileged server user, the Chinook dumps in every supported format and
// source kind, counted through the real mariadb and psql clients.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "config/source_url.h"
#include "core/file_util.h"
#include "engine/dump_source.h"
#include "engine/engine.h"
#include "engine/mariadb_engine.h"
#include "runtime/runtime.h"
#include "support/test_env.h"
#include "support/test_ports.h"

using namespace zdap;
using namespace zdap::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kPassword = "z'd\"ap pw";  // quotes and a space: quoting must hold

std::optional<RunAs> ServerUser() {
  auto u = runtime::ResolveServerUser("");
  REQUIRE(u.ok());
  return *u;
}

// One server of one engine in a temp dir, as zdapd would run it.
class EngineServer {
 public:
  EngineServer(const std::string& engine_name, config::Resource resource)
      : resource_(std::move(resource)), user_(ServerUser()), runtime_(user_) {
    resource_.engine = engine_name;
    auto e = engine::MakeEngine(engine_name);
    REQUIRE(e.ok());
    engine_ = std::move(*e);
    data_dir_ = dir_.path() + "/data";
    run_dir_ = dir_.path() + "/run";
    REQUIRE(Shell("mkdir -m 0700 " + data_dir_ + " " + run_dir_) == 0);
    if (user_) {
      REQUIRE(Shell("chown -R " + user_->name + " " + dir_.path()) == 0);
    }
    RunAs who = user_.value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
    Status st = engine_->InitDataDir(resource_, data_dir_, run_dir_, who);
    INFO(st.message());
    REQUIRE(st.ok());
  }
  ~EngineServer() { Stop(); }

  // Starts the server (unix socket only when bind is empty) and waits until it is ready,
  // probing over its unix socket if `probe_socket` (a clone whose TCP is still locked).
  // Starts the server and, with `wait`, probes it until it is ready (bounded).
  void Start(const std::string& bind = "", int port = 0, bool probe_socket = false,
             bool wait = true) {
    if (port == 0) port = engine_->default_port();
    auto spec = engine_->ServerCommand(resource_, data_dir_, run_dir_, bind, port);
    REQUIRE(spec.ok());
    spec_ = *spec;
    for (const auto& f : spec_.stale_files) ::unlink(f.c_str());
    runtime::StartOptions options;
    options.resource = &resource_;
    options.run_dir = run_dir_;
    options.clone = "engine-test";
    auto h = runtime_.Start(spec_, options);
    REQUIRE(h.ok());
    handle_ = *h;
    endpoint_ = {};
    endpoint_.port = port;
    if (bind.empty()) {
      endpoint_.socket_dir = run_dir_;
    } else {
      endpoint_.host = bind;
    }
    if (!wait) return;
    config::Resource probe_as = resource_;
    probe_as.source.database = engine_->admin_database();
    auto deadline = Clock::now() + std::chrono::seconds(60);
    engine::ProbeResult last;
    while (Clock::now() < deadline && runtime_.IsRunning(handle_)) {
      last = engine_->Probe(probe_socket ? socket() : endpoint_, probe_as, std::chrono::seconds(2));
      if (last.readiness == engine::Readiness::kReady) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("server not ready: " << last.detail << "\n" << TailFile(spec_.log_path, 20));
  }

  void Stop() {
    if (handle_.pid > 0) {
      CHECK(runtime_.Stop(handle_, data_dir_, spec_.stop_signal, std::chrono::seconds(30)).ok());
      handle_.pid = -1;
    }
  }

  // Serves on a free loopback port from now on (a live server for source.url); returns it.
  int RestartOnLoopback() {
    Stop();
    int port = ReservePort();
    Start("127.0.0.1", port);
    return port;
  }

  Status Import(const config::Resource& r) {
    RunAs who = user_.value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
    return engine_->Import(r, endpoint_, who);
  }

  engine::ProbeResult Probe(const config::Resource& r) const {
    return engine_->Probe(endpoint_, r, std::chrono::seconds(5));
  }

  // Runs SQL through the engine's own command-line client as the server's user; trimmed output.
  std::string Query(const std::string& sql, const std::string& database) const {
    std::string cmd;
    std::string as = user_ ? "runuser -u " + user_->name + " -- " : "";
    if (resource_.engine == "postgres") {
      cmd = as + "psql -X -qtA -h " + run_dir_ + " -U " + resource_.user + " -d " + database +
            " -c \"" + sql + "\"";
    } else {
      cmd = as + "mariadb --no-defaults -N -B -S " + engine::MariadbEngine::SocketPath(run_dir_) +
            " -u " + (user_ ? user_->name : "root") + " -D " + database + " -e \"" + sql + "\"";
    }
    std::string out;
    int rc = Shell(cmd, &out);
    INFO(cmd << "\n" << out);
    CHECK(rc == 0);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  }

  const config::Resource& resource() const { return resource_; }
  const std::optional<RunAs>& user() const { return user_; }
  const std::string& dir() const { return dir_.path(); }
  const std::string& run_dir() const { return run_dir_; }
  // The unix socket of the server started last (its run dir and port).
  engine::Endpoint socket() const {
    engine::Endpoint ep;
    ep.socket_dir = run_dir_;
    ep.port = endpoint_.port;
    return ep;
  }
  std::string LogText() const {
    auto text = ReadFile(spec_.log_path);
    return text.ok() ? *text : "";
  }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return handle_.pid; }
  engine::Engine& engine() { return *engine_; }

 private:
  TempDir dir_{"zdap-engine"};
  config::Resource resource_;
  std::optional<RunAs> user_;
  runtime::ProcessRuntime runtime_;
  std::unique_ptr<engine::Engine> engine_;
  std::string data_dir_, run_dir_;
  engine::ServerSpec spec_;
  runtime::ServerHandle handle_;
  engine::Endpoint endpoint_;
};

config::Resource MariadbChinook() {
  config::Resource r;
  r.name = "chinook";
  r.engine = "mariadb";
  r.user = "root";
  r.password = kPassword;
  r.source.dump = ChinookDir() + "/Chinook_MySql.sql";
  r.source.database = "Chinook";
  return r;
}

config::Resource PostgresChinook() {
  config::Resource r;
  r.name = "chinook";
  r.engine = "postgres";
  r.user = "postgres";
  r.password = kPassword;
  r.source.dump = ChinookDir() + "/Chinook_PostgreSql.sql";
  r.source.database = "chinook";
  return r;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A dump whose third line is not SQL.
std::string FailingDump(const std::string& dir, const std::string& create_table) {
  std::string path = dir + "/broken.sql";
  WriteText(path, create_table + "\n-- second line\nTHIS IS NOT SQL;\nSELECT 1;\n");
  return path;
}

}  // namespace

TEST_CASE("a client's failure summary leads with its error lines, then its last lines") {
  // mariadb-install-db's way: the error, then a dozen lines of where to report bugs.
  std::string out =
      "Installing MariaDB/MySQL system tables in '/d' ...\n"
      "2026-12-01 16:22:22 0 [ERROR] InnoDB: Cannot open datafile './ibdata1'\n"
      "2026-12-01 16:22:22 0 [ERROR] Aborting\n"
      "2026-12-01 16:22:22 0 [ERROR] third error, not shown\n";
  for (int i = 1; i <= 8; ++i) out += "boilerplate line " + std::to_string(i) + "\n";
  std::string summary = engine::ClientErrorSummary(out, "mariadb-install-db");
  CHECK_THAT(summary, Catch::StartsWith("2026-12-01 16:22:22 0 [ERROR] InnoDB: Cannot open"));
  CHECK_THAT(summary, Catch::Contains("[ERROR] Aborting | ... | boilerplate line 3 |"));
  CHECK_THAT(summary, Catch::EndsWith("boilerplate line 8"));
  CHECK_THAT(summary, !Catch::Contains("third error"));
  CHECK_THAT(summary, !Catch::Contains("boilerplate line 2"));
  // psql's way: the error is among the last lines already; nothing leads, nothing repeats.
  std::string psql = "SET\nCREATE TABLE\npsql:<stdin>:3: ERROR:  syntax error at or near \"x\"\n";
  CHECK(engine::ClientErrorSummary(psql, "dump.sql") ==
        "SET | CREATE TABLE | psql:dump.sql:3: ERROR:  syntax error at or near \"x\"");
  CHECK(engine::ClientErrorSummary("", "x") == "no output");
}

TEST_CASE("mariadb: Chinook imports in every source kind; probes log in for real") {
  EngineServer s("mariadb", MariadbChinook());
  s.Start();
  auto start = Clock::now();
  Status st = s.Import(s.resource());
  INFO(st.message());
  REQUIRE(st.ok());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  WARN("mariadb: Chinook import took " << ms << " ms");
  CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2240");
  CHECK(s.Probe(s.resource()).readiness == engine::Readiness::kReady);

  std::string dump = s.resource().source.dump;
  SECTION(".sql.gz and .sql.zst, with after scripts") {
    REQUIRE(Shell("gzip -c " + dump + " > " + s.dir() + "/c.sql.gz") == 0);
    REQUIRE(Shell("zstd -q -c " + dump + " > " + s.dir() + "/c.sql.zst") == 0);
    WriteText(s.dir() + "/after.sql", "DELETE FROM InvoiceLine WHERE InvoiceLineId > 2000;\n");
    for (const char* ext : {".sql.gz", ".sql.zst"}) {
      config::Resource r = s.resource();
      r.source.dump = s.dir() + "/c" + ext;
      r.source.after = {s.dir() + "/after.sql"};
      st = s.Import(r);
      INFO(ext << ": " << st.message());
      REQUIRE(st.ok());
      CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2000");
    }
  }
  SECTION("source.script prints a dump path; source.command streams one (gzip, sniffed)") {
    REQUIRE(Shell("gzip -c " + dump + " > " + s.dir() + "/c.sql.gz") == 0);
    WriteText(s.dir() + "/fetch.sh",
              "#!/bin/sh\necho fetching >&2\necho some progress\necho c.sql.gz\n");
    REQUIRE(Shell("chmod 755 " + s.dir() + "/fetch.sh") == 0);
    config::Resource by_script = s.resource();
    by_script.source.dump.clear();
    by_script.source.script = s.dir() + "/fetch.sh";
    st = s.Import(by_script);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2240");

    config::Resource by_command = s.resource();
    by_command.source.dump.clear();
    by_command.source.command = {"cat", s.dir() + "/c.sql.gz"};
    st = s.Import(by_command);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2240");

    config::Resource failing = s.resource();
    failing.source.dump.clear();
    failing.source.command = {"sh", "-c", "echo 'SELECT 1;'; echo 'upstream is down' >&2; exit 3"};
    st = s.Import(failing);
    CHECK_FALSE(st.ok());
    CHECK_THAT(st.message(),
               Catch::Contains("upstream is down") && Catch::Contains("exited with status 3"));
  }
  SECTION("a failing dump reports the client's message with its line, plain and compressed") {
    std::string broken = FailingDump(s.dir(), "CREATE TABLE IF NOT EXISTS ok_before (id INT);");
    config::Resource r = s.resource();
    r.source.dump = broken;
    st = s.Import(r);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(broken) && Catch::Contains("ERROR 1064") &&
                                 Catch::Contains("at line 3"));
    REQUIRE(Shell("zstd -q -c " + broken + " > " + broken + ".zst") == 0);
    r.source.dump = broken + ".zst";
    st = s.Import(r);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains("at line 3"));
    r.source.dump = s.dir() + "/missing.sql";
    st = s.Import(r);
    CHECK_THAT(st.message(), Catch::Contains("missing.sql"));
  }
  SECTION("a clone-like restart on TCP: login over TCP, data dir one whole argument") {
    s.Stop();
    int port = ReservePort();
    s.Start("127.0.0.1", port);
    auto cmdline = ReadFile("/proc/" + std::to_string(s.pid()) + "/cmdline");
    REQUIRE(cmdline.ok());
    CHECK(cmdline->find(std::string(1, '\0') + s.data_dir() + std::string(1, '\0')) !=
          std::string::npos);
    CHECK(cmdline->find(kPassword) == std::string::npos);
    CHECK(s.Probe(s.resource()).readiness == engine::Readiness::kReady);
    // Over TCP only the password logs in (the socket also admits root by OS identity).
    config::Resource wrong = s.resource();
    wrong.password = "not it";
    auto refused = s.Probe(wrong);
    CHECK(refused.readiness == engine::Readiness::kDown);
    CHECK_THAT(refused.detail, Catch::Contains("refused") && Catch::Contains("1045"));
    std::string out;
    std::string pw = std::string(kPassword);
    // The password with its quotes, for sh: 'z'\''d"ap pw'
    std::string quoted = "'z'\\''d\"ap pw'";
    int rc =
        Shell("MYSQL_PWD=" + quoted + " mariadb --no-defaults -N -B -h127.0.0.1 -P" +
                  std::to_string(port) + " -uroot Chinook -e 'SELECT COUNT(*) FROM InvoiceLine'",
              &out);
    INFO(out);
    CHECK(rc == 0);
    CHECK(out == "2240\n");
    CHECK(s.engine().ConnectionUri(s.resource(), "127.0.0.1", port) ==
          "mysql://root:z%27d%22ap%20pw@127.0.0.1:" + std::to_string(port) + "/Chinook");
  }
}

TEST_CASE("mariadb: a non-root resource user gets its own account") {
  config::Resource r = MariadbChinook();
  r.user = "app";
  EngineServer s("mysql", r);
  s.Start();
  Status st = s.Import(s.resource());
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2240");
  CHECK(s.Probe(s.resource()).readiness == engine::Readiness::kReady);
}

TEST_CASE("postgres: Chinook as SQL, custom and directory archives, command and after") {
  EngineServer s("postgres", PostgresChinook());
  s.Start();
  Status st = s.Import(s.resource());
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.Query("SELECT count(*) FROM invoice_line", "chinook") == "2240");

  // Archives made from the imported server, then restored into a fresh database.
  std::string as = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
  std::string run_dir = s.dir() + "/run";
  REQUIRE(Shell(as + "pg_dump -h " + run_dir + " -U postgres -Fc -f " + s.dir() +
                "/c.dump chinook") == 0);
  REQUIRE(Shell(as + "pg_dump -h " + run_dir + " -U postgres -Fd -j 2 -f " + s.dir() +
                "/c.dir chinook") == 0);
  WriteText(s.dir() + "/after.sql", "DELETE FROM invoice_line WHERE invoice_line_id > 2000;\n");
  auto fresh = [&]() { s.Query("DROP DATABASE chinook", "postgres"); };

  SECTION("custom format (pg_restore -j), directory format, after scripts") {
    for (const char* name : {"/c.dump", "/c.dir"}) {
      fresh();
      config::Resource r = s.resource();
      r.source.dump = s.dir() + name;
      r.source.after = {s.dir() + "/after.sql"};
      st = s.Import(r);
      INFO(name << ": " << st.message());
      REQUIRE(st.ok());
      CHECK(s.Query("SELECT count(*) FROM invoice_line", "chinook") == "2000");
    }
  }
  SECTION("a command streaming a custom archive; a script naming a .sql.zst") {
    fresh();
    config::Resource r = s.resource();
    r.source.dump.clear();
    r.source.command = {"cat", s.dir() + "/c.dump"};
    st = s.Import(r);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(s.Query("SELECT count(*) FROM invoice_line", "chinook") == "2240");

    fresh();
    REQUIRE(Shell("zstd -q -c " + PostgresChinook().source.dump + " > " + s.dir() + "/c.sql.zst") ==
            0);
    WriteText(s.dir() + "/fetch.sh", "#!/bin/sh\necho " + s.dir() + "/c.sql.zst\n");
    REQUIRE(Shell("chmod 755 " + s.dir() + "/fetch.sh") == 0);
    r.source.command.clear();
    r.source.script = s.dir() + "/fetch.sh";
    st = s.Import(r);
    INFO(st.message());
    REQUIRE(st.ok());
    CHECK(s.Query("SELECT count(*) FROM invoice_line", "chinook") == "2240");
  }
  SECTION("a failing dump reports psql's message with the dump's path and line") {
    std::string broken = FailingDump(s.dir(), "CREATE TABLE IF NOT EXISTS ok_before (id int);");
    config::Resource r = s.resource();
    r.source.dump = broken;
    st = s.Import(r);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(broken + ":3:") && Catch::Contains("syntax error"));
    REQUIRE(Shell("gzip -c " + broken + " > " + broken + ".gz") == 0);
    r.source.dump = broken + ".gz";
    st = s.Import(r);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(broken + ".gz:3:"));
  }
}

namespace {

// psql over TCP on 127.0.0.1 as `user` with `password` (from the environment, not argv):
// its exit code; its output in *out.
int TcpLogin(int port, const std::string& user, const std::string& password, std::string* out) {
  return Shell("PGPASSWORD='" + password + "' psql -X -qtA -h 127.0.0.1 -p " +
                   std::to_string(port) + " -U " + user + " -d tiny -c 'SELECT count(*) FROM t'",
               out);
}

}  // namespace

TEST_CASE("postgres: a readied snapshot's clone opens TCP only once its password is set") {
  TempDir src("zdap-engine-dump");
  config::Resource r;
  r.name = "tiny";
  r.user = "postgres";
  r.password = "import-pw";
  r.source.dump = src.path() + "/tiny.sql";
  r.source.database = "tiny";
  WriteText(r.source.dump,
            "CREATE DATABASE tiny;\n\\connect tiny\nCREATE TABLE t (x int);\n"
            "INSERT INTO t VALUES (1), (2);\n");
  REQUIRE(Shell("chmod -R a+rX " + src.path()) == 0);
  EngineServer s("postgres", r);
  s.Start();
  Status st = s.Import(s.resource());
  INFO(st.message());
  REQUIRE(st.ok());
  auto readied = s.engine().PrepareSnapshot(s.resource(), s.socket(), s.data_dir(), s.user());
  INFO(readied.status().message());
  REQUIRE(readied.ok());
  CHECK(*readied);
  CHECK(s.Query("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'",
                "postgres") == "t");
  auto hba = ReadFile(s.data_dir() + "/pg_hba.conf");
  REQUIRE(hba.ok());
  CHECK_THAT(*hba, Catch::Contains("\nhost all \"postgres\" all scram-sha-256\n"));
  s.Stop();

  int port = ReservePort();
  auto start_as_clone = [&](engine::CloneLock lock, const std::string& password, bool wait = true) {
    engine::ServerSpec spec;
    spec.data_dir = s.data_dir();
    REQUIRE(
        s.engine().PrepareClone(s.resource(), password, s.run_dir(), s.user(), lock, &spec).ok());
    s.Start("127.0.0.1", port, true, wait);
  };
  auto activate = [&](engine::CloneLock lock, const std::string& password) {
    Status a = s.engine().ActivateClone(s.resource(), s.socket(), s.data_dir(), password, s.user(),
                                        lock, std::chrono::seconds(30), [] { return true; });
    INFO(a.message());
    REQUIRE(a.ok());
    std::string rows;
    CHECK(TcpLogin(port, "postgres", password, &rows) == 0);
    CHECK(rows == "2\n");
  };
  std::string out;
  // A fresh clone (kNoPassword): the snapshot's pg_hba.conf as it is, TCP closed by the
  // missing password until the activation, and no reload.
  start_as_clone(engine::CloneLock::kNoPassword, "clone-pw-1");
  auto unchanged = ReadFile(s.data_dir() + "/pg_hba.conf");
  CHECK((unchanged.ok() && *unchanged == *hba));
  CHECK(TcpLogin(port, "postgres", "import-pw", &out) != 0);
  CHECK_THAT(out, Catch::Contains("password authentication failed"));
  activate(engine::CloneLock::kNoPassword, "clone-pw-1");
  CHECK(TcpLogin(port, "postgres", "import-pw", &out) != 0);
  CHECK_THAT(s.LogText(), !Catch::Contains("received SIGHUP"));
  // Its restart (kConfig): pg_hba.conf refuses TCP, even with the password the data holds,
  // until the activation sets the new one and reloads the final pg_hba.conf.
  s.Stop();
  start_as_clone(engine::CloneLock::kConfig, "clone-pw-2");
  out.clear();
  CHECK(TcpLogin(port, "postgres", "clone-pw-1", &out) != 0);
  CHECK_THAT(out, Catch::Contains("rejects connection"));
  activate(engine::CloneLock::kConfig, "clone-pw-2");
  CHECK(TcpLogin(port, "postgres", "clone-pw-1", &out) != 0);
  CHECK_THAT(s.LogText(), Catch::Contains("received SIGHUP"));
  // Activated the moment the server is spawned, as zdapd does: the activation waits for the
  // pid file's "ready", so no connection reaches the postmaster while it starts up (each would
  // cost a backend fork that only answers 57P03, "the database system is starting up"). The
  // probes above did reach it: the log is appended to, so only new lines count.
  s.Stop();
  auto starting_up = [&] {
    std::string log = s.LogText();
    size_t n = 0;
    for (size_t at = log.find("is starting up"); at != std::string::npos;
         at = log.find("is starting up", at + 1)) {
      ++n;
    }
    return n;
  };
  size_t refused_before = starting_up();
  start_as_clone(engine::CloneLock::kNoPassword, "clone-pw-3", /*wait=*/false);
  activate(engine::CloneLock::kNoPassword, "clone-pw-3");
  CHECK(starting_up() == refused_before);
}

namespace {

// `s`'s resource dumping the live server at `url`, its password in a 0600 file (as the
// resource loader requires).
config::Resource LiveSourceOf(const EngineServer& s, const std::string& url) {
  config::Resource live = s.resource();
  live.source.dump.clear();
  live.source.url = url;
  live.source.live = config::ParseSourceUrl(url).value();
  live.source.password_file = s.dir() + "/live.pass";
  WriteText(live.source.password_file, std::string(kPassword) + "\n");
  REQUIRE(::chmod(live.source.password_file.c_str(), 0600) == 0);
  return live;
}

// What a schema holds, counted by kind (relations, functions, triggers, types, constraints).
std::string SchemaCounts(const EngineServer& s, const std::string& db) {
  return s.Query(
      "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'public') || ' ' || (SELECT count(*) FROM pg_proc p JOIN pg_namespace n "
      "ON n.oid = p.pronamespace WHERE n.nspname = 'public') || ' ' || (SELECT count(*) FROM "
      "pg_trigger WHERE NOT tgisinternal) || ' ' || (SELECT count(*) FROM pg_type t JOIN "
      "pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public') || ' ' || (SELECT "
      "count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE "
      "n.nspname = 'public')",
      db);
}

}  // namespace

TEST_CASE("postgres: source.url dumps a live server (pg_dump -Fd -j) and restores it whole") {
  // The live server: a pagila-like schema (domain, enums, functions, triggers, inheritance,
  // views) imported directly, then served on TCP with a password.
  config::Resource primary_res = PostgresChinook();
  primary_res.name = "prod";
  primary_res.source.dump = SourceDir() + "/tests/engine/fixtures/pagila_like.sql";
  primary_res.source.database = "pagila";
  EngineServer primary("postgres", primary_res);
  primary.Start();
  primary.Query("CREATE DATABASE pagila", "postgres");
  std::string out;
  std::string as = primary.user() ? "runuser -u " + primary.user()->name + " -- " : "";
  REQUIRE(Shell(as + "psql -X -q -v ON_ERROR_STOP=1 -h " + primary.run_dir() +
                    " -U postgres -d pagila -f " + primary_res.source.dump,
                &out) == 0);
  const std::string direct = SchemaCounts(primary, "pagila");
  const std::string direct_feb =
      primary.Query("SELECT count(*) FROM ONLY payment_p2022_02", "pagila");
  int port = primary.RestartOnLoopback();

  EngineServer s("postgres", PostgresChinook());
  s.Start();
  config::Resource live =
      LiveSourceOf(s, "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/pagila");
  live.source.database = "pagila";
  Status st = s.Import(live);
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(SchemaCounts(s, "pagila") == direct);
  CHECK(s.Query("SELECT count(*) FROM payment", "pagila") == "1000");
  CHECK(s.Query("SELECT count(*) FROM ONLY payment_p2022_02", "pagila") == direct_feb);
  CHECK(s.Query("SELECT film_count('PG')", "pagila") == "100");
  // The triggers came along and work on the copy.
  s.Query("INSERT INTO film (title, language_id) VALUES ('New', 2)", "pagila");
  CHECK(s.Query("SELECT fulltext IS NOT NULL FROM film WHERE title = 'New'", "pagila") == "t");
  // Neither the archive nor the password file stays in the run dir.
  CHECK_FALSE(PathExists(s.run_dir() + "/live-dump"));
  CHECK_FALSE(PathExists(s.run_dir() + "/live.pgpass"));

  // A wrong password: pg_dump's own message, naming the server, and nothing secret.
  WriteText(live.source.password_file, "not it\n");
  s.Query("DROP DATABASE pagila", "postgres");
  st = s.Import(live);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("pg_dump of postgres://postgres@127.0.0.1:") &&
                               Catch::Contains("password authentication failed"));
  CHECK(st.message().find("not it") == std::string::npos);
}

TEST_CASE("mariadb: source.url streams mariadb-dump of a live server into the import") {
  EngineServer primary("mariadb", MariadbChinook());
  primary.Start();
  REQUIRE(primary.Import(primary.resource()).ok());
  int port = primary.RestartOnLoopback();

  EngineServer s("mariadb", MariadbChinook());
  s.Start();
  config::Resource live =
      LiveSourceOf(s, "mysql://root@127.0.0.1:" + std::to_string(port) + "/Chinook");
  Status st = s.Import(live);
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.Query("SELECT COUNT(*) FROM InvoiceLine", "Chinook") == "2240");
  CHECK_FALSE(PathExists(s.run_dir() + "/live.cnf"));

  WriteText(live.source.password_file, "not it\n");
  st = s.Import(live);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("Access denied"));
  CHECK(st.message().find("not it") == std::string::npos);
}

TEST_CASE("postgres: after masking, no replaced e-mail address is in any file of the data dir") {
  config::Resource res = PostgresChinook();
  res.source.after = {SourceDir() + "/compose-examples/chinook/zdap/sql/mask.sql"};
  EngineServer s("postgres", res);
  // Every e-mail address of the source (customers' and employees'), one per line for grep -f.
  std::string emails;
  REQUIRE(Shell("grep -o \"[A-Za-z0-9._-]*@[A-Za-z0-9.-]*\\.[a-z]*\" " + res.source.dump +
                    " | sort -u > " + s.dir() + "/emails",
                &emails) == 0);
  std::string count;
  REQUIRE(Shell("wc -l < " + s.dir() + "/emails", &count) == 0);
  REQUIRE(std::stoi(count) >= 60);
  // The files of the data dir (heap, indexes, TOAST, statistics, pg_wal) holding any of them.
  auto files_with_emails = [&] {
    std::string out;
    Shell("grep -a -r -l -F -f " + s.dir() + "/emails " + s.data_dir() + " | wc -l", &out);
    return std::stoi(out);
  };
  s.Start();
  Status st = s.Import(s.resource());
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(s.Query("SELECT email FROM customer WHERE customer_id = 1", "chinook") ==
        "customer1@example.com");

  // Without the wipe, the UPDATEs' old row versions and the WAL still hold them: the check
  // below can fail.
  s.Stop();
  int before = files_with_emails();
  WARN(before << " files hold a replaced e-mail address before the wipe");
  CHECK(before > 0);

  // The wipe: tables rewritten on the running server, then the WAL reset on the stopped one.
  s.Start();
  RunAs who = s.user().value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
  st = s.engine().ForgetReplaced(s.resource(), s.socket(), who);
  INFO(st.message());
  REQUIRE(st.ok());
  s.Stop();
  st = s.engine().ForgetHistory(s.resource(), s.data_dir(), who);
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(files_with_emails() == 0);

  // The data is whole and starts as before.
  s.Start();
  CHECK(s.Query("SELECT count(*) FROM invoice_line", "chinook") == "2240");
  CHECK(s.Query("SELECT count(*) FROM customer WHERE email LIKE '%@example.com'", "chinook") ==
        "59");
  CHECK(s.Query("SELECT count(*) FROM employee WHERE email LIKE '%@example.com'", "chinook") ==
        "8");
}
