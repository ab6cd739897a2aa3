// Servers: the database servers of clones and imports, as the origin starts and stops them.
// Starting one means waiting until it answers its wire protocol (bounded) with the clone's own
// password in force; a start that fails stops what it started and says why with the server's
// last log lines. Stopping finds servers by their handle, by the runtime's own listing
// (process: the data dir it runs in; docker: labels) and by the engine's pid file, so that a
// server whose record a crash lost is found too. Each server has a private run dir
// (<data_dir>/run/<name>: sockets, logs, secret files) owned by the server user.
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "catalog/clone_record.h"
#include "config/resource.h"
#include "core/env.h"
#include "core/result.h"
#include "core/subprocess.h"
#include "engine/engine.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"
#include "runtime/runtime.h"
#include "storage/driver.h"

namespace zdap::origin {

// One server start: where it runs and how it is told apart.
struct ServerStart {
  const config::Resource* resource = nullptr;
  std::string data_dir;
  std::string run_dir;
  std::string bind;  // "" = no TCP listener: the unix socket in run_dir only (an import)
  int port = 0;
  std::string label;  // the clone's id, or "import-<resource>"
  std::string owner;
  // The clone's own password (Engine::PrepareClone/ActivateClone with `lock`): the server is
  // ready once it answers on TCP with it in force. "" = an import's server.
  std::string password;
  engine::CloneLock lock = engine::CloneLock::kConfig;
  // A standby's server: more arguments after the engine's (later settings win), the role its
  // readiness probe logs in as ("" = the resource's user), and how long it may take to come
  // up (recovery replays WAL first).
  std::vector<std::string> extra_args;
  std::string probe_user;
  std::chrono::seconds start_deadline{120};
};

class Servers {
 public:
  // How long a server gets to stop politely before it is killed.
  static constexpr auto kStopGrace = std::chrono::seconds(30);

  Servers(Env& env, runtime::Runtime& runtime, const ResourceSet& resources, storage::Driver& store,
          SecretStore& secrets, std::optional<RunAs> run_as, std::string data_dir,
          std::string clone_bind);

  runtime::Runtime& runtime() const { return runtime_; }
  const std::optional<RunAs>& run_as() const { return run_as_; }
  std::string RunDir(const std::string& name) const;
  // Empties (or makes) `dir`, mode 0700, owned by the server user.
  Status PrepareRunDir(const std::string& dir) const;
  // Gives `path` to the user the database servers run as (no-op when that is us).
  Status ChownToServerUser(const std::string& path) const;

  Result<runtime::ServerHandle> StartAndWait(const ServerStart& start);
  // A ready clone's server on its volume, port and password (its secret file's); the handle
  // goes into `record` (not saved).
  Status StartClone(catalog::CloneRecord* record, const config::Resource& resource);
  // Stops a clone's server cleanly (the engine's stop signal, kStopGrace) and forgets its
  // handle in `record` (not saved).
  Status StopClone(catalog::CloneRecord* record, const config::Resource& resource);
  // The engine's polite stop signal for `resource`'s servers (SIGTERM when unknown).
  int StopSignal(const config::Resource* resource, const std::string& data_dir,
                 const std::string& run_dir) const;
  // A refresh's server once its work is over: `clean` stops it with the engine's signal
  // (kStopGrace) so that its data is whole, and kills it if that fails (saying why); else (the
  // work failed, its data goes) kills it at once.
  Status StopScratch(const runtime::ServerHandle& handle, const config::Resource& resource,
                     const std::string& data_dir, const std::string& run_dir, bool clean);
  // Stops every server still running from `data_dir` that no record may keep: those the
  // runtime finds (process by cwd, docker by `label`), and the one the engine's pid file in
  // `run_dir` names. `resource` null = unknown: every engine in use is asked.
  void StopServersOf(const std::string& data_dir, const std::string& run_dir,
                     const std::string& label, const config::Resource* resource);
  // Stops servers running from a ready clone's volume that its record does not name (one
  // started just before a crash, before its handle was saved); the one it names stays.
  void StopUnrecorded(const catalog::CloneRecord& record, const config::Resource* resource);
  static runtime::ServerHandle HandleOf(const catalog::CloneRecord& record);

 private:
  Env& env_;
  runtime::Runtime& runtime_;
  const ResourceSet& resources_;
  storage::Driver& store_;
  SecretStore& secrets_;
  const std::optional<RunAs> run_as_;
  const std::string data_dir_;
  const std::string clone_bind_;
};

}  // namespace zdap::origin
