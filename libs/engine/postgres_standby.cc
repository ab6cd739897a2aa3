#include "engine/postgres_standby.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>

#include "core/file_util.h"
#include "core/log.h"
#include "engine/dump_source.h"
#include "engine/live_source.h"
#include "engine/postgres_engine.h"
#include "engine/postgres_quote.h"

namespace zdap::engine::standby {
namespace {

constexpr auto kClientLimit = std::chrono::minutes(1);

// The tools' connection to the primary: everything but the password (PGPASSFILE).
SpawnOptions PrimaryTool(const Primary& primary, std::vector<std::string> argv) {
  SpawnOptions o;
  o.argv = std::move(argv);
  // A primary that does not answer fails the step in half a minute, not at TCP's leisure.
  o.env = {"PGCONNECT_TIMEOUT=30", "PGAPPNAME=zdap"};
  if (!primary.passfile.empty()) o.env.push_back("PGPASSFILE=" + primary.passfile);
  o.run_as = primary.run_as;
  o.cwd = primary.cwd;
  return o;
}

std::string Where(const Primary& primary) {
  return primary.spec->primary.params.at("host");
}

// psql's tuples-only, unaligned answer ('|' between columns) on the standby's socket.
Result<std::string> Query(const Socket& socket, const std::string& user, const std::string& sql,
                          const std::string& what) {
  SpawnOptions o =
      PostgresEngine::PsqlOnSocket(socket.bin, socket.endpoint, user, "template1", socket.run_as);
  o.argv.insert(o.argv.end(), {"-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql});
  o.capture_output = true;
  o.die_with_parent = true;
  auto r = Run(o, kClientLimit);
  if (!r.ok()) return r.status().Wrap("psql");
  if (!r->ok()) {
    return IoError(fmt::format("{} failed ({}): {}", what, DescribeWaitStatus(r->wait_status),
                               ClientErrorSummary(r->output, "psql")));
  }
  std::string out = r->output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

// "extract(epoch ...)" as text: seconds since 1970, with a fraction; "" = NULL.
std::optional<SystemTime> EpochTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(seconds)) return std::nullopt;
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace

Status WritePassfile(const config::ReplicaSpec& spec, const std::string& path,
                     const RunAs& run_as) {
  if (spec.password_file.empty()) {
    ::unlink(path.c_str());
    return Status::Ok();
  }
  auto password = ReadSecretLine(spec.password_file);
  if (!password.ok()) return password.status().Wrap("source.replica.password_file");
  // One user's line for any host, port and database: the file serves this primary only.
  return WriteFileAtomic(path, PgPassLine("*", "*", "*", spec.primary.user(), *password), 0600,
                         FileOwner{run_as.uid, run_as.gid});
}

Status CreateSlot(const std::string& bin, const Primary& primary) {
  SpawnOptions o = PrimaryTool(
      primary, {bin + "/pg_receivewal", "--create-slot", "--if-not-exists", "--no-password",
                "--slot=" + primary.spec->slot, "--dbname=" + primary.spec->primary.ToString()});
  return RunSetupStep(
      o, kClientLimit, "pg_receivewal",
      fmt::format("creating replication slot {} on {}", primary.spec->slot, Where(primary)));
}

Status DropSlot(const std::string& bin, const Primary& primary) {
  SpawnOptions o = PrimaryTool(
      primary, {bin + "/pg_receivewal", "--drop-slot", "--no-password",
                "--slot=" + primary.spec->slot, "--dbname=" + primary.spec->primary.ToString()});
  o.capture_output = true;
  o.die_with_parent = true;
  auto r = Run(o, kClientLimit);
  if (!r.ok()) return r.status().Wrap("pg_receivewal");
  if (r->ok() || r->output.find("does not exist") != std::string::npos) return Status::Ok();
  return IoError(fmt::format("dropping replication slot {} on {} failed ({}): {}",
                             primary.spec->slot, Where(primary), DescribeWaitStatus(r->wait_status),
                             ClientErrorSummary(r->output, "pg_receivewal")));
}

Status BaseBackup(const std::string& bin, const Primary& primary, const std::string& data_dir) {
  SpawnOptions o = PrimaryTool(
      primary, {bin + "/pg_basebackup", "--pgdata=" + data_dir, "--wal-method=stream",
                "--slot=" + primary.spec->slot, "--checkpoint=fast", "--no-password",
                "--no-sync",  // the refresh syncs what it seals; the standby's own data follows
                "--dbname=" + primary.spec->primary.ToString()});
  log::Info("postgres: base backup of {} (slot {})", Where(primary), primary.spec->slot);
  return RunSetupStep(o, std::chrono::hours(24), "pg_basebackup",
                      fmt::format("base backup of {}", Where(primary)));
}

Status ConfigureStandby(const std::string& data_dir, const RunAs& run_as) {
  FileOwner owner{run_as.uid, run_as.gid};
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(data_dir + "/standby.signal", "", 0600, owner));
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(
      data_dir + "/postgresql.conf",
      "# zdap standby: settings come from zdapd's command line, not from the primary's file\n",
      0600, owner));
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(data_dir + "/postgresql.auto.conf",
                                       "# zdap standby: the primary's ALTER SYSTEM settings are "
                                       "not this host's\n",
                                       0600, owner));
  return WriteFileAtomic(data_dir + "/pg_hba.conf",
                         "# zdap standby: only the daemon, over the private unix socket\n"
                         "local all all trust\n"
                         "host all all all reject\n",
                         0600, owner);
}

Result<std::string> PrimaryPosition(const std::string& bin, const Primary& primary) {
  // A replication connection runs replication commands, not SQL: psql sends the command as
  // a simple query. IDENTIFY_SYSTEM answers systemid|timeline|xlogpos|dbname.
  SpawnOptions o =
      PrimaryTool(primary, {bin + "/psql", "-X", "-A", "-t", "-w",
                            "--dbname=" + primary.spec->primary.ToString() + " replication=true",
                            "-c", "IDENTIFY_SYSTEM"});
  o.capture_output = true;
  o.die_with_parent = true;
  auto r = Run(o, kClientLimit);
  if (!r.ok()) return r.status().Wrap("psql");
  if (!r->ok()) {
    return Unavailable(fmt::format("asking {} for its WAL position failed ({}): {}", Where(primary),
                                   DescribeWaitStatus(r->wait_status),
                                   ClientErrorSummary(r->output, "psql")));
  }
  auto fields = Split(r->output.substr(0, r->output.find('\n')), '|');
  if (fields.size() < 3 || fields[2].find('/') == std::string::npos) {
    return Unavailable(fmt::format("{} answered IDENTIFY_SYSTEM with '{}'", Where(primary),
                                   r->output.substr(0, 200)));
  }
  return fields[2];
}

Result<std::map<std::string, std::string>> HotStandbySettings(
    const std::string& bin, const std::string& data_dir, const RunAs& run_as,
    const std::map<std::string, std::string>& current) {
  SpawnOptions o;
  o.argv = {bin + "/pg_controldata", "-D", data_dir};
  o.env = {"LC_ALL=C"};
  o.run_as = run_as;
  o.cwd = data_dir;
  o.capture_output = true;
  o.die_with_parent = true;
  auto r = Run(o, kClientLimit);
  if (!r.ok()) return r.status().Wrap("pg_controldata");
  if (!r->ok()) {
    return IoError(fmt::format("pg_controldata {} failed: {}", data_dir,
                               ClientErrorSummary(r->output, "pg_controldata")));
  }
  // The control file's names for the settings a hot standby needs at least as high.
  const std::pair<const char*, const char*> names[] = {
      {"max_connections setting:", "max_connections"},
      {"max_worker_processes setting:", "max_worker_processes"},
      {"max_wal_senders setting:", "max_wal_senders"},
      {"max_prepared_xacts setting:", "max_prepared_transactions"},
      {"max_locks_per_xact setting:", "max_locks_per_transaction"}};
  std::map<std::string, std::string> out;
  for (const auto& line : Split(r->output, '\n')) {
    for (const auto& [label, setting] : names) {
      if (line.rfind(label, 0) != 0) continue;
      long primary = std::strtol(line.c_str() + std::strlen(label), nullptr, 10);
      long mine = 0;
      if (auto it = current.find(setting); it != current.end()) {
        mine = std::strtol(it->second.c_str(), nullptr, 10);
      }
      out[setting] = std::to_string(std::max(primary, mine));
    }
  }
  if (out.size() != std::size(names)) {
    return IoError(
        fmt::format("pg_controldata {} did not list the hot standby settings", data_dir));
  }
  return out;
}

std::vector<std::string> FollowArgs(const Primary& primary, const std::string& application_name) {
  std::string conninfo = primary.spec->primary.ToString();
  if (!primary.passfile.empty()) conninfo += " passfile='" + primary.passfile + "'";
  conninfo += " application_name='" + application_name + "'";
  return {"-c", "primary_conninfo=" + conninfo, "-c", "primary_slot_name=" + primary.spec->slot,
          "-c", "hot_standby=on",
          // Queries on the standby are the daemon's own short ones; replay never waits long.
          "-c", "max_standby_streaming_delay=5s", "-c", "wal_receiver_timeout=10s", "-c",
          "wal_retrieve_retry_interval=1s"};
}

Result<std::string> BootstrapSuperuser(const Socket& socket, const std::string& login) {
  ZDAP_ASSIGN_OR_RETURN(std::string name,
                        Query(socket, login, "SELECT rolname FROM pg_roles WHERE oid = 10",
                              "finding the standby's superuser"));
  if (name.empty()) return IoError("the standby has no bootstrap superuser (oid 10)");
  return name;
}

Result<FollowState> QueryFollowState(const Socket& socket, const std::string& superuser) {
  ZDAP_ASSIGN_OR_RETURN(
      std::string row,
      Query(socket, superuser,
            "SELECT coalesce(r.status, ''), "
            "greatest(coalesce(pg_wal_lsn_diff(r.latest_end_lsn, pg_last_wal_replay_lsn()), "
            "0), 0)::bigint, "
            "coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::text, ''), "
            "coalesce(pg_last_wal_replay_lsn()::text, '') "
            "FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver r ON true",
            "asking the standby how it follows"));
  auto f = Split(row, '|');
  if (f.size() != 4) return IoError(fmt::format("the standby answered '{}'", row.substr(0, 200)));
  FollowState s;
  s.receiver = f[0];
  s.lag_bytes = std::strtoull(f[1].c_str(), nullptr, 10);
  s.last_replayed = EpochTime(f[2]);
  s.replay_lsn = f[3];
  return s;
}

Status WaitReplayed(Env& env, const Socket& socket, const std::string& superuser,
                    const std::string& lsn, std::chrono::milliseconds limit) {
  const SteadyTime until = env.MonotonicNow() + limit;
  const std::string sql = fmt::format(
      "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), {}::pg_lsn) >= 0", PgLiteral(lsn));
  for (;;) {
    ZDAP_ASSIGN_OR_RETURN(std::string done, Query(socket, superuser, sql, "waiting for replay"));
    if (done == "t") return Status::Ok();
    if (env.MonotonicNow() >= until) {
      return Unavailable(
          fmt::format("the standby did not replay the primary's WAL up to {} within {} s", lsn,
                      std::chrono::duration_cast<std::chrono::seconds>(limit).count()));
    }
    env.SleepFor(std::chrono::milliseconds(100));
  }
}

Status Checkpoint(const Socket& socket, const std::string& superuser) {
  return Query(socket, superuser, "CHECKPOINT", "restartpoint on the standby").status();
}

Result<std::optional<SystemTime>> Promote(const Socket& socket, const std::string& superuser) {
  ZDAP_ASSIGN_OR_RETURN(std::string done, Query(socket, superuser, "SELECT pg_promote(true, 300)",
                                                "ending recovery (pg_promote)"));
  if (done != "t") return IoError("pg_promote did not end recovery within 300 s");
  // The last replayed commit's time stays known after recovery ends.
  ZDAP_ASSIGN_OR_RETURN(
      std::string when,
      Query(socket, superuser,
            "SELECT coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::text, '')",
            "reading the last replayed commit's time"));
  return EpochTime(when);
}

Status EnsureResourceUser(const Socket& socket, const std::string& superuser,
                          const std::string& user, const std::string& database) {
  ZDAP_ASSIGN_OR_RETURN(
      std::string found,
      Query(socket, superuser,
            fmt::format("SELECT count(*) FROM pg_database WHERE datname = {}", PgLiteral(database)),
            "looking for source.database"));
  if (found != "1") {
    return NotFound(fmt::format(
        "the primary has no database '{}' (source.database names the one clients use)", database));
  }
  if (user == superuser) return Status::Ok();
  return Query(socket, superuser,
               fmt::format("DO $zdap$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {0}) "
                           "THEN ALTER ROLE {1} SUPERUSER LOGIN; ELSE CREATE ROLE {1} SUPERUSER "
                           "LOGIN; END IF; END $zdap$",
                           PgLiteral(user), PgIdent(user)),
               "making the resource's user a superuser")
      .status();
}

}  // namespace zdap::engine::standby
