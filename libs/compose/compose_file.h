// Reading the base compose file (docker-compose.yml): what zdap needs to know about the
// service it replaces with a proxy. Read-only; zdap never edits the base file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compose/proxy_service.h"
#include "core/result.h"

namespace zdap::compose {

// One `ports` entry: "5432", "5433:5432", "127.0.0.1:5433:5432", "[::1]:5433:5432/tcp", or
// the long form {target, published, host_ip, protocol, mode}. Ranges are refused.
struct PortEntry {
  std::string host_ip;     // "" when not given
  uint16_t published = 0;  // 0: docker picks one
  uint16_t target = 0;     // container side
  std::string protocol = "tcp";
  std::string yaml;  // the entry as a flow YAML value that docker-compose merges onto itself
};

Result<PortEntry> ParsePortEntry(const std::string& entry);

struct BaseService {
  bool defined = false;          // the base file has this service at all
  std::optional<uint16_t> port;  // container port: first tcp `ports` target, else `expose`
  bool has_build = false;        // the service has `build:`
  std::string build_target;      // its `build.target`, if any
  // What docker-compose 1.29 would merge from the base into the proxy service, so that the
  // override can neutralise it: published ports (kept as they are), environment and label
  // keys (blanked), volume mount targets (covered by an empty tmpfs).
  std::vector<PortEntry> ports;
  std::vector<std::string> environment_keys;
  std::vector<std::string> label_keys;
  std::vector<std::string> volume_targets;
};

struct ComposeFile {
  std::string path;
  std::string version;  // top-level `version:`, "" when absent
};

// Reads and checks `path` (YAML, a mapping). NotFound when there is no such file.
Result<ComposeFile> ReadComposeFile(const std::string& path);
// What the base file says about `service`. InvalidArgument, with what to change, when the
// service has a key an override cannot take away from the proxy (docker-compose merges it):
// env_file, secrets, configs, devices, volumes_from, extends; or a malformed `ports` entry.
Result<BaseService> ReadBaseService(const std::string& path, const std::string& service);

// Sets what `service` writes to neutralise `base` in the merge: its ports (verbatim), blanked
// environment and label keys, tmpfs over its volume targets.
void NeutraliseBaseKeys(const BaseService& base, ProxyService* service);

// The container side of one `expose` entry: 5432, "5432", "5432/tcp", "6000-6001" (first of
// the range).
std::optional<uint16_t> ContainerPortOf(const std::string& entry);

}  // namespace zdap::compose
