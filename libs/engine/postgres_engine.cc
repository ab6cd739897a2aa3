#include "engine/postgres_engine.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include "core/file_util.h"
#include "core/log.h"
#include "engine/dump_source.h"
#include "engine/live_source.h"
#include "engine/probe_socket.h"
#include "wire/postgres_wire.h"

namespace zdap::engine {
namespace {

namespace pgwire = wire::pg;

constexpr const char* kPgRoot = "/usr/lib/postgresql";

// source.url: pg_dump -Fd -j N of the live server into `scratch_dir`; returns the archive's
// directory, which the caller restores with pg_restore -j N like any directory archive.
// pg_dump takes one snapshot for all its workers, so the archive is consistent.
Result<std::string> DumpLive(const config::Resource& resource, const std::string& bin,
                             const std::string& scratch_dir) {
  const config::SourceUrl& url = resource.source.live;
  const std::string dir = scratch_dir + "/live-dump";
  (void)RemoveTree(dir);  // a previous attempt's
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadSourcePassword(resource.source));
  std::optional<TransientSecretFile> passfile;
  SpawnOptions o;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  o.argv = {bin + "/pg_dump",
            "--format=directory",
            fmt::format("--jobs={}", cores),
            "--no-password",
            "--file=" + dir,
            "--host=" + url.host,
            "--port=" + std::to_string(url.port),
            "--dbname=" + url.database};
  if (!url.user.empty()) o.argv.push_back("--username=" + url.user);
  // A host that does not answer fails the refresh in half a minute, not at TCP's leisure.
  o.env = {"PGCONNECT_TIMEOUT=30", "PGAPPNAME=zdap"};
  if (!password.empty()) {
    ZDAP_ASSIGN_OR_RETURN(passfile, TransientSecretFile::Write(scratch_dir + "/live.pgpass",
                                                               PgPassLine(url, password)));
    o.env.push_back("PGPASSFILE=" + passfile->path());
  }
  o.cwd = scratch_dir;
  o.capture_output = true;
  o.die_with_parent = true;
  log::Info("postgres: dumping {} for resource {} ({} jobs)", url.ToString(), resource.name, cores);
  auto r = Run(o, std::chrono::hours(12));
  if (!r.ok()) return r.status().Wrap("pg_dump");
  if (!r->ok()) {
    (void)RemoveTree(dir);
    return Unavailable(fmt::format("pg_dump of {} failed ({}): {}", url.ToString(),
                                   DescribeWaitStatus(r->wait_status),
                                   ClientErrorSummary(r->output, url.ToString())));
  }
  return dir;
}

}  // namespace

std::string UriEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<std::string> PostgresEngine::BinDir(const std::string& version) {
  std::error_code ec;
  if (!version.empty()) {
    std::string dir = fmt::format("{}/{}/bin", kPgRoot, version);
    if (::access((dir + "/postgres").c_str(), X_OK) != 0) {
      return NotFound(
          fmt::format("PostgreSQL {} is not installed ({} missing): apt-get install "
                      "postgresql-{}",
                      version, dir + "/postgres", version));
    }
    return dir;
  }
  int best = 0;
  for (const auto& e : std::filesystem::directory_iterator(kPgRoot, ec)) {
    std::string v = e.path().filename().string();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::access((e.path().string() + "/bin/postgres").c_str(), X_OK) != 0) continue;
    best = std::max(best, std::stoi(v));
  }
  if (best == 0) {
    return NotFound(
        "no PostgreSQL server is installed under /usr/lib/postgresql: apt-get "
        "install postgresql-15");
  }
  return fmt::format("{}/{}/bin", kPgRoot, best);
}

Status PostgresEngine::InitDataDir(const config::Resource& resource, const std::string& data_dir,
                                   const std::string& scratch_dir, const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  // The password goes to initdb in a 0600 file owned by the server's user, never in argv.
  std::string pwfile = scratch_dir + "/initdb.pw";
  FileOwner server_user{run_as.uid, run_as.gid};
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(pwfile, resource.password + "\n", 0600, server_user));
  SpawnOptions o;
  o.argv = {bin + "/initdb",
            "-D",
            data_dir,
            "--username=" + resource.user,
            "--pwfile=" + pwfile,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync"};
  o.run_as = run_as;
  o.cwd = scratch_dir;
  o.die_with_parent = true;
  auto r = Run(o, std::chrono::minutes(5));
  ::unlink(pwfile.c_str());
  if (!r.ok()) return r.status().Wrap("initdb");
  if (!r->ok()) {
    return IoError(fmt::format("initdb {} {}: {}", data_dir, DescribeWaitStatus(r->wait_status),
                               ClientErrorSummary(r->output, "initdb")));
  }
  // Clones may be reached from other hosts (clone_bind); they still need the password.
  std::string hba = data_dir + "/pg_hba.conf";
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(hba));
  text +=
      "\n# zdap: clients on any address, with the resource's password\n"
      "host all all all scram-sha-256\n";
  return WriteFileAtomic(hba, text, 0600, server_user);
}

