// FileLock: an exclusive advisory lock (flock(2)) held for the lifetime of the object and
// released on destruction or process death, so a kill -9 never leaves a stale lock behind.
// It locks either a lock file (created 0600 when missing; zdapd's data dir, a refresh) or a
// directory itself (zdap's edits of a project directory: no lock file is left behind there).
#pragma once

#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace zdap {

class FileLock {
 public:
  FileLock(FileLock&&) noexcept = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;

  // Locks the file at `path`, creating it if missing. With `wait` false and the lock held by
  // another process: Conflict, "<holder_hint> (lock <path> is held)".
  static Result<FileLock> Acquire(const std::string& path, bool wait,
                                  const std::string& holder_hint);
  // Locks the directory `dir` itself; blocks until the lock is ours.
  static Result<FileLock> AcquireDir(const std::string& dir);

  const std::string& path() const { return path_; }

 private:
  FileLock(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  static Result<FileLock> Lock(UniqueFd fd, const std::string& path, bool wait,
                               const std::string& holder_hint);
  UniqueFd fd_;  // closing it releases the flock
  std::string path_;
};

}  // namespace zdap
