// Runtime layer: where a database server runs (SPEC "Layers"). The process runtime runs the
// engine's command as a child process group under an unprivileged user; the docker runtime
// runs it in a container through the Docker Engine API. Servers outlive the daemon on purpose
// (a daemon restart must not take every developer's database down) and are found again
// through their pid or their container's labels.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/resource.h"
#include "core/result.h"
#include "core/subprocess.h"
#include "engine/engine.h"

namespace zdap::runtime {

// Names one running server. Which field is set depends on the runtime.
struct ServerHandle {
  pid_t pid = -1;            // process runtime: the server's process (group leader)
  std::string container_id;  // docker runtime: the container
  bool empty() const { return pid <= 0 && container_id.empty(); }
};

// What a runtime needs besides the engine's command to start one server.
struct StartOptions {
  const config::Resource* resource = nullptr;  // docker: image, env, shm
  std::string run_dir;  // the server's private directory (socket, pid file, log)
  std::string clone;    // clone id, or "import-<resource>" for a refresh's server
  std::string owner;    // user who owns the clone ("" for an import)
};

// A server a runtime finds on its own (docker: containers carrying this origin's labels;
// process: processes in the runtime's scope whose parent is not in it, see ProcessRuntime).
struct FoundServer {
  ServerHandle handle;
  std::string clone;     // docker: as given in StartOptions; process: ""
  std::string data_dir;  // process: the directory it runs in (canonical); docker: ""
  bool running = false;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual const char* name() const = 0;

  // Starts the server described by `spec`. Returns once it is started, not once it is ready:
  // readiness is the engine's probe. On error nothing is left behind.
  virtual Result<ServerHandle> Start(const engine::ServerSpec& spec,
                                     const StartOptions& options) = 0;
  // True while the server exists and runs (a process that is not a zombie; a running
  // container).
  virtual bool IsRunning(const ServerHandle& handle) = 0;
  // True if `handle` still names a running server of `data_dir` (after a daemon restart: a
  // pid may have been reused by an unrelated process).
  virtual bool Owns(const ServerHandle& handle, const std::string& data_dir) = 0;
  // Makes sure nothing of the server is left: sends `stop_signal`, waits up to `grace`, then
  // kills it; the docker runtime also removes the container. A process that is not (any more)
  // a server of `data_dir` is left alone. Idempotent.
  virtual Status Stop(const ServerHandle& handle, const std::string& data_dir, int stop_signal,
                      std::chrono::milliseconds grace) = 0;
  // The last `lines` lines the server wrote, for error messages.
  virtual std::string LogTail(const ServerHandle& handle, const engine::ServerSpec& spec,
                              int lines) = 0;
  // Servers this runtime can find without a record or pid file, from the moment they are
  // started (docker: by label; process: by working directory, see ProcessRuntime).
  virtual Result<std::vector<FoundServer>> ListServers() { return std::vector<FoundServer>(); }
};

// True if one argument of `argv` is `data_dir` or ends in "=<data_dir>" (mariadbd
// --datadir=DIR): the argv is that of a server of `data_dir`.
bool ArgvNamesDataDir(const std::vector<std::string>& argv, const std::string& data_dir);

// A server is found again without its pid file through /proc: every server runs as the server
// user in its data dir (cwd, set before exec), every data dir lies under `scope` (the store's
// root), and a server's parent is not in the scope (its own children are). A daemon killed
// right after a fork leaves nothing ListServers cannot see, while it never looks at processes
// of other users or outside the store.
class ProcessRuntime : public Runtime {
 public:
  // `run_as`: the unprivileged user the servers run as (when the daemon is root).
  // `scope`: the directory every data dir lies in ("" = ListServers finds nothing).
  explicit ProcessRuntime(std::optional<RunAs> run_as, std::string scope = "");
  const char* name() const override { return "process"; }

  Result<ServerHandle> Start(const engine::ServerSpec& spec, const StartOptions& options) override;
  bool IsRunning(const ServerHandle& handle) override;
  bool Owns(const ServerHandle& handle, const std::string& data_dir) override;
  Status Stop(const ServerHandle& handle, const std::string& data_dir, int stop_signal,
              std::chrono::milliseconds grace) override;
  std::string LogTail(const ServerHandle& handle, const engine::ServerSpec& spec,
                      int lines) override;
  Result<std::vector<FoundServer>> ListServers() override;

  // Waits until `pid` has exited or `timeout` passes (pidfd: no polling). True if exited.
  static bool WaitExit(pid_t pid, std::chrono::milliseconds timeout);

 private:
  std::optional<RunAs> run_as_;
  std::string scope_;  // canonical, "" = none
};

// Settings of the docker runtime (daemon config `runtime: {driver: docker, socket: ...}`).
struct DockerRuntimeOptions {
  std::string socket = "/var/run/docker.sock";
  // Labels every container with this (the daemon's data dir) so that daemons sharing one
  // Docker host each find only their own containers.
  std::string origin;
  std::optional<RunAs> run_as;  // the uid:gid the servers run as inside their containers
};

// Opens the docker runtime; fails with an actionable message when Docker does not answer.
Result<std::unique_ptr<Runtime>> OpenDockerRuntime(const DockerRuntimeOptions& options);

// The user database servers run as: `configured`, or when empty "postgres" if the daemon runs
// as root, or nobody-in-particular (the daemon's own user) otherwise.
Result<std::optional<RunAs>> ResolveServerUser(const std::string& configured);

}  // namespace zdap::runtime
