// MariadbEngine on a running clone: a new password for a claimed pool clone, and the
// processlist's count of client sessions for idle expiry. Both through the mariadb client on
// the private unix socket as the resource's superuser ('localhost' keeps the import's
// password; the clone's own is the '%' account's).
#include <fmt/format.h>
#include <unistd.h>

#include "core/file_util.h"
#include "engine/dump_source.h"
#include "engine/mariadb_engine.h"

namespace zdap::engine {
namespace {

Result<SpawnOptions> SocketClient(const config::Resource& resource, const Endpoint& socket,
                                  const std::optional<RunAs>& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string client, MariadbEngine::ClientProgram());
  SpawnOptions o;
  o.argv = {client,
            "--no-defaults",
            "--socket=" + MariadbEngine::SocketPath(socket.socket_dir),
            "--user=" + resource.user,
            "--batch",
            "--skip-column-names"};
  o.env = {"MYSQL_PWD=" + resource.password};  // never in argv
  o.run_as = run_as;
  o.cwd = socket.socket_dir;
  o.capture_output = true;
  o.die_with_parent = true;
  return o;
}

}  // namespace

Status MariadbEngine::RotatePassword(const config::Resource& resource, const Endpoint& socket,
                                     const std::string& data_dir, const std::string& password,
                                     const std::optional<RunAs>& run_as,
                                     std::chrono::milliseconds timeout) const {
  (void)data_dir;
  ZDAP_ASSIGN_OR_RETURN(SpawnOptions o, SocketClient(resource, socket, run_as));
  // The statement carries the password: it goes on stdin from a 0600 file the daemon opens.
  std::string file = socket.socket_dir + "/rotate-password.sql";
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(
      file,
      fmt::format("ALTER USER {}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n",
                  SqlLiteral(resource.user), SqlLiteral(password)),
      0600));
  o.stdin_path = file;
  auto r = Run(o, timeout);
  ::unlink(file.c_str());
  if (!r.ok()) return r.status().Wrap("setting the clone's new password");
  if (!r->ok()) {
    return Unavailable(fmt::format("setting the clone's new password failed: {}",
                                   ClientErrorSummary(r->output, "mariadb")));
  }
  return Status::Ok();
}

Result<int> MariadbEngine::ClientSessions(const config::Resource& resource, const Endpoint& socket,
                                          const std::optional<RunAs>& run_as,
                                          std::chrono::milliseconds timeout) const {
  ZDAP_ASSIGN_OR_RETURN(SpawnOptions o, SocketClient(resource, socket, run_as));
  o.argv.push_back(
      "--execute=SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> "
      "CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump') AND USER NOT IN "
      "('system user', 'event_scheduler')");
  auto r = Run(o, timeout);
  if (!r.ok()) return r.status().Wrap("counting sessions");
  if (!r->ok()) {
    return Unavailable(
        fmt::format("counting sessions failed: {}", ClientErrorSummary(r->output, "mariadb")));
  }
  return ParseCountOutput(r->output);
}

}  // namespace zdap::engine
