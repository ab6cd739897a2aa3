#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/mariadb_engine.h"
#include "engine/postgres_engine.h"

namespace zdap::engine {

std::string FormatConnectionUri(const char* scheme, const config::Resource& resource,
                                const std::string& host, int port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string userinfo = UriEscape(resource.user);
  if (!resource.password.empty()) userinfo += ":" + UriEscape(resource.password);
  return fmt::format("{}://{}@{}:{}/{}", scheme, userinfo, h, port,
                     UriEscape(resource.source.database));
}

Result<std::unique_ptr<Engine>> MakeEngine(const std::string& name, Env* env) {
  if (name == "postgres") return std::unique_ptr<Engine>(std::make_unique<PostgresEngine>(env));
  // "mysql" runs the same binaries: distributions ship MariaDB under both names.
  if (name == "mariadb" || name == "mysql") {
    return std::unique_ptr<Engine>(std::make_unique<MariadbEngine>(name, env));
  }
  return Unprocessable(fmt::format("engine '{}' is not supported by this build of zdapd", name));
}

Status Engine::RunAfter(const config::Resource& resource, const Endpoint& endpoint,
                        const RunAs& run_as) {
  (void)resource;
  (void)endpoint;
  (void)run_as;
  return Unprocessable(fmt::format("the {} engine has no standby source", name()));
}

}  // namespace zdap::engine
