#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "core/log.h"
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

}  // namespace

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
  return IsRunning(handle) && ArgvNamesDataDir(ProcessArgv(handle.pid), data_dir);
}

std::string ProcessRuntime::LogTail(const ServerHandle& /*handle*/, const engine::ServerSpec& spec,
                                    int lines) {
  return TailFile(spec.log_path, lines);
}

bool ProcessRuntime::WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int fd = PidfdOpen(pid);
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  ::close(fd);
  ReapIfChild(pid);
  return r > 0;
}

Status ProcessRuntime::Stop(const ServerHandle& handle, const std::string& data_dir,
                            int stop_signal, std::chrono::milliseconds grace) {
  // The pid may have been reused since the record was written: signal only our server.
  if (!Owns(handle, data_dir)) return Status::Ok();
  ::kill(handle.pid, stop_signal);
  if (WaitExit(handle.pid, grace)) return Status::Ok();
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
