// The project file .zdap.yaml, beside the compose file: which compose and override files the
// project uses, and which clone each zdap service stands for. Written by `zdap init` and
// `zdap attach`/`detach` under the project lock:
//
//   # zdap project file: written by zdap init/attach/detach
//   compose: docker-compose.yml
//   override: docker-compose.override.yml
//   services:
//     db:
//       resource: chinook
//       clone: chinook-7f3a
//       origin: http://127.0.0.1:43210
//       snapshot: chinook@20261122T030405Z
//       target: 127.0.0.1:6001
//       listen: 5432
//       replicas:                 # only with `attach --replicas N`: the other N-1 clones
//         - {clone: chinook-9c1e, origin: http://db2:43210, target: 192.0.2.2:6004}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::cli {

inline constexpr const char kProjectFileName[] = ".zdap.yaml";

// One more clone behind the same proxy service (attach --replicas).
struct Replica {
  std::string clone;
  std::string origin;
  std::string target;
};

struct AttachedService {
  std::string service;
  std::string resource;
  std::string clone;
  std::string origin;
  std::string snapshot;
  std::string target;  // host:port the proxy forwards to
  uint16_t listen = 0;
  std::vector<Replica> replicas;  // besides the clone above
};

struct Project {
  std::string dir;      // absolute directory holding .zdap.yaml
  std::string compose;  // relative to dir (or absolute)
  std::string override_file;
  std::vector<AttachedService> services;

  std::string ComposePath() const;
  std::string OverridePath() const;
  std::string FilePath() const { return dir + "/" + kProjectFileName; }
  const AttachedService* Find(const std::string& service) const;
  void Remove(const std::string& service);
};

// Reads <dir>/.zdap.yaml. NotFound (with what to do) when there is none.
Result<Project> LoadProject(const std::string& dir);
Status SaveProject(const Project& project);

}  // namespace zdap::cli