Result<ServerSpec> PostgresEngine::ServerCommand(const config::Resource& resource,
                                                 const std::string& data_dir,
                                                 const std::string& run_dir,
                                                 const std::string& bind, int port) const {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  ServerSpec spec;
  spec.data_dir = data_dir;
  spec.log_path = run_dir + "/server.log";
  spec.stop_signal = SIGINT;  // "fast" shutdown: roll back open transactions, checkpoint, exit
  spec.pid_file = run_dir + "/postgres.pid";
  spec.stale_files = {data_dir + "/postmaster.pid"};
  spec.argv = {bin + "/postgres",
               "-D",
               data_dir,
               "-p",
               std::to_string(port),
               "-k",
               run_dir,
               "-c",
               "listen_addresses=" + bind,
               "-c",
               "logging_collector=off",
               "-c",
               "external_pid_file=" + spec.pid_file};
  // Development clones: small memory by default; the resource's settings win.
  std::map<std::string, std::string> settings = {{"shared_buffers", "32MB"},
                                                 {"max_connections", "50"}};
  for (const auto& [k, v] : resource.settings) settings[k] = v;
  for (const auto& [k, v] : settings) {
    spec.argv.push_back("-c");
    spec.argv.push_back(k + "=" + v);
  }
  return spec;
}

ProbeResult PostgresEngine::Probe(const Endpoint& endpoint, const config::Resource& resource,
                                  std::chrono::milliseconds timeout) const {
  std::string unix_path;
  if (endpoint.host.empty()) {
    unix_path = fmt::format("{}/.s.PGSQL.{}", endpoint.socket_dir, endpoint.port);
  }
  std::string startup = pgwire::StartupMessage(resource.user, resource.source.database);
  auto ex = Exchange(
      endpoint.host, endpoint.port, unix_path, startup,
      [](std::string_view got) {
        return pgwire::ParseStartupReply(got).kind != pgwire::ReplyKind::kIncomplete;
      },
      env().MonotonicNow() + timeout);
  ProbeResult out;
  if (ex.transport == ProbeTransport::kRefused) {
    out.readiness = Readiness::kStarting;  // not listening yet
    out.detail = ex.error;
    return out;
  }
  if (ex.transport != ProbeTransport::kOk) {
    out.readiness = Readiness::kDown;
    out.detail = ex.error;
    return out;
  }
  auto reply = pgwire::ParseStartupReply(ex.received);
  switch (reply.kind) {
    case pgwire::ReplyKind::kAuthentication:
      out.readiness = Readiness::kReady;
      break;
    case pgwire::ReplyKind::kError:
      // 57P03 cannot_connect_now: starting up, shutting down or in recovery. 28000 from
      // pg_hba.conf: a clone whose password is not set yet (ActivateClone) refuses TCP.
      out.readiness = reply.sqlstate == "57P03" || reply.sqlstate == "28000" ? Readiness::kStarting
                                                                             : Readiness::kReady;
      out.detail = reply.message;
      break;
    case pgwire::ReplyKind::kIncomplete:
      out.readiness = Readiness::kStarting;
      out.detail = "connection closed before a reply";
      break;
    case pgwire::ReplyKind::kMalformed:
      out.readiness = Readiness::kDown;
      out.detail = "the server's reply is not PostgreSQL's protocol";
      break;
  }
  return out;
}

