// Env: what the origin and the engines ask of the world outside their own data (LevelDB's Env is
// the model): the time, waiting, and the file and directory calls. Code that reads the clock,
// sleeps or touches a file through an Env runs unchanged against a test Env, so that tests
// drive ttl, cron and idle expiry by moving a clock instead of waiting.
//
// Two clocks, for two different things:
//   - Now(), WaitUntil(): calendar time (SystemTime). Rules are written in it: a clone's ttl
//     and expires_at, cron times, idle timeouts, snapshot ids, job and journal stamps.
//   - MonotonicNow(), SleepFor(): time spent waiting on the outside world: a server starting,
//     a socket answering, a helper exiting. Deadlines and back-offs use it.
// A test Env moves calendar time by hand (FakeClockEnv) and keeps monotonic time real: the
// servers and sockets it waits on are real processes that take real time, and a monotonic
// clock that never moved would leave every bounded wait on them either spinning forever or
// failing at once.
//
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_util.h"
#include "core/result.h"
#include "core/time.h"

namespace zdap {

using SteadyTime = std::chrono::steady_clock::time_point;

// What a thread waiting in Env::WaitUntil can be woken by (the scheduler's Kick). One per
// waiting thread; Wake() before the wait makes the next wait return at once.
class WakeSignal {
 public:
  void Wake();

 private:
  friend class PosixEnv;
  friend class FakeClockEnv;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};

// What Stat tells of a path.
struct FileInfo {
  mode_t mode = 0;  // permission bits and type (st_mode)
  uid_t uid = 0;
  gid_t gid = 0;
  SystemTime mtime{};  // last modification of its content (st_mtim)
};

class Env {
 public:
  virtual ~Env() = default;
  // The real environment: the system's clocks and the POSIX file calls. Lives as long as the
  // process.
  static Env* Default();

  // --- Calendar time ---
  virtual SystemTime Now() = 0;
  // Returns once Now() >= deadline, or once `wake` has been woken since the last return
  // (which clears it).
  virtual void WaitUntil(SystemTime deadline, WakeSignal& wake) = 0;

  // --- Monotonic time, for waits on the outside world ---
  virtual SteadyTime MonotonicNow() = 0;
  virtual void SleepFor(std::chrono::microseconds duration) = 0;
  void SleepUntil(SteadyTime deadline);

  // --- Files and directories (core/file_util.h says what each guarantees) ---
  virtual Result<std::string> ReadFile(const std::string& path, size_t max_bytes) = 0;
  // Durable: fsync of the file and its directory before it returns.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                                 const std::optional<FileOwner>& owner = std::nullopt) = 0;
  // Atomic for readers, not durable (no fsync).
  virtual Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode,
                             const std::optional<FileOwner>& owner = std::nullopt) = 0;
  virtual Status SyncFile(const std::string& path) = 0;  // a file's content and inode
  virtual Status SyncDir(const std::string& dir) = 0;    // renames and creations in `dir`
  // Everything the kernel holds unwritten, on every file system (sync(2)).
  virtual void SyncAll() = 0;
  // unlink(2); a path that does not exist is not an error.
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // mkdir(2) of one directory with exactly `mode` (umask aside); it must not exist.
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;
  virtual Status MakeDirs(const std::string& path, mode_t mode) = 0;  // mkdir -p
  virtual Status RemoveTree(const std::string& path) = 0;             // rm -rf, one file system
  virtual bool FileExists(const std::string& path) = 0;               // lstat(2) succeeds
  virtual Result<FileInfo> Stat(const std::string& path) = 0;         // stat(2)
  virtual Status Chown(const std::string& path, uid_t uid, gid_t gid) = 0;
  virtual Status Chmod(const std::string& path, mode_t mode) = 0;
  // Names in `dir` (without "." and ".."), in no particular order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
};

// An Env that forwards every call to another (LevelDB's EnvWrapper): a test Env derives from
// it and overrides only what it changes.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  SystemTime Now() override { return target_->Now(); }
  void WaitUntil(SystemTime deadline, WakeSignal& wake) override {
    target_->WaitUntil(deadline, wake);
  }
  SteadyTime MonotonicNow() override { return target_->MonotonicNow(); }
  void SleepFor(std::chrono::microseconds d) override { target_->SleepFor(d); }
  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    return target_->ReadFile(path, max_bytes);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         const std::optional<FileOwner>& owner) override {
    return target_->WriteFileAtomic(path, data, mode, owner);
  }
  Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode,
                     const std::optional<FileOwner>& owner) override {
    return target_->ReplaceFile(path, data, mode, owner);
  }
  Status SyncFile(const std::string& path) override { return target_->SyncFile(path); }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }
  void SyncAll() override { target_->SyncAll(); }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return target_->Rename(from, to);
  }
  Status MakeDir(const std::string& path, mode_t mode) override {
    return target_->MakeDir(path, mode);
  }
  Status MakeDirs(const std::string& path, mode_t mode) override {
    return target_->MakeDirs(path, mode);
  }
  Status RemoveTree(const std::string& path) override { return target_->RemoveTree(path); }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status Chown(const std::string& path, uid_t uid, gid_t gid) override {
    return target_->Chown(path, uid, gid);
  }
  Status Chmod(const std::string& path, mode_t mode) override { return target_->Chmod(path, mode); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return target_->GetChildren(dir);
  }

 private:
  Env* target_;
};

// Calendar time that moves only when a test says so; monotonic time, sleeps and files are the
// target's (real by default: see the top of this file for why). A wait on calendar time
// returns when Advance passes its deadline.
class FakeClockEnv : public EnvWrapper {
 public:
  explicit FakeClockEnv(SystemTime start, Env* target = Env::Default());

  SystemTime Now() override;
  void WaitUntil(SystemTime deadline, WakeSignal& wake) override;
  void Advance(std::chrono::seconds by);

 private:
  // Read by waiters without mu_ (under their WakeSignal's mutex); written under mu_.
  std::atomic<SystemTime::rep> now_;
  std::mutex mu_;  // guards waiting_; a WakeSignal's mutex is taken under it, never around it
  std::vector<WakeSignal*> waiting_;
};

}  // namespace zdap
