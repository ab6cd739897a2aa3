#include "core/subprocess.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

extern char** environ;

namespace zdap {
namespace {

// Everything the child needs is prepared before the clone: the child shares the parent's memory
// (CLONE_VM) while the calling thread is suspended (CLONE_VFORK) until it execs or exits, so it
// reads this plan in place and writes a failed step back into it (no pipe, no fd to run out of).
//
// Why not fork: copying the page tables of a large multi-threaded process (under ASan, the
// shadow mapping) holds its mm lock for tens to hundreds of milliseconds, stalling every thread
// of zdapd, including the ones answering GETs, once per spawned server.
struct ChildPlan {
  const char* file;
  char* const* argv;
  char* const* envp;
  int in_fd;
  int out_fd;
  int err_fd;  // out_fd unless stdout is the caller's (SpawnOptions::stdout_fd)
  bool new_process_group;
  bool die_with_parent;
  bool drop_privileges;
  uid_t uid;
  gid_t gid;
  const char* cwd;  // nullptr = inherit
  // Set by the child when a step fails (it then exits with 127).
  int failed_errno = 0;
  const char* failed_step = nullptr;
};

struct PreparedExec {
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string file;
};

// rt_sigaction's kernel struct (x86-64 and arm64 both have sa_restorer).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};
constexpr size_t kKernelSigsetSize = sizeof(uint64_t);
constexpr size_t kChildStackSize = 64 * 1024;

#define ZDAP_CHILD_CODE __attribute__((noinline, no_sanitize("address", "undefined")))

ZDAP_CHILD_CODE int ChildFailed(ChildPlan* plan, const char* step) {
  plan->failed_errno = errno;
  plan->failed_step = step;
  return 127;
}

// fd `from` becomes `to` without close-on-exec.
ZDAP_CHILD_CODE bool MoveFd(int from, int to) {
  if (from == to) return ::syscall(SYS_fcntl, to, F_SETFD, 0) == 0;
  return ::syscall(SYS_dup3, from, to, 0) == to;
}

// The child between clone and execve. Raw syscalls only, no sanitizer instrumentation: it runs in
// the parent's memory on a stack no sanitizer knows, and glibc's set*id wrappers would broadcast
// the credential change to every thread of the parent (whose thread list the child shares).
ZDAP_CHILD_CODE int ChildMain(void* arg) {
  auto* plan = static_cast<ChildPlan*>(arg);
  // All signals are blocked (by the parent, around clone). The parent's handlers must never run
  // here: reset every caught signal, and SIGPIPE, to its default before unblocking.
  for (int sig = 1; sig < _NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old{};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, kKernelSigsetSize) != 0) continue;
    bool ignored = old.handler == SIG_IGN && sig != SIGPIPE;
    if (old.handler == SIG_DFL || ignored) continue;
    KernelSigaction dfl{};
    dfl.handler = SIG_DFL;
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, kKernelSigsetSize);
  }
  if (plan->new_process_group && ::syscall(SYS_setpgid, 0, 0) != 0) {
    return ChildFailed(plan, "setpgid");
  }
  if (plan->die_with_parent && ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    return ChildFailed(plan, "prctl");
  }
  if (!MoveFd(plan->in_fd, 0) || !MoveFd(plan->out_fd, 1) || !MoveFd(plan->err_fd, 2)) {
    return ChildFailed(plan, "dup2");
  }
  // Descriptors the parent opened without O_CLOEXEC (Asio's listening sockets, for one)
  // must not leak into servers that outlive the daemon and would keep its port bound.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (plan->drop_privileges) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) return ChildFailed(plan, "setgroups");
    if (::syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) != 0) {
      return ChildFailed(plan, "setgid");
    }
    if (::syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) != 0) {
      return ChildFailed(plan, "setuid");
    }
  }
  if (plan->cwd != nullptr && ::syscall(SYS_chdir, plan->cwd) != 0) {
    return ChildFailed(plan, "chdir");
  }
  uint64_t none = 0;
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, kKernelSigsetSize);
  ::syscall(SYS_execve, plan->file, plan->argv, plan->envp);
  return ChildFailed(plan, plan->file);
}

#undef ZDAP_CHILD_CODE

