// PostgresEngine's half of "a secret per clone". A snapshot readied by PrepareSnapshot holds
// no password for the resource's user and the final pg_hba.conf (TCP: only that user, with
// SCRAM): a fresh clone of it starts as it is, and as soon as it answers on its private unix
// socket one pipelined exchange sets the user's SCRAM verifier (CloneLock::kNoPassword).
// Any other data (older snapshots with the import's password, branches, restarts) starts
// with TCP rejected by pg_hba.conf, and the exchange also reloads the final pg_hba.conf
// (CloneLock::kConfig).
#include <fmt/format.h>
#include <unistd.h>

#include "core/file_util.h"
#include "engine/postgres_engine.h"
#include "engine/postgres_quote.h"
#include "engine/probe_socket.h"
#include "engine/scram_verifier.h"
#include "wire/postgres_wire.h"

namespace zdap::engine {
namespace {
namespace pgwire = wire::pg;

// Before the password is set: the daemon over the unix socket in the private (0700) run dir,
// nobody over TCP.
constexpr const char* kHbaLocked =
    "# zdap clone: only the daemon, over the private unix socket, until the clone's password "
    "is set\n"
    "local all all trust\n"
    "host all all all reject\n";

Status WriteOwnedFile(const std::string& path, const std::string& text,
                      const std::optional<RunAs>& run_as) {
  // Written again before every start (PrepareClone) and every activation: no fsync needed.
  // The server's user owns it from its first moment: the server may be reading it right now.
  std::optional<FileOwner> owner;
  if (run_as) owner = FileOwner{run_as->uid, run_as->gid};
  return ReplaceFile(path, text, 0600, owner);
}

std::string FinalHba(const config::Resource& resource) {
  return fmt::format(
      "# zdap clone: the daemon over the private unix socket; over TCP only {}, with the "
      "clone's password\n"
      "local all all trust\n"
      "host all {} all scram-sha-256\n",
      resource.user, PgIdent(resource.user));
}

void PutInt32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string Message(char type, std::string_view body) {
  std::string m(1, type);
  PutInt32(&m, static_cast<uint32_t>(body.size() + 4));
  m.append(body);
  return m;
}

uint32_t GetInt32(std::string_view b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
         (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

// Walks the backend messages in `bytes`: the number of ReadyForQuery seen, or the first
// ErrorResponse as an error. `complete` is false while a message is cut off.
struct Replies {
  int ready_for_query = 0;
  bool complete = true;
  std::optional<pgwire::Reply> error;
  bool malformed = false;
};

Replies ScanReplies(std::string_view bytes) {
  Replies r;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 5) {
      r.complete = false;
      break;
    }
    uint32_t len = GetInt32(bytes, at + 1);
    if (len < 4 || len > (1u << 20)) {
      r.malformed = true;
      break;
    }
    if (bytes.size() - at < 1 + size_t{len}) {
      r.complete = false;
      break;
    }
    char type = bytes[at];
    if (type == 'E' && !r.error) r.error = pgwire::ParseStartupReply(bytes.substr(at, 1 + len));
    if (type == 'Z') ++r.ready_for_query;
    at += 1 + len;
  }
  return r;
}

constexpr auto kPidFilePoll = std::chrono::microseconds(500);
constexpr auto kRunningCheck = std::chrono::milliseconds(20);

// What line 8 of postmaster.pid says. The postmaster writes the file first thing, without
// that line, then creates its sockets, adds "starting", and "ready" once it accepts
// connections. Reading the file costs microseconds and no server process, where a connection
// before "ready" costs the postmaster a fork that only answers 57P03 (0.8 of them per clone
// start, measured, before the rule that waits for "ready").
enum class PidFileStatus { kNone, kStarting, kReady, kOther };

PidFileStatus ReadPidFileStatus(const std::string& data_dir) {
  auto text = ReadFile(data_dir + "/postmaster.pid", 4096);
  if (!text.ok()) return PidFileStatus::kNone;
  size_t at = 0;
  for (int line = 1; line < 8; ++line) {
    at = text->find('\n', at);
    if (at == std::string::npos) return PidFileStatus::kStarting;  // still being written
    ++at;
  }
  std::string_view status = std::string_view(*text).substr(at);
  status = status.substr(0, status.find_first_of(" \n"));
  if (status.empty() || status == "starting") return PidFileStatus::kStarting;
  return status == "ready" ? PidFileStatus::kReady : PidFileStatus::kOther;
}

// One pipelined exchange over the unix socket at `socket`: startup as the resource's user
// into its database, `sql`, terminate. With trust auth the server needs nothing in between,
// so this costs one round trip. The exchange is its own readiness probe (one backend start
// fewer than probing first): while the server starts, the socket is missing or refuses, or
// the server answers 57P03 before it reads the query; either way nothing ran, so trying
// again is safe. While the pid file says "starting" there is no try at all; otherwise tries
// back off. `what` names the step in errors.
Status ExchangeOverSocket(Env& env, const config::Resource& resource, const Endpoint& socket,
                          const std::string& data_dir, const std::string& sql,
                          const std::string& what, SteadyTime deadline,
                          std::chrono::milliseconds timeout, const std::function<bool()>& running) {
  // Into the clone's database, the one its owner's first query goes to: this backend's
  // catalog reads warm the clone's caches for that query, and a missing database fails here.
  std::string request = pgwire::StartupMessage(resource.user, resource.source.database);
  request += Message('Q', sql + '\0');
  request += Message('X', "");
  std::string unix_path = fmt::format("{}/.s.PGSQL.{}", socket.socket_dir, socket.port);
  auto failed = [&](const std::string& why) {
    return Unavailable(fmt::format("{} over {} failed: {}", what, unix_path, why));
  };
  auto pause = std::chrono::microseconds(250);
  auto next_try = env.MonotonicNow();
  // Cleared when a server whose pid file said "ready" refused anyway (a stale file): from then
  // on the back-off alone times the tries.
  bool trust_pid_file = true;
  // `running` may ask the docker daemon: not at every poll of the pid file.
  auto next_running_check = env.MonotonicNow() + kRunningCheck;
  for (;;) {
    // Not read once it is no longer trusted: the back-off alone decides then.
    PidFileStatus status = trust_pid_file ? ReadPidFileStatus(data_dir) : PidFileStatus::kNone;
    bool ready_said = status == PidFileStatus::kReady;
    bool wait_for_pid_file = status == PidFileStatus::kStarting;
    if (!ready_said && (wait_for_pid_file || env.MonotonicNow() < next_try)) {
      auto now = env.MonotonicNow();
      if (now >= next_running_check) {
        // Worded for "the postgres server ...", as the caller reports it.
        if (running && !running()) return Unavailable("exited during start-up");
        next_running_check = now + kRunningCheck;
      }
      if (now >= deadline) {
        return Unavailable(fmt::format(
            "did not answer on {} within {} ms ({})", unix_path, timeout.count(),
            wait_for_pid_file ? "its pid file still says starting" : "no connection taken yet"));
      }
      // The pid file is polled; without it, sleep until the next try (or the next check).
      env.SleepUntil(trust_pid_file ? now + kPidFilePoll : std::min(next_try, next_running_check));
      continue;
    }
    std::string not_yet;
    {
      ProbeConnection conn("", socket.port, unix_path, deadline);
      if (conn.transport() == ProbeTransport::kRefused) {
        not_yet = conn.error();
      } else if (!conn.ok()) {
        return failed(conn.error());
      } else {
        if (!conn.Send(request)) return failed(conn.error());
        if (!conn.Receive([](std::string_view b) {
              Replies r = ScanReplies(b);
              return r.malformed || r.error || r.ready_for_query >= 2;
            })) {
          return failed(conn.error());
        }
        Replies r = ScanReplies(conn.received());
        if (r.error && r.error->sqlstate == "57P03" && r.ready_for_query == 0) {
          not_yet = r.error->message;
        } else if (r.error) {
          return failed(fmt::format("{} ({})", r.error->message, r.error->sqlstate));
        } else if (r.malformed || r.ready_for_query < 2) {
          return failed("the server's reply is not a finished PostgreSQL exchange");
        } else {
          return Status::Ok();
        }
      }
    }
    if (ready_said) trust_pid_file = false;
    if (running && !running()) return Unavailable("exited during start-up");
    if (env.MonotonicNow() + pause >= deadline) {
      return Unavailable(fmt::format("did not answer on {} within {} ms ({})", unix_path,
                                     timeout.count(), not_yet));
    }
    next_try = env.MonotonicNow() + pause;
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace

Result<bool> PostgresEngine::PrepareSnapshot(const config::Resource& resource,
                                             const Endpoint& socket, const std::string& data_dir,
                                             const std::optional<RunAs>& run_as) const {
  // Read at each start of a clone: the running import server (unix socket only) keeps its
  // own. A failure fails the refresh: no snapshot is made of half-readied data.
  ZDAP_RETURN_IF_ERROR(WriteOwnedFile(data_dir + "/pg_hba.conf", FinalHba(resource), run_as));
  // A role without a password fails every SCRAM login: a fresh clone's TCP is closed until
  // ActivateClone sets the clone's own, with no pg_hba.conf to swap and no reload. Committed
  // durably (the default), before the server's clean stop and the snapshot.
  constexpr auto kTimeout = std::chrono::seconds(30);
  ZDAP_RETURN_IF_ERROR(ExchangeOverSocket(
      env(), resource, socket, data_dir,
      fmt::format("ALTER ROLE {} PASSWORD NULL", PgIdent(resource.user)),
      "clearing the import's password", env().MonotonicNow() + kTimeout, kTimeout, nullptr));
  return true;
}

Status PostgresEngine::PrepareClone(const config::Resource& resource, const std::string& password,
                                    const std::string& run_dir, const std::optional<RunAs>& run_as,
                                    CloneLock lock, ServerSpec* spec) const {
  (void)password;
  (void)run_dir;
  // kNoPassword: the snapshot's pg_hba.conf is the final one already.
  if (lock == CloneLock::kNoPassword) return Status::Ok();
  return WriteOwnedFile(spec->data_dir + "/pg_hba.conf", kHbaLocked, run_as);
}

Status PostgresEngine::ActivateClone(const config::Resource& resource, const Endpoint& socket,
                                     const std::string& data_dir, const std::string& password,
                                     const std::optional<RunAs>& run_as, CloneLock lock,
                                     std::chrono::milliseconds timeout,
                                     const std::function<bool()>& running) const {
  // Called right after the server's start: the verifier (4096 PBKDF2 rounds) and the file
  // are made while the server is still starting up.
  auto deadline = env().MonotonicNow() + timeout;
  ZDAP_ASSIGN_OR_RETURN(std::string verifier, ScramSha256Verifier(password));
  // The commit does not wait for its WAL flush (an fsync, milliseconds): a crash that lost
  // it is harmless, since every start of the clone sets the password again (kNoPassword:
  // the user is left without one, which admits nobody).
  std::string sql = fmt::format("SET synchronous_commit = off; ALTER ROLE {} PASSWORD '{}'",
                                PgIdent(resource.user), verifier);
  if (lock == CloneLock::kConfig) {
    // Written before the reload that reads it; until then the locked file is in force.
    // postgres listens on TCP before its unix socket and the postmaster has reloaded
    // pg_hba.conf when pg_reload_conf() returns (its signal handler runs first).
    ZDAP_RETURN_IF_ERROR(WriteOwnedFile(data_dir + "/pg_hba.conf", FinalHba(resource), run_as));
    sql += "; SELECT pg_reload_conf()";
  }
  return ExchangeOverSocket(env(), resource, socket, data_dir, sql, "setting the clone's password",
                            deadline, timeout, running);
}

}  // namespace zdap::engine
