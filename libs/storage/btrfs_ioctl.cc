#include "storage/btrfs_ioctl.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace zdap::storage::btrfs {

namespace {

Result<UniqueFd> OpenDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) return NotFound(fmt::format("{}: no such directory", path));
    return ErrnoError(fmt::format("open {}", path), err);
  }
  return fd;
}

// Copies `name` into a fixed-size ioctl name field; the caller has validated it (short,
// no '/').
template <size_t N>
Status FillName(char (&field)[N], const std::string& name) {
  if (name.empty() || name.size() >= N || name.find('/') != std::string::npos) {
    return InvalidArgument(fmt::format("'{}' cannot name a btrfs subvolume", name));
  }
  std::memcpy(field, name.data(), name.size());
  field[name.size()] = '\0';
  return Status::Ok();
}

Status IoctlError(std::string_view what, const std::string& path, int err) {
  if (err == EEXIST) return Conflict(fmt::format("{} {}: already exists", what, path));
  if (err == ENOTTY || err == EOPNOTSUPP) {
    return IoError(fmt::format("{} {}: not on a btrfs file system", what, path));
  }
  return ErrnoError(fmt::format("{} {}", what, path), err);
}

}  // namespace

Result<bool> IsSubvolume(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoError(fmt::format("stat {}", path), errno);
  if (!S_ISDIR(st.st_mode) || st.st_ino != BTRFS_FIRST_FREE_OBJECTID) return false;
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0) return ErrnoError(fmt::format("statfs {}", path), errno);
  return static_cast<unsigned long>(sfs.f_type) == BTRFS_SUPER_MAGIC;
}

Status CreateSubvolume(const std::string& parent, const std::string& name) {
  ZDAP_ASSIGN_OR_RETURN(UniqueFd pfd, OpenDir(parent));
  struct btrfs_ioctl_vol_args args;
  std::memset(&args, 0, sizeof args);
  ZDAP_RETURN_IF_ERROR(FillName(args.name, name));
  if (::ioctl(pfd.get(), BTRFS_IOC_SUBVOL_CREATE, &args) != 0) {
    return IoctlError("create subvolume", parent + "/" + name, errno);
  }
  return Status::Ok();
}

Status Snapshot(const std::string& source, const std::string& parent, const std::string& name,
                bool read_only) {
  ZDAP_ASSIGN_OR_RETURN(UniqueFd sfd, OpenDir(source));
  ZDAP_ASSIGN_OR_RETURN(UniqueFd pfd, OpenDir(parent));
  struct btrfs_ioctl_vol_args_v2 args;
  std::memset(&args, 0, sizeof args);
  args.fd = sfd.get();
  args.flags = read_only ? BTRFS_SUBVOL_RDONLY : 0;
  ZDAP_RETURN_IF_ERROR(FillName(args.name, name));
  if (::ioctl(pfd.get(), BTRFS_IOC_SNAP_CREATE_V2, &args) != 0) {
    return IoctlError(fmt::format("snapshot {} as", source), parent + "/" + name, errno);
  }
  return Status::Ok();
}

Status DestroySubvolume(const std::string& parent, const std::string& name) {
  ZDAP_ASSIGN_OR_RETURN(UniqueFd pfd, OpenDir(parent));
  struct btrfs_ioctl_vol_args args;
  std::memset(&args, 0, sizeof args);
  ZDAP_RETURN_IF_ERROR(FillName(args.name, name));
  if (::ioctl(pfd.get(), BTRFS_IOC_SNAP_DESTROY, &args) != 0) {
    return IoctlError("destroy subvolume", parent + "/" + name, errno);
  }
  return Status::Ok();
}

Result<bool> IsReadOnly(const std::string& path) {
  ZDAP_ASSIGN_OR_RETURN(UniqueFd fd, OpenDir(path));
  uint64_t flags = 0;
  if (::ioctl(fd.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) != 0) {
    return IoctlError("get flags of", path, errno);
  }
  return (flags & BTRFS_SUBVOL_RDONLY) != 0;
}

Status SetReadOnly(const std::string& path, bool read_only) {
  ZDAP_ASSIGN_OR_RETURN(UniqueFd fd, OpenDir(path));
  uint64_t flags = 0;
  if (::ioctl(fd.get(), BTRFS_IOC_SUBVOL_GETFLAGS, &flags) != 0) {
    return IoctlError("get flags of", path, errno);
  }
  uint64_t want =
      read_only ? (flags | BTRFS_SUBVOL_RDONLY) : (flags & ~uint64_t{BTRFS_SUBVOL_RDONLY});
  if (want == flags) return Status::Ok();
  if (::ioctl(fd.get(), BTRFS_IOC_SUBVOL_SETFLAGS, &want) != 0) {
    return IoctlError("set flags of", path, errno);
  }
  return Status::Ok();
}

}  // namespace zdap::storage::btrfs
