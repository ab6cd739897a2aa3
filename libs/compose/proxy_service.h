// ProxyService: the compose service zdap writes into an override file so that a compose
// project reaches a remote clone through zdap-proxyd, listening where the database did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace zdap::compose {

// Path of the proxy binary inside the zdap/proxyd image (FROM scratch: no shell).
inline constexpr const char kProxyBinary[] = "/zdap-proxyd";

struct ProxyService {
  std::string name;                  // compose service name, e.g. "db"
  std::string image;                 // "zdap/proxyd:0.1.0"
  uint16_t listen_port = 0;          // the base service's container port, e.g. 5432
  std::vector<std::string> targets;  // "host:port" of the clone(s)
  std::string note;                  // one line for a comment: what clone this is
  // When the base service has `build:`, docker-compose v1 would build it under our image
  // name (v1 has no `!reset`). Then the override points build at this directory, which holds
  // a Dockerfile that is just `FROM <image>`. Empty: no build key is written.
  std::string build_context;
  std::string build_target;  // stage name the base build asks for, reused for our stage
  // `extra_hosts` entries, e.g. "host.docker.internal:host-gateway" for a clone on the
  // docker host itself.
  std::vector<std::string> extra_hosts;
};

// Compose service names zdap writes: ^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$.
Status ValidateServiceName(const std::string& name);

// The service's YAML lines below its key, each indented by `indent` (the service key's own
// indentation) plus multiples of `step`, each ending in `eol`: the key line and the body.
std::vector<std::string> RenderProxyService(const ProxyService& service, size_t indent, size_t step,
                                            const std::string& eol);

// The Dockerfile placed in build_context: "FROM <image> AS <target or zdap>\n".
std::string ProxyDockerfile(const ProxyService& service);

// A YAML double-quoted scalar (JSON-compatible escaping).
std::string YamlQuote(const std::string& s);

}  // namespace zdap::compose
