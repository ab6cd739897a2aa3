#include "core/env.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace zdap {

void WakeSignal::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Env::SleepUntil(SteadyTime deadline) {
  auto left = deadline - MonotonicNow();
  if (left > SteadyTime::duration::zero()) {
    SleepFor(std::chrono::duration_cast<std::chrono::microseconds>(left));
  }
}

// The real environment. Its file calls are core/file_util.h's, with errors that name the path.
class PosixEnv : public Env {
 public:
  SystemTime Now() override { return SystemNow(); }

  void WaitUntil(SystemTime deadline, WakeSignal& wake) override {
    std::unique_lock lock(wake.mu_);
    wake.cv_.wait_until(lock, deadline, [&] { return wake.woken_; });
    wake.woken_ = false;
  }

  SteadyTime MonotonicNow() override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::microseconds d) override { std::this_thread::sleep_for(d); }

  Result<std::string> ReadFile(const std::string& path, size_t max_bytes) override {
    return zdap::ReadFile(path, max_bytes);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                         const std::optional<FileOwner>& owner) override {
    return zdap::WriteFileAtomic(path, data, mode, owner);
  }
  Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode,
                     const std::optional<FileOwner>& owner) override {
    return zdap::ReplaceFile(path, data, mode, owner);
  }
  Status SyncFile(const std::string& path) override { return zdap::SyncFile(path); }

  Status SyncDir(const std::string& dir) override { return zdap::SyncDir(dir); }

  void SyncAll() override { ::sync(); }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + path, errno);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError(fmt::format("rename {} -> {}", from, to), errno);
    }
    return Status::Ok();
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return ErrnoError("mkdir " + path, errno);
    return Status::Ok();
  }
  Status MakeDirs(const std::string& path, mode_t mode) override {
    return zdap::MakeDirs(path, mode);
  }
  Status RemoveTree(const std::string& path) override { return zdap::RemoveTree(path); }
  bool FileExists(const std::string& path) override { return PathExists(path); }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path, errno);
    auto mtime =
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    return FileInfo{st.st_mode, st.st_uid, st.st_gid,
                    SystemTime(std::chrono::duration_cast<SystemTime::duration>(mtime))};
  }

  Status Chown(const std::string& path, uid_t uid, gid_t gid) override {
    if (::chown(path.c_str(), uid, gid) != 0) return ErrnoError("chown " + path, errno);
    return Status::Ok();
  }
  Status Chmod(const std::string& path, mode_t mode) override {
    if (::chmod(path.c_str(), mode) != 0) return ErrnoError("chmod " + path, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return NotFound(fmt::format("{}: no such directory", dir));
      return ErrnoError("opendir " + dir, errno);
    }
    std::vector<std::string> out;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") out.emplace_back(name);
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoError("readdir " + dir, err);
    return out;
  }
};

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: threads may use it at exit
  return env;
}

FakeClockEnv::FakeClockEnv(SystemTime start, Env* target)
    : EnvWrapper(target), now_(start.time_since_epoch().count()) {}

SystemTime FakeClockEnv::Now() {
  return SystemTime(SystemTime::duration(now_.load()));
}

void FakeClockEnv::WaitUntil(SystemTime deadline, WakeSignal& wake) {
  {
    std::lock_guard lock(mu_);
    waiting_.push_back(&wake);
  }
  {
    // Advance changes now_ before it takes `wake`'s mutex to notify: a waiter either sees the
    // new time here or is already waiting when the notification comes.
    std::unique_lock lock(wake.mu_);
    wake.cv_.wait(lock, [&] { return wake.woken_ || Now() >= deadline; });
    wake.woken_ = false;
  }
  std::lock_guard lock(mu_);
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &wake));
}

void FakeClockEnv::Advance(std::chrono::seconds by) {
  std::lock_guard lock(mu_);
  now_ += std::chrono::duration_cast<SystemTime::duration>(by).count();
  for (WakeSignal* w : waiting_) {
    std::lock_guard wl(w->mu_);
    w->cv_.notify_all();
  }
}

}  // namespace zdap
