// The mariadb engine (also serving the name "mysql"): MariaDB 10.4+ from the distribution's
// packages (mariadbd, mariadb-install-db, the mariadb client), or MySQL-named binaries.
#pragma once

#include <string>

#include "engine/engine.h"

namespace zdap::engine {

class MariadbEngine : public Engine {
 public:
  MariadbEngine(std::string name, Env* env = nullptr) : Engine(env), name_(std::move(name)) {}
  const char* name() const override { return name_.c_str(); }
  int default_port() const override { return 3306; }
  const char* admin_database() const override { return "mysql"; }

  Status InitDataDir(const config::Resource& resource, const std::string& data_dir,
                     const std::string& scratch_dir, const RunAs& run_as) override;
  Result<ServerSpec> ServerCommand(const config::Resource& resource, const std::string& data_dir,
                                   const std::string& run_dir, const std::string& bind,
                                   int port) const override;
  Status PrepareClone(const config::Resource& resource, const std::string& password,
                      const std::string& run_dir, const std::optional<RunAs>& run_as,
                      CloneLock lock, ServerSpec* spec) const override;
  bool activates_after_start() const override { return false; }
  Status RotatePassword(const config::Resource& resource, const Endpoint& socket,
                        const std::string& data_dir, const std::string& password,
                        const std::optional<RunAs>& run_as,
                        std::chrono::milliseconds timeout) const override;
  Result<int> ClientSessions(const config::Resource& resource, const Endpoint& socket,
                             const std::optional<RunAs>& run_as,
                             std::chrono::milliseconds timeout) const override;
  ProbeResult Probe(const Endpoint& endpoint, const config::Resource& resource,
                    std::chrono::milliseconds timeout) const override;
  Status Import(const config::Resource& resource, const Endpoint& endpoint,
                const RunAs& run_as) override;
  std::string ConnectionUri(const config::Resource& resource, const std::string& host,
                            int port) const override;

  // The server's unix socket inside a run dir (Endpoint::socket_dir).
  static std::string SocketPath(const std::string& run_dir);
  // The mariadb (or mysql) client program.
  static Result<std::string> ClientProgram();
  // A string literal for MariaDB's default sql_mode.
  static std::string SqlLiteral(const std::string& s);

 private:
  std::string name_;
};

}  // namespace zdap::engine
