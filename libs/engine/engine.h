// Engine layer: one database product (SPEC "Layers"). An engine knows how to initialise a
// data directory, the server's command line, how to tell over its wire protocol that the
// server is ready, how to import dumps, and how to form a connection URI. It does not know
// where the server runs: the runtime layer starts and stops the command it describes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/resource.h"
#include "core/env.h"
#include "core/result.h"
#include "core/subprocess.h"

namespace zdap::engine {

// What keeps a clone's TCP logins closed from its server's start until ActivateClone.
enum class CloneLock {
  // A configuration that refuses TCP (postgres: pg_hba.conf), replaced and reloaded by
  // ActivateClone. Holds for any data: snapshots made before PrepareSnapshot existed (they
  // hold the import's password), branches and restarted clones (a password of their own).
  kConfig,
  // The data has no password for the resource's user and its final configuration: logins
  // fail until ActivateClone sets one, with nothing to reload. Only for the first start of a
  // clone of a snapshot that PrepareSnapshot readied.
  kNoPassword,
};

// What the runtime needs to start one server.
struct ServerSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string data_dir;
  std::string log_path;
  int stop_signal = 0;  // signal for a clean, fast shutdown
  // Where the server writes its own pid (inside the run dir): how a restarted daemon finds a
  // server whose record it lost.
  std::string pid_file;
  // Files that carry a clone's password to the server at start (MariaDB's --init-file):
  // removed once the server is ready.
  std::vector<std::string> secret_files;
  // Files in the data dir that a server killed without a clean shutdown leaves behind and
  // that would stop the next start (postgres: postmaster.pid). Removed before every start.
  std::vector<std::string> stale_files;
};

// Where a server can be reached for a probe: TCP host:port, or a unix socket directory.
struct Endpoint {
  std::string host;        // "" with socket_dir set = unix socket
  std::string socket_dir;  // directory holding the engine's socket file
  int port = 0;
};

enum class Readiness { kReady, kStarting, kDown };

struct ProbeResult {
  Readiness readiness = Readiness::kDown;
  std::string detail;  // why not ready, for logs and error messages
};

class Engine {
 public:
  // `env` (null = Env::Default()) times the engine's waits: readiness, activation and
  // import deadlines and back-offs. It must outlive the engine.
  explicit Engine(Env* env) : env_(env != nullptr ? env : Env::Default()) {}
  virtual ~Engine() = default;
  virtual const char* name() const = 0;
  virtual int default_port() const = 0;
  // A database that exists right after InitDataDir, for probes before the import has made
  // the resource's own database ("postgres"; MariaDB: "mysql").
  virtual const char* admin_database() const = 0;

  // Creates a fresh, empty cluster in `data_dir` (owned by `run_as`), with the resource's
  // superuser and password. `scratch_dir` is a private directory for temporary secrets.
  virtual Status InitDataDir(const config::Resource& resource, const std::string& data_dir,
                             const std::string& scratch_dir, const RunAs& run_as) = 0;

  // The server command. `bind` empty = no TCP listener (unix socket in `run_dir` only).
  virtual Result<ServerSpec> ServerCommand(const config::Resource& resource,
                                           const std::string& data_dir, const std::string& run_dir,
                                           const std::string& bind, int port) const = 0;

  // Called on the import server once Import is done, before the data becomes a snapshot:
  // readies it for its clones. True if it left the resource's user without a password and
  // the configuration final (postgres: pg_hba.conf), so that a fresh clone of the snapshot
  // may start with CloneLock::kNoPassword; false if the engine needs nothing (MariaDB).
  virtual Result<bool> PrepareSnapshot(const config::Resource& resource, const Endpoint& socket,
                                       const std::string& data_dir,
                                       const std::optional<RunAs>& run_as) const {
    return false;
  }

