#include "storage/tree_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/unique_fd.h"
#include "storage/store_layout.h"

namespace zdap::storage {

namespace {

// Errors from xattr calls that mean "this file system or namespace does not do that":
// those attributes are skipped, not fatal.
bool XattrUnsupported(int err) {
  return err == ENOTSUP || err == EPERM || err == EACCES;
}

class TreeCopier {
 public:
  TreeCopier(std::string src, std::string dst, FileData data)
      : src_root_(std::move(src)), dst_root_(std::move(dst)), data_(data) {}

  Status Run() {
    UniqueFd sfd(::open(src_root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sfd.valid()) return ErrnoError(fmt::format("open {}", src_root_), errno);
    struct stat st;
    if (::fstat(sfd.get(), &st) != 0) return ErrnoError(fmt::format("stat {}", src_root_), errno);
    dev_ = st.st_dev;
    // Created 0700 and opened to the final mode only at the end, so nobody can slip into
    // a half-made copy.
    if (::mkdir(dst_root_.c_str(), 0700) != 0) {
      return ErrnoError(fmt::format("mkdir {}", dst_root_), errno);
    }
    UniqueFd dfd(::open(dst_root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dfd.valid()) return ErrnoError(fmt::format("open {}", dst_root_), errno);
    dst_root_fd_ = dfd.get();
    ZDAP_RETURN_IF_ERROR(CopyDirContents(sfd.get(), dfd.get(), ""));
    return FinishMetadata(sfd.get(), dfd.get(), st, "");
  }

 private:
  std::string SrcPath(const std::string& rel) const {
    return rel.empty() ? src_root_ : src_root_ + "/" + rel;
  }
  std::string DstPath(const std::string& rel) const {
    return rel.empty() ? dst_root_ : dst_root_ + "/" + rel;
  }

  Status CopyDirContents(int sdir, int ddir, const std::string& rel) {
    ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(sdir, SrcPath(rel)));
    for (const std::string& name : names) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (::fstatat(sdir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoError(fmt::format("stat {}", SrcPath(child)), errno);
      }
      ZDAP_RETURN_IF_ERROR(CopyEntry(sdir, ddir, name, st, child));
    }
    return Status::Ok();
  }

  Status CopyEntry(int sdir, int ddir, const std::string& name, const struct stat& st,
                   const std::string& rel) {
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR:
        return CopyDir(sdir, ddir, name, st, rel);
      case S_IFREG:
        return CopyRegular(sdir, ddir, name, st, rel);
      case S_IFLNK:
        return CopySymlink(sdir, ddir, name, st, rel);
      default:  // fifo, socket, character and block devices
        if (::mknodat(ddir, name.c_str(), st.st_mode, st.st_rdev) != 0) {
          return ErrnoError(fmt::format("mknod {}", DstPath(rel)), errno);
        }
        return FinishMetadataAt(ddir, name, st, rel);
    }
  }