// Starts the child described by `plan`; returns its pid once it has exec'd or failed (then
// plan->failed_step is set and the child is exiting), or -1 with errno.
pid_t CloneAndExec(ChildPlan* plan) {
  void* stack = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  pid_t pid = ::clone(ChildMain, static_cast<char*>(stack) + kChildStackSize,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, plan);
  int err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kChildStackSize);
  errno = err;
  return pid;
}

// The child moves its descriptors onto 0, 1 and 2 one after the other: none may be one of
// those already, or an earlier move would overwrite a later one's source (a daemon started
// with a closed stdin gets fd 0 from its first open).
Status KeepAboveStdio(UniqueFd* fd, const char* what) {
  if (fd->get() > 2) return Status::Ok();
  int moved = ::fcntl(fd->get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return ErrnoError(fmt::format("spawn: dup {}", what), errno);
  fd->Reset(moved);
  return Status::Ok();
}

// A copy of the caller's descriptor `fd` for the child (close-on-exec until the child moves it).
Result<UniqueFd> DupForChild(int fd, const char* what) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy.valid()) return ErrnoError(fmt::format("spawn: dup {} (fd {})", what, fd), errno);
  return copy;
}
}  // namespace

Result<RunAs> LookupUser(const std::string& name) {
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) {
    return NotFound(fmt::format("user '{}' does not exist on this host", name));
  }
  return RunAs{pw.pw_uid, pw.pw_gid, name, pw.pw_dir ? pw.pw_dir : "/"};
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      output_fd_(std::move(other.output_fd_)),
      group_(other.group_) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    pid_ = std::exchange(other.pid_, -1);
    output_fd_ = std::move(other.output_fd_);
    group_ = other.group_;
  }
  return *this;
}

Result<Subprocess> Subprocess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return InvalidArgument("spawn: empty argv");
  PreparedExec ex;
  if (options.inherit_env) {
    for (char** e = environ; *e != nullptr; ++e) ex.env_storage.emplace_back(*e);
  } else {
    ex.env_storage = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      "LANG=C.UTF-8"};
    if (options.run_as) {
      ex.env_storage.push_back("HOME=" + options.run_as->home);
      ex.env_storage.push_back("USER=" + options.run_as->name);
    }
  }
  for (const auto& kv : options.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) return InvalidArgument("spawn: env entry without '='");
    std::erase_if(ex.env_storage,
                  [&](const std::string& e) { return e.compare(0, eq + 1, kv, 0, eq + 1) == 0; });
    ex.env_storage.push_back(kv);
  }
  for (const auto& a : options.argv) ex.argv.push_back(const_cast<char*>(a.c_str()));
  ex.argv.push_back(nullptr);
  for (auto& e : ex.env_storage) ex.envp.push_back(e.data());
  ex.envp.push_back(nullptr);

  // Resolve argv[0] in PATH now, so the child only calls execve.
  ex.file = options.argv[0];
  if (ex.file.find('/') == std::string::npos) {
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if (const char* p = ::getenv("PATH"); p != nullptr && options.inherit_env) path = p;
    bool found = false;
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      std::string cand = path.substr(start, end - start) + "/" + ex.file;
      if (::access(cand.c_str(), X_OK) == 0) {
        ex.file = cand;
        found = true;
        break;
      }
      start = end + 1;
    }
    if (!found) {
      return NotFound(fmt::format("program '{}' not found in PATH", options.argv[0]));
    }
  }

  UniqueFd in_fd;
  if (options.stdin_fd >= 0) {
    if (!options.stdin_path.empty()) {
      return InvalidArgument("spawn: stdin_fd and stdin_path are both set");
    }
    ZDAP_ASSIGN_OR_RETURN(in_fd, DupForChild(options.stdin_fd, "stdin"));
  } else {
    in_fd.Reset(::open(options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(),
                       O_RDONLY | O_CLOEXEC));
    if (!in_fd.valid()) return ErrnoError(fmt::format("open {}", options.stdin_path), errno);
  }
  // out_fd: where output goes (output_path, the capture pipe or /dev/null): stdout and
  // stderr, or stderr alone when stdout is the caller's descriptor.
  UniqueFd out_fd;
  UniqueFd capture_read;
  if (!options.output_path.empty()) {
    out_fd.Reset(
        ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!out_fd.valid()) return ErrnoError(fmt::format("open {}", options.output_path), errno);
    if (options.run_as) (void)!::fchown(out_fd.get(), options.run_as->uid, options.run_as->gid);
  } else if (options.capture_output) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError("pipe", errno);
    capture_read.Reset(p[0]);
    out_fd.Reset(p[1]);
  } else {
    out_fd.Reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  }
  UniqueFd data_fd;
  if (options.stdout_fd >= 0) {
    ZDAP_ASSIGN_OR_RETURN(data_fd, DupForChild(options.stdout_fd, "stdout"));
  }
  ZDAP_RETURN_IF_ERROR(KeepAboveStdio(&in_fd, "stdin"));
  ZDAP_RETURN_IF_ERROR(KeepAboveStdio(&out_fd, "output"));
  ChildPlan plan{};
  plan.file = ex.file.c_str();
  plan.argv = ex.argv.data();
  plan.envp = ex.envp.data();
  plan.in_fd = in_fd.get();
  plan.out_fd = data_fd.valid() ? data_fd.get() : out_fd.get();
  plan.err_fd = out_fd.get();
  plan.new_process_group = options.new_process_group;
  plan.die_with_parent = options.die_with_parent;
  plan.drop_privileges = options.run_as.has_value();
  if (options.run_as) {
    plan.uid = options.run_as->uid;
    plan.gid = options.run_as->gid;
  }
  plan.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  pid_t pid = CloneAndExec(&plan);
  int clone_errno = errno;
  in_fd.Reset();  // the child has its copies; the write end must close here for EOF to come
  out_fd.Reset();
  data_fd.Reset();
  if (pid < 0) return ErrnoError(fmt::format("start {}", options.argv[0]), clone_errno);
  if (plan.failed_step != nullptr) {
    int st;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return IoError(fmt::format("cannot run {}: {}: {}", options.argv[0], plan.failed_step,
                               std::strerror(plan.failed_errno)));
  }
  Subprocess sp;
  sp.pid_ = pid;
  sp.output_fd_ = std::move(capture_read);
  sp.group_ = options.new_process_group;
  return sp;
}