  // A clone's own password (SPEC "A secret per clone"), in two steps around the server's
  // start so that no TCP login succeeds with anything but `password`.
  // PrepareClone, before the start: either TCP logins are refused until ActivateClone has
  // run (postgres: pg_hba.conf, or with kNoPassword the user's missing password), or the
  // server sets the password itself as it starts (MariaDB: --init-file, added to `spec`).
  // Files holding the password are 0600 in `run_dir`, owned by `run_as`, and listed in
  // spec->secret_files.
  virtual Status PrepareClone(const config::Resource& resource, const std::string& password,
                              const std::string& run_dir, const std::optional<RunAs>& run_as,
                              CloneLock lock, ServerSpec* spec) const = 0;
  // True if ActivateClone must run right after the server's start; until it has, TCP logins
  // are refused.
  virtual bool activates_after_start() const = 0;
  // Sets `password` over the unix socket at `socket` (never in argv or logs) and lets the
  // resource's user log in over TCP with it. Called only if activates_after_start(), right
  // after the start, with PrepareClone's `lock`: it waits (bounded by `timeout`) until the
  // server answers on the socket, and gives up early once `running()` is false. Ok means the
  // server is ready: it accepts the resource's user over TCP with `password` from now on (the
  // caller probes no further).
  virtual Status ActivateClone(const config::Resource& resource, const Endpoint& socket,
                               const std::string& data_dir, const std::string& password,
                               const std::optional<RunAs>& run_as, CloneLock lock,
                               std::chrono::milliseconds timeout,
                               const std::function<bool()>& running) const {
    return Status::Ok();
  }

  // Gives a running clone a new password (a pool clone handed to its claimer), set over the
  // unix socket at `socket` (never in argv or logs): from then on TCP logins with the
  // previous password fail. `data_dir` is the clone's.
  virtual Status RotatePassword(const config::Resource& resource, const Endpoint& socket,
                                const std::string& data_dir, const std::string& password,
                                const std::optional<RunAs>& run_as,
                                std::chrono::milliseconds timeout) const = 0;

  // How many client sessions the server has now by its own account (postgres:
  // pg_stat_activity's client backends; MariaDB: the processlist without system threads),
  // asked over the unix socket at `socket` as the resource's superuser; the asking session
  // is not counted.
  virtual Result<int> ClientSessions(const config::Resource& resource, const Endpoint& socket,
                                     const std::optional<RunAs>& run_as,
                                     std::chrono::milliseconds timeout) const = 0;

  // One readiness probe over the wire protocol, bounded by `timeout`.
  virtual ProbeResult Probe(const Endpoint& endpoint, const config::Resource& resource,
                            std::chrono::milliseconds timeout) const = 0;

  // Loads the resource's source into the running server reachable through `endpoint`'s unix
  // socket, then runs the resource's `after` scripts. Errors carry the client's own message
  // with the dump's line number.
  virtual Status Import(const config::Resource& resource, const Endpoint& endpoint,
                        const RunAs& run_as) = 0;
  // Runs only the resource's `after` scripts, in order, on its database (a snapshot whose data
  // came another way: a standby's). Import runs them itself. Only engines with a standby
  // source (postgres) need it.
  virtual Status RunAfter(const config::Resource& resource, const Endpoint& endpoint,
                          const RunAs& run_as);

  // Masking that leaves no trace (README "Masking"): once `after` has replaced values, the
  // old row versions still hold them (heap, indexes, TOAST, statistics) and so does the WAL.
  // ForgetReplaced runs on the import server after Import: it rewrites what holds old
  // versions and checkpoints. ForgetHistory runs on the cleanly stopped data dir: it removes
  // what the engine keeps of past writes beside the data (postgres: every WAL segment, by
  // pg_resetwal as pg_upgrade does). The defaults do nothing: an engine that cannot give the
  // guarantee says so in the README.
  virtual Status ForgetReplaced(const config::Resource& resource, const Endpoint& socket,
                                const RunAs& run_as) const {
    return Status::Ok();
  }
  virtual Status ForgetHistory(const config::Resource& resource, const std::string& data_dir,
                               const RunAs& run_as) const {
    return Status::Ok();
  }

  // The URI for the resource's user with `resource.password`; without one ("") the URI
  // names no password (user@host), for a view of a clone that is not the caller's.
  virtual std::string ConnectionUri(const config::Resource& resource, const std::string& host,
                                    int port) const = 0;

 protected:
  Env& env() const { return *env_; }

 private:
  Env* env_;
};

// The engine for `resource.engine`: "postgres", "mariadb" or "mysql" (MariaDB binaries).
// scheme://user[:password]@host:port/database for `resource`, each part percent-encoded; a
// host with ':' (IPv6) in brackets. The password part is left out when it is "".
std::string FormatConnectionUri(const char* scheme, const config::Resource& resource,
                                const std::string& host, int port);

// `env` as for Engine's constructor.
Result<std::unique_ptr<Engine>> MakeEngine(const std::string& name, Env* env = nullptr);

}  // namespace zdap::engine