  Status CopyDir(int sdir, int ddir, const std::string& name, const struct stat& st,
                 const std::string& rel) {
    if (::mkdirat(ddir, name.c_str(), 0700) != 0) {
      return ErrnoError(fmt::format("mkdir {}", DstPath(rel)), errno);
    }
    UniqueFd child_d(::openat(ddir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child_d.valid()) return ErrnoError(fmt::format("open {}", DstPath(rel)), errno);
    UniqueFd child_s(::openat(sdir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child_s.valid()) return ErrnoError(fmt::format("open {}", SrcPath(rel)), errno);
    if (st.st_dev != dev_) {
      log::Warn("storage: {} is a mount point; copied as an empty directory", SrcPath(rel));
    } else {
      ZDAP_RETURN_IF_ERROR(CopyDirContents(child_s.get(), child_d.get(), rel));
    }
    // After the contents: creating entries would bump the directory's times again.
    return FinishMetadata(child_s.get(), child_d.get(), st, rel);
  }

  Status CopyRegular(int sdir, int ddir, const std::string& name, const struct stat& st,
                     const std::string& rel) {
    std::pair<dev_t, ino_t> key{st.st_dev, st.st_ino};
    if (st.st_nlink > 1) {
      auto it = links_.find(key);
      if (it != links_.end()) {
        if (::linkat(dst_root_fd_, it->second.c_str(), ddir, name.c_str(), 0) != 0) {
          return ErrnoError(fmt::format("link {} -> {}", DstPath(rel), DstPath(it->second)), errno);
        }
        return Status::Ok();
      }
    }
    UniqueFd s(::openat(sdir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!s.valid()) return ErrnoError(fmt::format("open {}", SrcPath(rel)), errno);
    UniqueFd d(
        ::openat(ddir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!d.valid()) return ErrnoError(fmt::format("create {}", DstPath(rel)), errno);
    if (data_ == FileData::kReflink) {
      if (::ioctl(d.get(), FICLONE, s.get()) != 0) {
        return ErrnoError(fmt::format("reflink {} -> {}", SrcPath(rel), DstPath(rel)), errno);
      }
    } else {
      ZDAP_RETURN_IF_ERROR(CopyData(s.get(), d.get(), st.st_size, rel));
    }
    ZDAP_RETURN_IF_ERROR(FinishMetadata(s.get(), d.get(), st, rel));
    if (st.st_nlink > 1) links_.emplace(key, rel);
    return Status::Ok();
  }

  // Copies the data extents of `s` into `d` and leaves the holes as holes. sendfile copies
  // in the kernel and, unlike copy_file_range, never turns into a reflink: the copy driver
  // promises independent bytes.
  Status CopyData(int s, int d, off_t size, const std::string& rel) {
    off_t pos = 0;
    while (pos < size) {
      off_t data = ::lseek(s, pos, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;  // only a hole is left
        if (errno != EINVAL && errno != EOPNOTSUPP) {
          return ErrnoError(fmt::format("seek {}", SrcPath(rel)), errno);
        }
        data = pos;  // no SEEK_DATA here: copy everything
      }
      off_t hole = ::lseek(s, data, SEEK_HOLE);
      if (hole < 0) hole = size;
      if (hole > size) hole = size;
      if (::lseek(d, data, SEEK_SET) < 0) {
        return ErrnoError(fmt::format("seek {}", DstPath(rel)), errno);
      }
      off_t in = data;
      while (in < hole) {
        size_t chunk = static_cast<size_t>(std::min<off_t>(hole - in, off_t{1} << 30));
        ssize_t n = ::sendfile(d, s, &in, chunk);
        if (n < 0) {
          if (errno == EINTR) continue;
          return ErrnoError(fmt::format("copy {} -> {}", SrcPath(rel), DstPath(rel)), errno);
        }
        if (n == 0) break;  // the source shrank under us; the size is fixed below
      }
      pos = hole;
    }
    // Sets the size, which also recreates a trailing hole.
    if (::ftruncate(d, size) != 0)
      return ErrnoError(fmt::format("truncate {}", DstPath(rel)), errno);
    return Status::Ok();
  }

  Status CopySymlink(int sdir, int ddir, const std::string& name, const struct stat& st,
                     const std::string& rel) {
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
    for (;;) {
      ssize_t n = ::readlinkat(sdir, name.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoError(fmt::format("readlink {}", SrcPath(rel)), errno);
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    if (::symlinkat(target.c_str(), ddir, name.c_str()) != 0) {
      return ErrnoError(fmt::format("symlink {}", DstPath(rel)), errno);
    }
    return FinishMetadataAt(ddir, name, st, rel);
  }

  // Owner, mode (after chown, which clears setuid/setgid), xattrs, then times: for objects
  // open as `s` and `d`.
  Status FinishMetadata(int s, int d, const struct stat& st, const std::string& rel) {
    if (::fchown(d, st.st_uid, st.st_gid) != 0) {
      ZDAP_RETURN_IF_ERROR(ChownFailed(errno, rel));
    }
    if (::fchmod(d, st.st_mode & 07777) != 0) {
      return ErrnoError(fmt::format("chmod {}", DstPath(rel)), errno);
    }
    ZDAP_RETURN_IF_ERROR(CopyXattrs(s, d, rel));
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(d, times) != 0) return ErrnoError(fmt::format("utimes {}", DstPath(rel)), errno);
    return Status::Ok();
  }

  // The same for objects that cannot be opened (symlinks, devices, fifos): by name.
  Status FinishMetadataAt(int ddir, const std::string& name, const struct stat& st,
                          const std::string& rel) {
    if (::fchownat(ddir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
      ZDAP_RETURN_IF_ERROR(ChownFailed(errno, rel));
    }
    if (!S_ISLNK(st.st_mode) && ::fchmodat(ddir, name.c_str(), st.st_mode & 07777, 0) != 0) {
      return ErrnoError(fmt::format("chmod {}", DstPath(rel)), errno);
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(ddir, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(fmt::format("utimes {}", DstPath(rel)), errno);
    }
    return Status::Ok();
  }

  // Without root a copy can only belong to us; that is the best an unprivileged caller gets.
  Status ChownFailed(int err, const std::string& rel) {
    if (err == EPERM && ::geteuid() != 0) return Status::Ok();
    return ErrnoError(fmt::format("chown {}", DstPath(rel)), err);
  }

  Status CopyXattrs(int s, int d, const std::string& rel) {
    ssize_t len = ::flistxattr(s, nullptr, 0);
    if (len <= 0) return Status::Ok();  // none, or not supported
    std::string names(static_cast<size_t>(len), '\0');
    len = ::flistxattr(s, names.data(), names.size());
    if (len <= 0) return Status::Ok();
    names.resize(static_cast<size_t>(len));
    std::string value;
    for (size_t i = 0; i < names.size();) {
      const char* key = names.c_str() + i;
      i += std::char_traits<char>::length(key) + 1;
      ssize_t vlen = ::fgetxattr(s, key, nullptr, 0);
      if (vlen < 0) continue;
      value.resize(static_cast<size_t>(vlen));
      vlen = ::fgetxattr(s, key, value.data(), value.size());
      if (vlen < 0) continue;
      if (::fsetxattr(d, key, value.data(), static_cast<size_t>(vlen), 0) != 0) {
        int err = errno;
        if (XattrUnsupported(err)) {
          log::Debug("storage: xattr {} not copied to {}: {}", key, DstPath(rel), strerror(err));
          continue;
        }
        return ErrnoError(fmt::format("set xattr {} on {}", key, DstPath(rel)), err);
      }
    }
    return Status::Ok();
  }

  const std::string src_root_;
  const std::string dst_root_;
  const FileData data_;
  dev_t dev_ = 0;
  int dst_root_fd_ = -1;
  // Files with several links already copied: (device, inode) -> path relative to dst_root_.
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Status CopyTree(const std::string& src, const std::string& dst, FileData data) {
  return TreeCopier(src, dst, data).Run();
}

}  // namespace zdap::storage
