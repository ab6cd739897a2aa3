#include "storage/space_usage.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "core/unique_fd.h"
#include "storage/store_layout.h"

namespace zdap::storage {

namespace {

// Calls `visit(fd, stat, path)` once per inode under `root` (root included). `fd` is open
// read-only for regular files, -1 otherwise.
using Visit = std::function<Status(int fd, const struct stat& st, const std::string& path)>;

class Walker {
 public:
  explicit Walker(Visit visit) : visit_(std::move(visit)) {}

  Status Run(const std::string& root) {
    UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError(fmt::format("open {}", root), errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoError(fmt::format("stat {}", root), errno);
    dev_ = st.st_dev;
    ZDAP_RETURN_IF_ERROR(visit_(-1, st, root));
    return WalkDir(fd.get(), root, 0);
  }

 private:
  static constexpr int kMaxDepth = 256;

  Status WalkDir(int dir_fd, const std::string& path, int depth) {
    if (depth > kMaxDepth) return IoError(fmt::format("{}: directories nested too deep", path));
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(dir_fd, path));
    for (const std::string& name : names) {
      std::string child = path + "/" + name;
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile
        return ErrnoError(fmt::format("stat {}", child), errno);
      }
      if (st.st_dev != dev_) continue;  // a mount point: not this tree's space
      if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen_.insert({st.st_dev, st.st_ino}).second)
        continue;
      if (S_ISDIR(st.st_mode)) {
        UniqueFd fd(
            ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) return ErrnoError(fmt::format("open {}", child), errno);
        ZDAP_RETURN_IF_ERROR(visit_(-1, st, child));
        ZDAP_RETURN_IF_ERROR(WalkDir(fd.get(), child, depth + 1));
      } else if (S_ISREG(st.st_mode)) {
        UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) return ErrnoError(fmt::format("open {}", child), errno);
        ZDAP_RETURN_IF_ERROR(visit_(fd.get(), st, child));
      } else {
        ZDAP_RETURN_IF_ERROR(visit_(-1, st, child));
      }
    }
    return Status::Ok();
  }

  Visit visit_;
  dev_t dev_ = 0;
  std::set<std::pair<dev_t, ino_t>> seen_;
};

// Exclusive data bytes of one open regular file (see ExclusiveExtentBytes).
Result<uint64_t> ExclusiveExtentsOf(int fd, const std::string& path) {
  constexpr unsigned kBatch = 256;
  std::vector<char> buf(sizeof(struct fiemap) + kBatch * sizeof(struct fiemap_extent));
  auto* fm = reinterpret_cast<struct fiemap*>(buf.data());
  uint64_t start = 0;
  uint64_t total = 0;
  for (;;) {
    std::fill(buf.begin(), buf.end(), 0);
    fm->fm_start = start;
    fm->fm_length = FIEMAP_MAX_OFFSET - start;
    fm->fm_extent_count = kBatch;
    if (::ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
      return ErrnoError(fmt::format("FIEMAP {}", path), errno);
    }
    if (fm->fm_mapped_extents == 0) return total;
    bool last = false;
    for (unsigned i = 0; i < fm->fm_mapped_extents; ++i) {
      const struct fiemap_extent& e = fm->fm_extents[i];
      bool shared = (e.fe_flags & FIEMAP_EXTENT_SHARED) != 0;
      bool inline_data = (e.fe_flags & FIEMAP_EXTENT_DATA_INLINE) != 0;
      if (!shared && !inline_data) total += e.fe_length;
      start = e.fe_logical + e.fe_length;
      last = last || (e.fe_flags & FIEMAP_EXTENT_LAST) != 0;
    }
    if (last || fm->fm_mapped_extents < kBatch) return total;
  }
}

}  // namespace

Result<uint64_t> AllocatedBytes(const std::string& root) {
  uint64_t total = 0;
  Walker walker([&](int, const struct stat& st, const std::string&) {
    total += static_cast<uint64_t>(st.st_blocks) * 512;
    return Status::Ok();
  });
  ZDAP_RETURN_IF_ERROR(walker.Run(root));
  return total;
}

Result<uint64_t> ExclusiveExtentBytes(const std::string& root) {
  uint64_t total = 0;
  Walker walker([&](int fd, const struct stat&, const std::string& path) -> Status {
    if (fd < 0) return Status::Ok();
    ZDAP_ASSIGN_OR_RETURN(uint64_t bytes, ExclusiveExtentsOf(fd, path));
    total += bytes;
    return Status::Ok();
  });
  ZDAP_RETURN_IF_ERROR(walker.Run(root));
  return total;
}

Result<uint64_t> FileBytes(const std::string& root) {
  constexpr uint64_t kPerEntryBytes = 1024;
  uint64_t total = 0;
  Walker walker([&](int, const struct stat& st, const std::string&) {
    if (S_ISREG(st.st_mode)) total += static_cast<uint64_t>(st.st_size);
    total += kPerEntryBytes;
    return Status::Ok();
  });
  ZDAP_RETURN_IF_ERROR(walker.Run(root));
  return total;
}

Result<std::string> FindDeviceNode(const std::string& root) {
  std::string found;
  Walker walker([&](int, const struct stat& st, const std::string& path) {
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) return Status::Ok();
    found = path;
    return Internal("stop");  // ends the walk; `found` tells it from a real failure
  });
  Status st = walker.Run(root);
  if (!found.empty()) return found;
  ZDAP_RETURN_IF_ERROR(st);
  return found;
}

}  // namespace zdap::storage
