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
  std::string balance;               // zdap-proxyd --balance; "" = not written (first)
  std::string note;                  // one line for a comment: what clone this is
  // When the base service has `build:`, docker-compose v1 would build it under our image
  // name (v1 has no `!reset`). Then the override points build at this directory, which holds
  // a Dockerfile that is just `FROM <image>`. Empty: no build key is written.
  std::string build_context;
  std::string build_target;  // stage name the base build asks for, reused for our stage
  // What the base service would lend the proxy through docker-compose's merge, neutralised:
  // `ports` entries written again exactly as the base has them (flow YAML, so that compose
  // merges each onto itself), environment and label keys set to "", volume targets covered
  // by an empty tmpfs.
  std::vector<std::string> ports;
  std::vector<std::string> blank_environment;
  std::vector<std::string> blank_labels;
  std::vector<std::string> tmpfs_targets;
};

// The user the proxy image runs as (proxy/Dockerfile), written explicitly because a base
// `user:` (e.g. "postgres") does not exist in the FROM-scratch image.
inline constexpr const char kProxyUser[] = "65534:65534";

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
