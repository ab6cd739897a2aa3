#include <fmt/format.h>

#include "engine/engine.h"
#include "engine/mariadb_engine.h"
#include "engine/postgres_engine.h"

namespace zdap::engine {

Result<std::unique_ptr<Engine>> MakeEngine(const std::string& name) {
  if (name == "postgres") return std::unique_ptr<Engine>(std::make_unique<PostgresEngine>());
  // "mysql" runs the same binaries: distributions ship MariaDB under both names.
  if (name == "mariadb" || name == "mysql") {
    return std::unique_ptr<Engine>(std::make_unique<MariadbEngine>(name));
  }
  return Unprocessable(fmt::format("engine '{}' is not supported by this build of zdapd", name));
}

}  // namespace zdap::engine
