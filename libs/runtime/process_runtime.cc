#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/file_util.h"
#include "core/log.h"
#include "core/unique_fd.h"
#include "runtime/runtime.h"

namespace zdap::runtime {
namespace {

int PidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Reaps `pid` if it is our child and has exited; harmless otherwise.
void ReapIfChild(pid_t pid) {
  int st;
  ::waitpid(pid, &st, WNOHANG);
}

bool IsZombieOrGone(pid_t pid) {
  auto stat = ReadFile(fmt::format("/proc/{}/stat", pid), 4096);
  if (!stat.ok()) return true;
  // "pid (comm) S ..." — comm may contain spaces and parens; the state follows the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return true;
  char state = (*stat)[close + 2];
  return state == 'Z' || state == 'X';
}

// argv of a live process, from /proc (NUL-separated).
std::vector<std::string> ProcessArgv(pid_t pid) {
  std::vector<std::string> argv;
  auto cmdline = ReadFile(fmt::format("/proc/{}/cmdline", pid), 65536);
  if (!cmdline.ok()) return argv;
  size_t begin = 0;
  while (begin < cmdline->size()) {
    size_t end = cmdline->find('\0', begin);
    if (end == std::string::npos) end = cmdline->size();
    argv.emplace_back(*cmdline, begin, end - begin);
    begin = end + 1;
  }
  return argv;
}

// The directory `pid` runs in, "" when it cannot be read (gone, or not ours to see).
std::string ProcessCwd(pid_t pid) {
  std::error_code ec;
  auto cwd = std::filesystem::read_symlink(fmt::format("/proc/{}/cwd", pid), ec);
  return ec ? std::string() : cwd.string();
}

// The parent and real uid of `pid`; false when it is gone.
bool ProcessParentAndUid(pid_t pid, pid_t* parent, uid_t* uid) {
  auto stat = ReadFile(fmt::format("/proc/{}/stat", pid), 4096);
  if (!stat.ok()) return false;
  // After "pid (comm) ": state ppid pgrp ...
  auto close = stat->rfind(')');
  if (close == std::string::npos) return false;
  char state;
  long ppid, pgrp;
  if (std::sscanf(stat->c_str() + close + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) {
    return false;
  }
  auto status = ReadFile(fmt::format("/proc/{}/status", pid), 16384);
  if (!status.ok()) return false;
  auto at = status->find("\nUid:");
  unsigned long real_uid;
  if (at == std::string::npos || std::sscanf(status->c_str() + at + 5, "%lu", &real_uid) != 1) {
    return false;
  }
  *parent = static_cast<pid_t>(ppid);
  *uid = static_cast<uid_t>(real_uid);
  return true;
}

// Absolute, symlinks resolved as far as the path exists ("" stays "").
std::string CanonicalPath(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.string();
}

}  // namespace

ProcessRuntime::ProcessRuntime(std::optional<RunAs> run_as, std::string scope)
    : run_as_(std::move(run_as)), scope_(CanonicalPath(scope)) {}

bool ArgvNamesDataDir(const std::vector<std::string>& argv, const std::string& data_dir) {
  if (data_dir.empty()) return false;
  std::string suffix = "=" + data_dir;
  for (const auto& arg : argv) {
    if (arg == data_dir || (arg.size() > suffix.size() && arg.ends_with(suffix))) return true;
  }
  return false;
}

Result<std::optional<RunAs>> ResolveServerUser(const std::string& configured) {
  std::string name = configured;
  if (name.empty()) {
    if (::geteuid() != 0) return std::optional<RunAs>();
    name = "postgres";
  }
  auto user = LookupUser(name);
  if (!user.ok()) {
    return NotFound(fmt::format(
        "database servers run as user '{}', which does not exist: create it (useradd --system "
        "{}) or set runtime.user",
        name, name));
  }
  if (user->uid == 0) {
    return InvalidArgument("runtime.user must not be root: database servers refuse to run as root");
  }
  return std::optional<RunAs>(*user);
}

Result<ServerHandle> ProcessRuntime::Start(const engine::ServerSpec& spec,
                                           const StartOptions& /*options*/) {
  SpawnOptions o;
  o.argv = spec.argv;
  o.env = spec.env;
  o.run_as = run_as_;
  o.cwd = spec.data_dir;
  o.output_path = spec.log_path;
  o.new_process_group = true;
  o.die_with_parent = false;  // servers outlive a daemon restart
  ZDAP_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Spawn(o));
  ServerHandle h;
  h.pid = child.pid();
  log::Debug("process runtime: started {} as pid {}", spec.argv[0], h.pid);
  return h;
}

bool ProcessRuntime::IsRunning(const ServerHandle& handle) {
  if (handle.pid <= 0) return false;
  ReapIfChild(handle.pid);
  if (::kill(handle.pid, 0) != 0 && errno == ESRCH) return false;
  return !IsZombieOrGone(handle.pid);
}

bool ProcessRuntime::Owns(const ServerHandle& handle, const std::string& data_dir) {
  if (!IsRunning(handle) || data_dir.empty()) return false;
  // The argv names it once the server runs; the cwd already between fork and exec.
  return ArgvNamesDataDir(ProcessArgv(handle.pid), data_dir) ||
         ProcessCwd(handle.pid) == CanonicalPath(data_dir);
}

Result<std::vector<FoundServer>> ProcessRuntime::ListServers() {
  std::vector<FoundServer> out;
  if (scope_.empty()) return out;
  uid_t server_uid = run_as_ ? run_as_->uid : ::geteuid();
  std::string prefix = scope_ + "/";
  std::error_code ec;
  std::filesystem::directory_iterator proc("/proc", ec);
  if (ec) return IoError("cannot list /proc: " + ec.message());
  // Processes of the server user running in the scope, with their parents.
  std::map<pid_t, std::pair<pid_t, std::string>> in_scope;
  for (const auto& e : proc) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    pid_t ppid;
    uid_t uid;
    if (pid == ::getpid() || !ProcessParentAndUid(pid, &ppid, &uid)) continue;
    if (uid != server_uid || IsZombieOrGone(pid)) continue;
    std::string cwd = ProcessCwd(pid);
    if (cwd.size() <= prefix.size() || cwd.compare(0, prefix.size(), prefix) != 0) continue;
    in_scope[pid] = {ppid, cwd};
  }
  // A server is one whose parent is not itself in the scope: a postmaster's children (each
  // its own session) follow it, and become servers to stop only once it is gone.
  for (const auto& [pid, parent_and_cwd] : in_scope) {
    if (in_scope.count(parent_and_cwd.first)) continue;
    FoundServer f;
    f.handle.pid = pid;
    f.data_dir = parent_and_cwd.second;
    f.running = true;
    out.push_back(std::move(f));
  }
  return out;
}

