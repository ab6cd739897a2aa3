// The postgres engine: PostgreSQL 13+ from Debian's layout (/usr/lib/postgresql/<v>/bin).
#pragma once

#include <functional>

#include "engine/engine.h"

namespace zdap::engine {

class PostgresEngine : public Engine {
 public:
  explicit PostgresEngine(Env* env = nullptr) : Engine(env) {}
  const char* name() const override { return "postgres"; }
  int default_port() const override { return 5432; }
  const char* admin_database() const override { return "postgres"; }

  Status InitDataDir(const config::Resource& resource, const std::string& data_dir,
                     const std::string& scratch_dir, const RunAs& run_as) override;
  Result<ServerSpec> ServerCommand(const config::Resource& resource, const std::string& data_dir,
                                   const std::string& run_dir, const std::string& bind,
                                   int port) const override;
  Result<bool> PrepareSnapshot(const config::Resource& resource, const Endpoint& socket,
                               const std::string& data_dir,
                               const std::optional<RunAs>& run_as) const override;
  Status PrepareClone(const config::Resource& resource, const std::string& password,
                      const std::string& run_dir, const std::optional<RunAs>& run_as,
                      CloneLock lock, ServerSpec* spec) const override;
  bool activates_after_start() const override { return true; }
  Status ActivateClone(const config::Resource& resource, const Endpoint& socket,
                       const std::string& data_dir, const std::string& password,
                       const std::optional<RunAs>& run_as, CloneLock lock,
                       std::chrono::milliseconds timeout,
                       const std::function<bool()>& running) const override;
  Status RotatePassword(const config::Resource& resource, const Endpoint& socket,
                        const std::string& data_dir, const std::string& password,
                        const std::optional<RunAs>& run_as,
                        std::chrono::milliseconds timeout) const override {
    // The exchange of a fresh clone's activation: a new verifier, nothing else. The running
    // server's pg_hba.conf is the final one already, whatever its snapshot held: the server
    // was activated before anyone could claim it. (A reload here cost every claim a SIGHUP
    // to the postmaster and its children.)
    return ActivateClone(resource, socket, data_dir, password, run_as, CloneLock::kNoPassword,
                         timeout, [] { return true; });
  }
  Result<int> ClientSessions(const config::Resource& resource, const Endpoint& socket,
                             const std::optional<RunAs>& run_as,
                             std::chrono::milliseconds timeout) const override;
  ProbeResult Probe(const Endpoint& endpoint, const config::Resource& resource,
                    std::chrono::milliseconds timeout) const override;
  Status Import(const config::Resource& resource, const Endpoint& endpoint,
                const RunAs& run_as) override;
  Status RunAfter(const config::Resource& resource, const Endpoint& endpoint,
                  const RunAs& run_as) override;
  Status ForgetReplaced(const config::Resource& resource, const Endpoint& socket,
                        const RunAs& run_as) const override;
  Status ForgetHistory(const config::Resource& resource, const std::string& data_dir,
                       const RunAs& run_as) const override;
  std::string ConnectionUri(const config::Resource& resource, const std::string& host,
                            int port) const override;

  // After a plain SQL import into the maintenance database: makes sure the resource's
  // database exists. A dump that made it (pg_dump --create: CREATE DATABASE, \c) is left as
  // is; a dump of one database (no CREATE DATABASE) had its objects land in "postgres",
  // which is renamed to the resource's database and made again empty. `psql(db)` is a client
  // reading a script from stdin ("-f -" last); `label` names the dump in errors.
  static Status AdoptPlainDump(const config::Resource& resource,
                               const std::function<SpawnOptions(const std::string&)>& psql,
                               const std::string& label);

  // /usr/lib/postgresql/<version>/bin, or the newest installed when version is empty.
  // psql as `run_as` on the server's unix socket (trusted there) as `user` on `database`,
  // without ~/.psqlrc; the caller appends what to run (-c ..., -f ...).
  static SpawnOptions PsqlOnSocket(const std::string& bin, const Endpoint& socket,
                                   const std::string& user, const std::string& database,
                                   const std::optional<RunAs>& run_as);
  static Result<std::string> BinDir(const std::string& version);
};

// Percent-encodes a URI userinfo or path component.
std::string UriEscape(const std::string& s);

}  // namespace zdap::engine