Result<int> Subprocess::Wait() {
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &st, 0);
    if (r == pid_) return st;
    if (r < 0 && errno == EINTR) continue;
    return ErrnoError(fmt::format("waitpid {}", pid_), errno);
  }
}

bool Subprocess::TryWait(int* wait_status) {
  pid_t r = ::waitpid(pid_, wait_status, WNOHANG);
  return r == pid_;
}

void Subprocess::Signal(int sig) const {
  if (pid_ <= 0) return;
  if (group_) {
    ::kill(-pid_, sig);
  } else {
    ::kill(pid_, sig);
  }
}

std::string DescribeWaitStatus(int st) {
  if (WIFEXITED(st)) return fmt::format("exited with status {}", WEXITSTATUS(st));
  if (WIFSIGNALED(st)) {
    return fmt::format("killed by signal {} ({})", WTERMSIG(st), ::strsignal(WTERMSIG(st)));
  }
  return fmt::format("ended with wait status {}", st);
}

bool ExitedZero(int st) {
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

Result<RunResult> Run(SpawnOptions options, std::chrono::milliseconds timeout) {
  if (options.output_path.empty()) options.capture_output = true;
  ZDAP_ASSIGN_OR_RETURN(Subprocess child, Subprocess::Spawn(options));
  RunResult result;
  constexpr size_t kCap = 1u << 20;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int fd = child.output_fd();
  bool timed_out = false;
  if (fd >= 0) {
    char buf[16384];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      pollfd pfd{fd, POLLIN, 0};
      int pr = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (pr < 0 && errno != EINTR) break;
      if (pr <= 0) continue;
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      result.output.append(buf, static_cast<size_t>(n));
      if (result.output.size() > 2 * kCap) result.output.erase(0, result.output.size() - kCap);
    }
  } else {
    int st;
    while (!child.TryWait(&st)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        timed_out = true;
        break;
      }
      ::usleep(2000);
    }
    if (!timed_out) {
      result.wait_status = st;
      return result;
    }
  }
  if (timed_out) {
    child.Signal(SIGKILL);
    (void)child.Wait();
    return Unavailable(fmt::format("{} did not finish within {} ms and was killed", options.argv[0],
                                   timeout.count()));
  }
  if (result.output.size() > kCap) result.output.erase(0, result.output.size() - kCap);
  ZDAP_ASSIGN_OR_RETURN(result.wait_status, child.Wait());
  return result;
}

}  // namespace zdap
