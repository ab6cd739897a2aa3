// DirLock: an exclusive flock(2) on a directory, held for the lifetime of the object. zdap
// takes it on the project directory while it edits the override file and .zdap.yaml, so two
// zdap processes never interleave their edits (and no lock file is left behind).
#pragma once

#include <string>

#include "core/result.h"

namespace zdap::compose {

class DirLock {
 public:
  // Blocks until the lock is ours.
  static Result<DirLock> Acquire(const std::string& dir);

  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  DirLock(const DirLock&) = delete;
  ~DirLock();

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace zdap::compose