std::string ProcessRuntime::LogTail(const ServerHandle& /*handle*/, const engine::ServerSpec& spec,
                                    int lines) {
  return TailFile(spec.log_path, lines);
}

bool ProcessRuntime::WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  UniqueFd fd(PidfdOpen(pid));
  if (!fd.valid()) return errno == ESRCH;
  pollfd p{fd.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  fd.Reset();
  ReapIfChild(pid);
  return r > 0;
}

Status ProcessRuntime::Stop(const ServerHandle& handle, const std::string& data_dir,
                            int stop_signal, std::chrono::milliseconds grace) {
  // The pid may have been reused since the record was written: signal only our server.
  if (!Owns(handle, data_dir)) return Status::Ok();
  // Our servers lead their own process group; what is left of the group once the leader is
  // gone (children of a killed postmaster) goes with it.
  bool leader = ::getpgid(handle.pid) == handle.pid;
  auto reap_group = [&] {
    if (leader) ::kill(-handle.pid, SIGKILL);
  };
  ::kill(handle.pid, stop_signal);
  if (WaitExit(handle.pid, grace)) {
    reap_group();
    return Status::Ok();
  }
  log::Warn("process runtime: pid {} did not stop within {} ms; killing its process group",
            handle.pid, grace.count());
  ::kill(-handle.pid, SIGKILL);
  ::kill(handle.pid, SIGKILL);
  if (!WaitExit(handle.pid, std::chrono::seconds(10))) {
    return IoError(fmt::format("pid {} survived SIGKILL", handle.pid));
  }
  return Status::Ok();
}

}  // namespace zdap::runtime
