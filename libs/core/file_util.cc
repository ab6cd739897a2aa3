#include "core/file_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>

namespace zdap {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound(fmt::format("{}: no such file", path));
    return ErrnoError(fmt::format("open {}", path), err);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError(fmt::format("read {}", path), err);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return Status(Code::kTooLarge, fmt::format("{}: larger than {} bytes", path, max_bytes));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

namespace {

Status WriteAndRename(const std::string& path, std::string_view data, mode_t mode,
                      const std::optional<FileOwner>& owner, bool durable) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::random_device rd;
  std::string tmp = fmt::format("{}/.{}.tmp-{:08x}", dir, p.filename().string(), rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(fmt::format("create {}", tmp), errno);
  // open() applies the umask; secrets files must be exactly `mode`.
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoError(fmt::format("chmod {}", tmp), err);
  }
  // Owned by the reader before it has its name: a chown after the rename leaves a window in
  // which the reader (a postgres reading pg_hba.conf at start-up) is refused.
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoError(fmt::format("chown {} to {}:{}", tmp, owner->uid, owner->gid), err);
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoError(fmt::format("write {}", tmp), err);
    }
    off += static_cast<size_t>(n);
  }
  if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(fmt::format("{} {}", durable ? "fsync" : "close", tmp), err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoError(fmt::format("rename {} -> {}", tmp, path), err);
  }
  if (!durable) return Status::Ok();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       const std::optional<FileOwner>& owner) {
  return WriteAndRename(path, data, mode, owner, true);
}

Status ReplaceFile(const std::string& path, std::string_view data, mode_t mode,
                   const std::optional<FileOwner>& owner) {
  return WriteAndRename(path, data, mode, owner, false);
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + path, errno);
  int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (err != 0) return ErrnoError("fsync " + path, err);
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path acc;
  for (const auto& part : p) {
    acc /= part;
    if (acc.empty() || std::filesystem::exists(acc, ec)) continue;
    if (::mkdir(acc.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoError(fmt::format("mkdir {}", acc.string()), errno);
    }
  }
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);  // does not follow symlinks
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return IoError(fmt::format("remove {}: {}", path, ec.message()));
  }
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string TailFile(const std::string& path, int max_lines, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return {};
  }
  off_t start =
      st.st_size > static_cast<off_t>(max_bytes) ? st.st_size - static_cast<off_t>(max_bytes) : 0;
  std::string buf(static_cast<size_t>(st.st_size - start), '\0');
  ssize_t n = ::pread(fd, buf.data(), buf.size(), start);
  ::close(fd);
  if (n <= 0) return {};
  buf.resize(static_cast<size_t>(n));
  while (!buf.empty() && buf.back() == '\n') buf.pop_back();
  int lines = 0;
  size_t pos = buf.size();
  while (pos > 0) {
    size_t nl = buf.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    if (++lines >= max_lines) {
      pos = nl + 1;
      break;
    }
    pos = nl;
  }
  return buf.substr(pos);
}

}  // namespace zdap