namespace {

// One query as the resource's user; its unaligned, tuples-only output.
Result<std::string> QueryOne(const std::function<SpawnOptions(const std::string&)>& psql,
                             const std::string& database, const std::string& sql) {
  SpawnOptions q = psql(database);
  q.argv.resize(q.argv.size() - 2);  // no "-f -"
  for (const char* a : {"-A", "-t"}) q.argv.push_back(a);
  q.argv.push_back("-c");
  q.argv.push_back(sql);
  q.capture_output = true;
  q.die_with_parent = true;
  auto r = Run(q, std::chrono::minutes(1));
  if (!r.ok()) return r.status().Wrap("psql");
  if (!r->ok())
    return IoError(fmt::format("psql on {}: {}", database, ClientErrorSummary(r->output, "psql")));
  std::string out = r->output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Status PostgresEngine::AdoptPlainDump(const config::Resource& resource,
                                      const std::function<SpawnOptions(const std::string&)>& psql,
                                      const std::string& label) {
  const std::string& db = resource.source.database;
  std::string literal = "'";
  for (char c : db) {
    if (c == '\'') literal.push_back('\'');
    literal.push_back(c);
  }
  literal += "'";
  ZDAP_ASSIGN_OR_RETURN(
      std::string exists,
      QueryOne(psql, "postgres", "SELECT count(*) FROM pg_database WHERE datname = " + literal));
  if (exists == "1" || db == "postgres") return Status::Ok();
  // Not made by the dump: if the dump's objects went into the maintenance database, that
  // database becomes the resource's, and an empty maintenance database is made again.
  ZDAP_ASSIGN_OR_RETURN(
      std::string objects,
      QueryOne(psql, "postgres",
               "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', "
               "'information_schema', 'public') AND nspname NOT LIKE 'pg\\_%') + "
               "(SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace) + "
               "(SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace) + "
               "(SELECT count(*) FROM pg_type WHERE typnamespace = 'public'::regnamespace)"));
  if (objects == "0") {
    return Unprocessable(fmt::format(
        "{} neither creates database {} nor holds objects for it: set source.database to the "
        "database the dump creates",
        label, db));
  }
  log::Info("postgres: {} is a dump of one database; it becomes database {}", label, db);
  SpawnOptions rename = psql("template1");
  rename.argv.resize(rename.argv.size() - 2);
  for (const std::string& sql : {fmt::format("ALTER DATABASE postgres RENAME TO \"{}\"", db),
                                 std::string("CREATE DATABASE postgres")}) {
    rename.argv.push_back("-c");
    rename.argv.push_back(sql);
  }
  ZDAP_RETURN_IF_ERROR(RunSetupStep(rename, std::chrono::minutes(1), "psql",
                                    "moving the imported objects into database " + db));
  ZDAP_ASSIGN_OR_RETURN(
      exists,
      QueryOne(psql, "postgres", "SELECT count(*) FROM pg_database WHERE datname = " + literal));
  if (exists != "1") {
    return Internal(fmt::format("after the import of {}, database {} does not exist", label, db));
  }
  return Status::Ok();
}

Status PostgresEngine::Import(const config::Resource& resource, const Endpoint& endpoint,
                              const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  // Client arguments that reach the import server's unix socket as the resource's user.
  auto connect_to = [&](std::vector<std::string> argv, const std::string& database) {
    for (const std::string& arg :
         {std::string("-h"), endpoint.socket_dir, std::string("-p"), std::to_string(endpoint.port),
          std::string("-U"), resource.user, std::string("-d"), database}) {
      argv.push_back(arg);
    }
    return argv;
  };
  auto psql = [&](const std::string& database) {
    SpawnOptions o;
    // psql runs as the server's user: a dump can hold client commands (\!, \copy to a file).
    o.argv = connect_to({bin + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"}, database);
    o.argv.push_back("-f");
    o.argv.push_back("-");
    o.run_as = run_as;
    o.cwd = endpoint.socket_dir;
    return o;
  };
  // source.url: dumped into the run dir first, then restored as a directory archive (-j).
  config::Resource dumped;
  std::string live_dir;
  if (!resource.source.url.empty()) {
    ZDAP_ASSIGN_OR_RETURN(live_dir, DumpLive(resource, bin, endpoint.socket_dir));
    dumped = resource;
    dumped.source.url.clear();
    dumped.source.dump = live_dir;
  }
  struct RemoveAfter {
    std::string dir;
    ~RemoveAfter() {
      if (!dir.empty()) (void)RemoveTree(dir);
    }
  } remove_live{live_dir};
  ZDAP_ASSIGN_OR_RETURN(DumpInput input, DumpInput::Open(live_dir.empty() ? resource : dumped,
                                                         endpoint.socket_dir, env()));
  log::Info("postgres: importing {} ({}) into resource {}", input.label(),
            DumpFormatName(input.format()), resource.name);
  if (input.format() == DumpFormat::kPgCustom || input.format() == DumpFormat::kPgDirectory) {
    // Archives restore into the resource's database, made here; objects are owned by the
    // resource's user (--no-owner) and grants to roles that do not exist here are skipped.
    SpawnOptions create = psql("postgres");
    create.argv.resize(create.argv.size() - 2);
    create.argv.push_back("-c");
    create.argv.push_back(fmt::format("CREATE DATABASE \"{}\"", resource.source.database));
    create.capture_output = true;
    create.die_with_parent = true;
    auto cr = Run(create, std::chrono::minutes(1));
    if (!cr.ok()) return cr.status().Wrap("psql");
    if (!cr->ok() && cr->output.find("already exists") == std::string::npos) {
      return IoError(fmt::format("creating database {} failed: {}", resource.source.database,
                                 ClientErrorSummary(cr->output, "psql")));
    }
    SpawnOptions restore;
    restore.argv =
        connect_to({bin + "/pg_restore", "--exit-on-error", "--no-owner", "--no-privileges"},
                   resource.source.database);
    restore.cwd = endpoint.socket_dir;
    if (input.streamed()) {
      // From a pipe pg_restore cannot seek, so it restores with one connection.
      restore.run_as = run_as;
      ZDAP_RETURN_IF_ERROR(RunImportClient(&input, restore, "pg_restore"));
    } else {
      // pg_restore opens the archive itself (each -j worker reopens it), as the daemon's user
      // that could read the dump; it runs no client-side commands.
      unsigned cores = std::max(1u, std::thread::hardware_concurrency());
      restore.argv.push_back(fmt::format("--jobs={}", cores));
      restore.argv.push_back(input.label());
      restore.capture_output = true;
      restore.die_with_parent = true;
      auto r = Run(restore, std::chrono::hours(12));
      if (!r.ok()) return r.status().Wrap("pg_restore");
      if (!r->ok()) {
        return Unprocessable(fmt::format("import of {} failed: {}", input.label(),
                                         ClientErrorSummary(r->output, input.label())));
      }
    }
  } else {
    // The dump may CREATE DATABASE and \c into it (pg_dump --create); start in the
    // maintenance database. A dump of one database (plain pg_dump) lands there instead.
    ZDAP_RETURN_IF_ERROR(RunImportClient(&input, psql("postgres"), "psql"));
    ZDAP_RETURN_IF_ERROR(AdoptPlainDump(resource, psql, input.label()));
  }
  return RunAfter(resource, endpoint, run_as);
}

Status PostgresEngine::RunAfter(const config::Resource& resource, const Endpoint& endpoint,
                                const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  for (const auto& after : resource.source.after) {
    log::Info("postgres: running {} on database {}", after, resource.source.database);
    config::Resource one;
    one.name = resource.name;
    one.source.dump = after;
    ZDAP_ASSIGN_OR_RETURN(DumpInput in, DumpInput::Open(one, endpoint.socket_dir, env()));
    SpawnOptions psql =
        PsqlOnSocket(bin, endpoint, resource.user, resource.source.database, run_as);
    psql.argv.insert(psql.argv.end(), {"-q", "-v", "ON_ERROR_STOP=1", "-f", "-"});
    ZDAP_RETURN_IF_ERROR(RunImportClient(&in, psql, "psql"));
  }
  return Status::Ok();
}

Status PostgresEngine::ForgetReplaced(const config::Resource& resource, const Endpoint& socket,
                                      const RunAs& run_as) const {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  // Each -c is a transaction of its own (VACUUM runs outside one). VACUUM FULL writes every
  // table, its indexes and TOAST anew and unlinks the old files; ANALYZE replaces statistics
  // sampled before `after` (most common values are column values); pg_statistic's own old
  // row versions go with its second rewrite. The checkpoint leaves no dirty page behind.
  SpawnOptions o = PsqlOnSocket(bin, socket, resource.user, resource.source.database, run_as);
  o.argv.insert(o.argv.end(), {"-q", "-v", "ON_ERROR_STOP=1", "-c", "VACUUM (FULL, ANALYZE)", "-c",
                               "VACUUM FULL pg_catalog.pg_statistic", "-c", "CHECKPOINT"});
  log::Info("postgres: rewriting resource {}'s tables after its `after` scripts", resource.name);
  return RunSetupStep(o, std::chrono::hours(12), "psql", "VACUUM FULL after the `after` scripts");
}

Status PostgresEngine::ForgetHistory(const config::Resource& resource, const std::string& data_dir,
                                     const RunAs& run_as) const {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  SpawnOptions o;
  // Refuses a cluster that was not shut down cleanly (no -f): then the refresh fails rather
  // than lose a transaction.
  o.argv = {bin + "/pg_resetwal", "-D", data_dir};
  o.run_as = run_as;
  o.cwd = data_dir;
  return RunSetupStep(o, std::chrono::minutes(5), "pg_resetwal",
                      "removing the WAL of the masked data (pg_resetwal " + data_dir + ")");
}

std::string PostgresEngine::ConnectionUri(const config::Resource& resource, const std::string& host,
                                          int port) const {
  return FormatConnectionUri("postgres", resource, host, port);
}

}  // namespace zdap::engine
