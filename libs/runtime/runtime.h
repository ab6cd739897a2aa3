// Runtime layer: where a database server runs (SPEC "Layers"). The process runtime runs the
// engine's command as a child process group under an unprivileged user; servers outlive the
// daemon on purpose (a daemon restart must not take every developer's database down) and
// are found again through their pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "core/result.h"
#include "core/subprocess.h"
#include "engine/engine.h"

namespace zdap::runtime {

struct ServerHandle {
  pid_t pid = -1;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual const char* name() const = 0;

  // Starts the server described by `spec`. Returns once it is started, not once it is ready:
  // readiness is the engine's probe.
  virtual Result<ServerHandle> Start(const engine::ServerSpec& spec) = 0;
  // True while the server's process exists (and is not a zombie).
  virtual bool IsRunning(const ServerHandle& handle) = 0;
  // Sends `spec.stop_signal`, waits up to `grace`, then kills the process group.
  virtual Status Stop(const ServerHandle& handle, int stop_signal,
                      std::chrono::milliseconds grace) = 0;
};

class ProcessRuntime : public Runtime {
 public:
  // `run_as`: the unprivileged user the servers run as (when the daemon is root).
  explicit ProcessRuntime(std::optional<RunAs> run_as) : run_as_(std::move(run_as)) {}
  const char* name() const override { return "process"; }

  Result<ServerHandle> Start(const engine::ServerSpec& spec) override;
  bool IsRunning(const ServerHandle& handle) override;
  Status Stop(const ServerHandle& handle, int stop_signal,
              std::chrono::milliseconds grace) override;

  // Waits until `pid` has exited or `timeout` passes (pidfd: no polling). True if exited.
  static bool WaitExit(pid_t pid, std::chrono::milliseconds timeout);

 private:
  std::optional<RunAs> run_as_;
};

// The user database servers run as: `configured`, or when empty "postgres" if the daemon runs
// as root, or nobody-in-particular (the daemon's own user) otherwise.
Result<std::optional<RunAs>> ResolveServerUser(const std::string& configured);

}  // namespace zdap::runtime
