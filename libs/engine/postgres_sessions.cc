// PostgresEngine::ClientSessions: pg_stat_activity's client backends, asked with psql over the
// clone's private unix socket (trusted there) for idle expiry.
#include <fmt/format.h>

#include "engine/dump_source.h"
#include "engine/postgres_engine.h"

namespace zdap::engine {

SpawnOptions PostgresEngine::PsqlOnSocket(const std::string& bin, const Endpoint& socket,
                                          const std::string& user, const std::string& database,
                                          const std::optional<RunAs>& run_as) {
  SpawnOptions o;
  o.argv = {bin + "/psql", "-X", "-h", socket.socket_dir, "-p", std::to_string(socket.port),
            "-U",          user, "-d", database};
  o.run_as = run_as;
  o.cwd = socket.socket_dir;
  return o;
}

Result<int> PostgresEngine::ClientSessions(const config::Resource& resource, const Endpoint& socket,
                                           const std::optional<RunAs>& run_as,
                                           std::chrono::milliseconds timeout) const {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  SpawnOptions o = PsqlOnSocket(bin, socket, resource.user, admin_database(), run_as);
  o.argv.insert(o.argv.end(), {"-A", "-t", "-c",
                               "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                               "'client backend' AND pid <> pg_backend_pid()"});
  o.capture_output = true;
  o.die_with_parent = true;
  auto r = Run(o, timeout);
  if (!r.ok()) return r.status().Wrap("counting sessions");
  if (!r->ok()) {
    return Unavailable(
        fmt::format("counting sessions failed: {}", ClientErrorSummary(r->output, "psql")));
  }
  return ParseCountOutput(r->output);
}

}  // namespace zdap::engine
