#include "proxy/net_helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "support/test_env.h"

namespace zdap::test {
namespace {

int Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

sockaddr_in Local(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

std::string ProxyBinary() {
  return ProgramPath("proxy/zdap-proxyd");
}

TcpServer::TcpServer(Handler handler, uint16_t port) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Local(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 1024) != 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpServer::~TcpServer() {
  Stop();
}

void TcpServer::AcceptLoop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) != 1) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    std::lock_guard lock(mu_);
    if (stop_.load()) {
      ::close(fd);
      break;
    }
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] {
      handler_(fd);
      std::lock_guard lock(mu_);
      for (int& f : open_fds_) {
        if (f == fd) {
          ::close(fd);
          f = -1;
        }
      }
    });
  }
}

void TcpServer::Stop() {
  if (stop_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    // Abort the open connections: a linger of 0 makes close() send RST, and shutdown() wakes
    // handlers blocked in poll/recv on them.
    for (int fd : open_fds_) {
      if (fd < 0) continue;
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::shutdown(fd, SHUT_RDWR);
    }
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

int ConnectLocal(uint16_t port, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a = Local(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, Remaining(deadline)) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

bool WaitUntilAccepting(uint16_t port, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int fd = ConnectLocal(port, milliseconds(500));
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

bool SendAll(int fd, const void* data, size_t n, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    pollfd pf{fd, POLLOUT, 0};
    if (::poll(&pf, 1, Remaining(deadline)) != 1) return false;
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool SendAll(int fd, const std::string& s, milliseconds timeout) {
  return SendAll(fd, s.data(), s.size(), timeout);
}

bool ReadToEof(int fd, std::string* out, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[16384];
  while (true) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, Remaining(deadline)) != 1) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return false;
    out->append(buf, static_cast<size_t>(n));
  }
}

bool ReadExactly(int fd, size_t want, std::string* out, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[16384];
  size_t got = 0;
  while (got < want) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, Remaining(deadline)) != 1) return false;
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - got), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    out->append(buf, static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  return true;
}

bool WaitClosed(int fd, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (true) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, Remaining(deadline)) != 1) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return true;  // reset
  }
}

int HttpGet(uint16_t port, const std::string& path, std::string* body) {
  int fd = ConnectLocal(port);
  if (fd < 0) return 0;
  std::string reply;
  bool ok =
      SendAll(fd, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n") && ReadToEof(fd, &reply);
  ::close(fd);
  if (!ok || reply.rfind("HTTP/1.1 ", 0) != 0) return 0;
  size_t head_end = reply.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  *body = reply.substr(head_end + 4);
  return std::atoi(reply.c_str() + 9);
}

double MetricValue(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::atof(text.c_str() + at + series.size() + 1);
    at += series.size();
  }
  return -1;
}

uint16_t DeadPort(int* holder) {
  *holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Local(0);
  ::bind(*holder, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(*holder, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

void FillRandom(uint64_t* state, char* buf, size_t n) {
  uint64_t x = *state;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(buf + i, &x, 8);
  }
  for (; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = static_cast<char>(x);
  }
  *state = x;
}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    Wait(milliseconds(10000));
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ProxyProcess::Start(const std::vector<std::string>& args,
                         const std::vector<std::string>& env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  std::string binary = binary_.empty() ? ProxyBinary() : binary_;
  std::vector<std::string> envs = env;
  for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "PATH"}) {
    if (const char* v = ::getenv(keep)) envs.push_back(std::string(keep) + "=" + v);
  }
  std::vector<char*> argv{binary.data()};
  std::vector<std::string> args_copy = args;
  for (auto& a : args_copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_fd_ = fds[0];
  reader_ = std::thread([this] {
    char buf[4096];
    while (true) {
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(mu_);
      output_.append(buf, static_cast<size_t>(n));
    }
  });
  return true;
}

uint16_t ProxyProcess::WaitListening(size_t n, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu_);
      size_t at = 0;
      for (size_t i = 0;; ++i) {
        at = output_.find("listening on ", at);
        if (at == std::string::npos) break;
        at += 13;
        if (i < n) continue;
        size_t end = output_.find(' ', at);
        if (end == std::string::npos) break;
        std::string addr = output_.substr(at, end - at);
        size_t colon = addr.rfind(':');
        return static_cast<uint16_t>(std::atoi(addr.c_str() + colon + 1));
      }
    }
    int st;
    if (!exited_ && ::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    if (exited_) return 0;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return 0;
}

bool ProxyProcess::WaitOutput(const std::string& text, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu_);
      if (output_.find(text) != std::string::npos) return true;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

void ProxyProcess::Signal(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

int ProxyProcess::Wait(milliseconds timeout) {
  if (exited_) return exit_code_;
  auto deadline = Clock::now() + timeout;
  while (true) {
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      if (reader_.joinable()) reader_.join();
      return exit_code_;
    }
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

std::string ProxyProcess::output() {
  std::lock_guard lock(mu_);
  return output_;
}

}  // namespace zdap::test
