// Reading the base compose file (docker-compose.yml): what zdap needs to know about the
// service it replaces with a proxy. Read-only; zdap never edits the base file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.h"

namespace zdap::compose {

struct BaseService {
  bool defined = false;          // the base file has this service at all
  std::optional<uint16_t> port;  // container port: first of `ports` (container side), else `expose`
  bool has_build = false;        // the service has `build:`
  std::string build_target;      // its `build.target`, if any
};

struct ComposeFile {
  std::string path;
  std::string version;  // top-level `version:`, "" when absent
};

// Reads and checks `path` (YAML, a mapping). NotFound when there is no such file.
Result<ComposeFile> ReadComposeFile(const std::string& path);
// What the base file says about `service`.
Result<BaseService> ReadBaseService(const std::string& path, const std::string& service);

// The container side of one `ports` entry: 5432, "5432", "15432:5432", "127.0.0.1:1:5432/tcp",
// "6000-6001:6000-6001" (first of the range), or the long form's `target`.
std::optional<uint16_t> ContainerPortOf(const std::string& entry);

}  // namespace zdap::compose
