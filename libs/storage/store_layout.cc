#include "storage/store_layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <random>

#include "core/file_util.h"
#include "core/unique_fd.h"

namespace zdap::storage {

namespace {

constexpr size_t kMaxNameLength = 128;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '@' ||
         c == '.' || c == '_' || c == '-';
}

// Reads the names in `dir` (without "." and ".."), keeping those `keep` accepts.
template <typename Keep>
Result<std::vector<std::string>> ReadNames(const std::string& dir, Keep keep) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError(fmt::format("open directory {}", dir), errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir =
          ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (keep(n, is_dir)) names.emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoError(fmt::format("read directory {}", dir), err);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

Result<std::vector<std::string>> ReadDirNames(int dir_fd, const std::string& dir) {
  // fdopendir takes ownership of its descriptor; give it a duplicate.
  int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ErrnoError(fmt::format("dup {}", dir), errno);
  DIR* d = ::fdopendir(dup_fd);
  if (d == nullptr) {
    int err = errno;
    ::close(dup_fd);
    return ErrnoError(fmt::format("open directory {}", dir), err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoError(fmt::format("read directory {}", dir), err);
  return names;
}

Status ValidateVolumeName(const std::string& name) {
  // Shown names are cut short and stripped of control bytes: they end up in logs and in
  // HTTP error bodies.
  auto shown = [&] {
    std::string s;
    for (char c : name.substr(0, 64)) s += IsNameChar(c) ? c : '?';
    return s;
  };
  if (name.empty()) return InvalidArgument("volume name is empty");
  if (name.size() > kMaxNameLength) {
    return InvalidArgument(
        fmt::format("volume name '{}...' is longer than {} characters", shown(), kMaxNameLength));
  }
  if (name[0] == '.') {
    return InvalidArgument(
        fmt::format("volume name '{}' is not valid: it must not start with '.'", shown()));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidArgument(fmt::format(
          "volume name '{}' is not valid: use letters, digits and '@', '.', '_', '-'", shown()));
    }
  }
  return Status::Ok();
}

std::string NormalizeRoot(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Status PrepareLayout(const std::string& root) {
  ZDAP_RETURN_IF_ERROR(MakeDirs(root, 0755));
  for (const char* area : kAreas) {
    std::string dir = root + "/" + area;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoError(fmt::format("mkdir {}", dir), errno);
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return ErrnoError(fmt::format("stat {}", dir), errno);
    if (!S_ISDIR(st.st_mode)) return IoError(fmt::format("{} is not a directory", dir));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListArea(const std::string& dir) {
  return ReadNames(dir, [](std::string_view n, bool is_dir) { return is_dir && n[0] != '.'; });
}

Result<std::vector<std::string>> ListHidden(const std::string& dir, std::string_view prefix) {
  return ReadNames(dir, [&](std::string_view n, bool) { return n.starts_with(prefix); });
}

Status RequirePresent(const std::string& path, std::string_view what, const std::string& name) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(fmt::format("{} '{}' not found", what, name));
    return ErrnoError(fmt::format("stat {}", path), errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return IoError(fmt::format("{} '{}': {} is not a directory", what, name, path));
  }
  return Status::Ok();
}

Status RequireAbsent(const std::string& path, std::string_view what, const std::string& name) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return Conflict(fmt::format("{} '{}' already exists", what, name));
  }
  if (errno != ENOENT) return ErrnoError(fmt::format("stat {}", path), errno);
  return Status::Ok();
}

Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) return Conflict(fmt::format("{} already exists", to));
    return ErrnoError(fmt::format("rename {} -> {}", from, to), err);
  }
  return Status::Ok();
}

std::string TrashPath(const std::string& area_dir, const std::string& name) {
  // The pid keeps names of forked processes apart (they inherit the generator's state).
  static std::atomic<uint32_t> counter{0};
  thread_local std::mt19937 rng{std::random_device{}()};
  return fmt::format("{}/{}{}-{}-{:x}-{:08x}", area_dir, kTrashPrefix, name, ::getpid(), counter++,
                     rng());
}

Result<Space> SpaceOf(const std::string& path) {
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) != 0) return ErrnoError(fmt::format("statvfs {}", path), errno);
  Space space;
  space.total_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  space.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  space.used_bytes = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  return space;
}

Result<long> FsTypeOf(const std::string& path) {
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0) return ErrnoError(fmt::format("statfs {}", path), errno);
  return static_cast<long>(sfs.f_type);
}

std::string FsTypeName(long f_type) {
  switch (static_cast<unsigned long>(f_type)) {
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case EXT4_SUPER_MAGIC:  // ext2/ext3/ext4 share it
      return "ext4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case TMPFS_MAGIC:
      return "tmpfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlay";
    case NFS_SUPER_MAGIC:
      return "nfs";
    case 0x2fc12fc1:
      return "zfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(f_type));
  }
}

}  // namespace zdap::storage
