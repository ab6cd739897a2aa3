#include "core/file_util.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <random>

#include "core/unique_fd.h"

namespace zdap {

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return NotFound(fmt::format("{}: no such file", path));
    return ErrnoError(fmt::format("open {}", path), err);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(fmt::format("read {}", path), errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return Status(Code::kTooLarge, fmt::format("{}: larger than {} bytes", path, max_bytes));
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ReadSecretFile(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(fmt::format("{} is not a file", path));
  if ((st.st_mode & 077) != 0) {
    return InvalidArgument(fmt::format("{} is readable by others (mode {:04o}): chmod 600 {}", path,
                                       st.st_mode & 07777, path));
  }
  return ReadFile(path, max_bytes);
}

Result<std::string> ReadSecretLine(const std::string& path, size_t max_bytes) {
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path, max_bytes));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.find_first_of("\n\r") != std::string::npos) {
    return InvalidArgument(
        fmt::format("{} holds more than one line; it must hold the secret alone", path));
  }
  return text;
}

namespace {

// fsync of what `fd` refers to; `what` names it in the error.
Status SyncFd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return ErrnoError(fmt::format("fsync {}", what), errno);
  return Status::Ok();
}

// Writes all of `data` to `fd`.
Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(fmt::format("write {}", what), errno);
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Writes the temp file `tmp` completely (mode, owner, data, fsync if durable, close).
Status WriteTemp(const std::string& tmp, std::string_view data, mode_t mode,
                 const std::optional<FileOwner>& owner, bool durable) {
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return ErrnoError(fmt::format("create {}", tmp), errno);
  // open() applies the umask; secrets files must be exactly `mode`.
  if (::fchmod(fd.get(), mode) != 0) return ErrnoError(fmt::format("chmod {}", tmp), errno);
  // Owned by the reader before it has its name: a chown after the rename leaves a window in
  // which the reader (a postgres reading pg_hba.conf at start-up) is refused.
  if (owner && ::fchown(fd.get(), owner->uid, owner->gid) != 0) {
    return ErrnoError(fmt::format("chown {} to {}:{}", tmp, owner->uid, owner->gid), errno);
  }
  ZDAP_RETURN_IF_ERROR(WriteAll(fd.get(), data, tmp));
  if (durable) ZDAP_RETURN_IF_ERROR(SyncFd(fd.get(), tmp));
  // close() reports delayed write errors (NFS, quotas): checked, not left to the destructor.
  if (::close(fd.Release()) != 0) return ErrnoError(fmt::format("close {}", tmp), errno);
  return Status::Ok();
}

Status WriteAndRename(const std::string& path, std::string_view data, mode_t mode,
                      const std::optional<FileOwner>& owner, bool durable) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::random_device rd;
  std::string tmp = fmt::format("{}/.{}.tmp-{:08x}", dir, p.filename().string(), rd());
  Status written = WriteTemp(tmp, data, mode, owner, durable);
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    written = ErrnoError(fmt::format("rename {} -> {}", tmp, path), errno);
  }
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (!durable) return Status::Ok();
  return SyncDir(dir);
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
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open " + path, errno);
  return SyncFd(fd.get(), path);
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(fmt::format("open {}", dir), errno);
  return SyncFd(fd.get(), dir);
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
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return {};
  off_t start =
      st.st_size > static_cast<off_t>(max_bytes) ? st.st_size - static_cast<off_t>(max_bytes) : 0;
  std::string buf(static_cast<size_t>(st.st_size - start), '\0');
  ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), start);
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
