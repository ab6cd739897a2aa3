// An exclusive advisory lock (flock) on a file, released on destruction or process death,
// so a kill -9 never leaves a stale lock behind.
#pragma once

#include <string>

#include "core/result.h"

namespace zdap {

class FileLock {
 public:
  FileLock(FileLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock();

  // Conflict (naming `holder_hint`) if another process holds it and `wait` is false.
  static Result<FileLock> Acquire(const std::string& path, bool wait,
                                  const std::string& holder_hint);

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace zdap
