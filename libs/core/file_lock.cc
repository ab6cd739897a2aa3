#include "core/file_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>

#include <cerrno>

namespace zdap {

Result<FileLock> FileLock::Acquire(const std::string& path, bool wait,
                                   const std::string& holder_hint) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("open lock file " + path, errno);
  return Lock(std::move(fd), path, wait, holder_hint);
}

Result<FileLock> FileLock::AcquireDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(fmt::format("open {}", dir), errno);
  return Lock(std::move(fd), dir, true, "");
}

Result<FileLock> FileLock::Lock(UniqueFd fd, const std::string& path, bool wait,
                                const std::string& holder_hint) {
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      return Conflict(fmt::format("{} (lock {} is held)", holder_hint, path));
    }
    return ErrnoError("flock " + path, errno);
  }
  return FileLock(std::move(fd), path);
}

}  // namespace zdap
