#include "storage/overlay_mount.h"

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/log.h"

namespace zdap::storage {

Status MountOverlay(const std::string& lower, const std::string& upper, const std::string& work,
                    const std::string& target) {
  for (const std::string* p : {&lower, &upper, &work}) {
    if (p->find_first_of(",:\\") != std::string::npos) {
      return InvalidArgument(fmt::format("overlay paths cannot contain ',', ':' or '\\': {}", *p));
    }
  }
  std::string options = fmt::format("lowerdir={},upperdir={},workdir={}", lower, upper, work);
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
    int err = errno;
    if (err == ENODEV) {
      return IoError(
          fmt::format("mount overlay on {}: the kernel has no overlay file system "
                      "(modprobe overlay)",
                      target));
    }
    return ErrnoError(fmt::format("mount overlay on {} ({})", target, options), err);
  }
  return Status::Ok();
}

Status UnmountOverlay(const std::string& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return Status::Ok();
  int err = errno;
  if (err == EBUSY) {
    log::Warn("storage: {} is busy; detaching it lazily", target);
    if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return Status::Ok();
    err = errno;
  }
  return ErrnoError(fmt::format("unmount {}", target), err);
}

Status UnmountBelow(const std::string& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  if (!mountinfo) return IoError("cannot read /proc/self/mountinfo");
  std::vector<std::string> targets;
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point.size() > dir.size() && point.compare(0, dir.size() + 1, dir + "/") == 0) {
      targets.push_back(point);
    }
  }
  std::sort(targets.rbegin(), targets.rend());  // children sort after their parents
  for (const std::string& t : targets) {
    log::Info("storage: unmounting {}, left by an interrupted operation", t);
    if (::umount2(t.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL) {
      return ErrnoError(fmt::format("unmount {}", t), errno);
    }
  }
  return Status::Ok();
}

Result<bool> IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (::lstat(path.c_str(), &self) != 0) return ErrnoError(fmt::format("stat {}", path), errno);
  if (!S_ISDIR(self.st_mode)) return false;
  std::string up = path + "/..";
  if (::stat(up.c_str(), &parent) != 0) return ErrnoError(fmt::format("stat {}", up), errno);
  return self.st_dev != parent.st_dev;
}

}  // namespace zdap::storage
