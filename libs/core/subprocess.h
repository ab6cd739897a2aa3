// Child processes: clone/exec with an explicit argv (never a shell), optional drop to an
// unprivileged user, its own process group, and output to a file or captured.
// Secrets never go into argv (visible in ps): pass them in env or files with mode 0600.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace zdap {

struct RunAs {
  uid_t uid;
  gid_t gid;
  std::string name;  // for messages and HOME/USER
  std::string home;
};
// Looks up a user by name in the passwd database.
Result<RunAs> LookupUser(const std::string& name);

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "K=V" entries added to (or replacing) the base env
  bool inherit_env = false;       // base env: the parent's, or a minimal PATH/LANG one
  std::optional<RunAs> run_as;    // setgid/setgroups/setuid in the child before exec
  std::string cwd;                // "" = inherit
  std::string stdin_path;         // "" = /dev/null
  std::string output_path;        // stdout+stderr appended here; "" = see capture
  bool capture_output = false;    // stdout+stderr into RunResult::output / output_fd()
  // Descriptors of the caller's (a pipe end, a file) that become the child's stdin / stdout;
  // Spawn duplicates them, so the caller closes its own copy when it likes (a pipe's write
  // end must be closed for the reader to see EOF). stdin_fd and stdin_path are exclusive.
  // With stdout_fd, output_path and capture_output (and /dev/null otherwise) receive stderr
  // alone: stdout is data, stderr what the error message quotes.
  int stdin_fd = -1;
  int stdout_fd = -1;
  bool new_process_group = true;  // so the whole tree can be signalled
  bool die_with_parent = false;   // PR_SET_PDEATHSIG SIGKILL
};

class Subprocess {
 public:
  Subprocess() = default;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess() = default;  // does not kill or reap: servers outlive their handle on purpose

  // Fails with the exec error (e.g. "postgres: No such file or directory") if exec fails.
  static Result<Subprocess> Spawn(const SpawnOptions& options);

  pid_t pid() const { return pid_; }
  // The read end of the capture_output pipe (stdout+stderr, or stderr alone with stdout_fd),
  // else -1. The caller must drain it while the child runs: a full pipe blocks the child.
  int output_fd() const { return output_fd_.get(); }
  // Blocks until exit; returns the exit status as from waitpid (use the helpers below).
  Result<int> Wait();
  // Non-blocking; true once the child has exited (status in *wait_status).
  bool TryWait(int* wait_status);
  // Signals the process group (or just the pid without a group).
  void Signal(int sig) const;

 private:
  pid_t pid_ = -1;
  UniqueFd output_fd_;
  bool group_ = true;
};

// "exited with status 3" / "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);
bool ExitedZero(int wait_status);

struct RunResult {
  int wait_status = 0;
  // Combined stdout+stderr (stderr alone with stdout_fd), capped at 1 MiB (tail kept).
  std::string output;
  bool ok() const { return ExitedZero(wait_status); }
};
// Runs to completion. On timeout the process group is killed and Unavailable returned.
Result<RunResult> Run(SpawnOptions options,
                      std::chrono::milliseconds timeout = std::chrono::minutes(10));

}  // namespace zdap
