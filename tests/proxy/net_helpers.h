// Test helpers for zdap-proxyd: real TCP servers and clients on 127.0.0.1 (plain POSIX
// sockets, so that the tests do not share code with what they test), and the built
// zdap-proxyd as a child process. Every wait has a deadline.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zdap::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A listening socket on 127.0.0.1; each connection is handed to `handler` on its own thread.
// The handler owns nothing: the fd is closed after it returns.
class TcpServer {
 public:
  using Handler = std::function<void(int fd)>;
  // port 0 = any free port.
  explicit TcpServer(Handler handler, uint16_t port = 0);
  ~TcpServer();  // Stop()
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // Closes the listener and every open connection (RST), joins the threads.
  void Stop();

 private:
  void AcceptLoop();

  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

// Connects to 127.0.0.1:port; -1 on failure.
int ConnectLocal(uint16_t port, milliseconds timeout = milliseconds(5000));
// Polls until 127.0.0.1:port accepts a connection or the deadline passes.
bool WaitUntilAccepting(uint16_t port, milliseconds timeout);
bool SendAll(int fd, const void* data, size_t n, milliseconds timeout = milliseconds(10000));
bool SendAll(int fd, const std::string& s, milliseconds timeout = milliseconds(10000));
// Reads until EOF (true) or error/deadline (false).
bool ReadToEof(int fd, std::string* out, milliseconds timeout = milliseconds(10000));
// Reads exactly n bytes.
bool ReadExactly(int fd, size_t n, std::string* out, milliseconds timeout = milliseconds(10000));
// Waits until the peer closed (EOF or reset), discarding data; true if it did in time.
bool WaitClosed(int fd, milliseconds timeout);
// A port on 127.0.0.1 where nothing listens: *holder keeps it bound (not listening) so that no
// one else takes it. Close *holder when done.
uint16_t DeadPort(int* holder);

// GET http://127.0.0.1:port/path; returns the status code (0 on failure) and the body.
int HttpGet(uint16_t port, const std::string& path, std::string* body);
// The value of the sample `series` (name{labels} exactly as rendered) in Prometheus text, or
// -1 when it is not there.
double MetricValue(const std::string& text, const std::string& series);

// Streaming 64-bit FNV-1a, independent of how the stream is cut.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void Add(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(p[i]);
      h *= 1099511628211ull;
    }
  }
};
// Fills buf with deterministic pseudo-random bytes from *state.
void FillRandom(uint64_t* state, char* buf, size_t n);

// zdap-proxyd as a child process with its output collected.
class ProxyProcess {
 public:
  ProxyProcess() = default;
  ~ProxyProcess();  // SIGKILL if still running

  // The binary Start() runs: ProxyBinary() unless set (e.g. a Release build).
  void set_binary(std::string path) { binary_ = std::move(path); }
  // Starts it with `args` and `env` ("K=V"); false if it cannot be spawned.
  bool Start(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  // Waits for the "listening on HOST:PORT" log line of the n-th listener and returns its port
  // (0 on timeout or exit).
  uint16_t WaitListening(size_t n = 0, milliseconds timeout = milliseconds(20000));
  // Waits until the output contains `text`.
  bool WaitOutput(const std::string& text, milliseconds timeout);
  void Signal(int sig);
  // Waits for exit; returns the exit code, 128+signal, or -1 on timeout.
  int Wait(milliseconds timeout);
  std::string output();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool exited_ = false;
  int exit_code_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::string output_;
  std::string binary_;
};

std::string ProxyBinary();

}  // namespace zdap::test
