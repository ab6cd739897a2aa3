#include "core/subprocess.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace zdap {
namespace {

// Everything the child needs is prepared before fork: after fork only async-signal-safe
// calls are allowed (the parent is multi-threaded).
struct PreparedExec {
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string file;
};

bool HasKey(const std::vector<std::string>& env, const std::string& kv) {
  auto eq = kv.find('=');
  for (const auto& e : env) {
    if (e.compare(0, eq + 1, kv, 0, eq + 1) == 0) return true;
  }
  return false;
}

void ChildFail(int pipe_fd, const char* step) {
  int err = errno;
  char msg[256];
  int n = std::snprintf(msg, sizeof msg, "%s: %s", step, std::strerror(err));
  if (n > 0) (void)!::write(pipe_fd, msg, static_cast<size_t>(n));
  ::_exit(127);
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
    : pid_(other.pid_), output_fd_(other.output_fd_), group_(other.group_) {
  other.pid_ = -1;
  other.output_fd_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (output_fd_ >= 0) ::close(output_fd_);
    pid_ = other.pid_;
    output_fd_ = other.output_fd_;
    group_ = other.group_;
    other.pid_ = -1;
    other.output_fd_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (output_fd_ >= 0) ::close(output_fd_);
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
  (void)HasKey;
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

  int in_fd = ::open(options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(),
                     O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return ErrnoError(fmt::format("open {}", options.stdin_path), errno);
  int out_fd = -1;
  int capture_read = -1;
  if (!options.output_path.empty()) {
    out_fd = ::open(options.output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out_fd < 0) {
      int err = errno;
      ::close(in_fd);
      return ErrnoError(fmt::format("open {}", options.output_path), err);
    }
    if (options.run_as) (void)!::fchown(out_fd, options.run_as->uid, options.run_as->gid);
  } else if (options.capture_output) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      ::close(in_fd);
      return ErrnoError("pipe", errno);
    }
    capture_read = p[0];
    out_fd = p[1];
  } else {
    out_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(in_fd);
    ::close(out_fd);
    if (capture_read >= 0) ::close(capture_read);
    return ErrnoError("pipe", errno);
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(in_fd);
    ::close(out_fd);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    if (capture_read >= 0) ::close(capture_read);
    return ErrnoError("fork", err);
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (options.new_process_group) ::setpgid(0, 0);
    if (options.die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0) {
      ChildFail(err_pipe[1], "dup2");
    }
    // Descriptors the parent opened without O_CLOEXEC (Asio's listening sockets, for one)
    // must not leak into servers that outlive the daemon and would keep its port bound.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    if (options.run_as) {
      if (::setgroups(0, nullptr) != 0) ChildFail(err_pipe[1], "setgroups");
      if (::setgid(options.run_as->gid) != 0) ChildFail(err_pipe[1], "setgid");
      if (::setuid(options.run_as->uid) != 0) ChildFail(err_pipe[1], "setuid");
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ChildFail(err_pipe[1], "chdir");
    ::execve(ex.file.c_str(), ex.argv.data(), ex.envp.data());
    ChildFail(err_pipe[1], ex.file.c_str());
  }
  // Parent. Avoid the race where the child has not yet called setpgid when we signal it.
  if (options.new_process_group) ::setpgid(pid, pid);
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_pipe[1]);
  char msg[256];
  ssize_t n;
  do {
    n = ::read(err_pipe[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n > 0) {
    int st;
    ::waitpid(pid, &st, 0);
    if (capture_read >= 0) ::close(capture_read);
    return IoError(fmt::format("cannot run {}: {}", options.argv[0],
                               std::string(msg, static_cast<size_t>(n))));
  }
  Subprocess sp;
  sp.pid_ = pid;
  sp.output_fd_ = capture_read;
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
