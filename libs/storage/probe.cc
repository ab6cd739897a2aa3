#include "storage/probe.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/file_util.h"
#include "core/unique_fd.h"
#include "storage/overlay_mount.h"
#include "storage/store_layout.h"

namespace zdap::storage {

Probe ProbeReflink(const std::string& dir) {
  std::string scratch = TrashPath(dir, "probe-reflink");  // hidden; cleaned on open if left
  if (::mkdir(scratch.c_str(), 0700) != 0) {
    return {false, fmt::format("cannot create {}: {}", scratch, std::strerror(errno))};
  }
  Probe result;
  {
    UniqueFd a(::open((scratch + "/a").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    UniqueFd b(::open((scratch + "/b").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    char block[4096];
    std::memset(block, 'z', sizeof block);
    if (!a.valid() || !b.valid() || ::write(a.get(), block, sizeof block) != sizeof block ||
        ::fsync(a.get()) != 0) {
      result = {false, fmt::format("cannot write in {}: {}", scratch, std::strerror(errno))};
    } else if (::ioctl(b.get(), FICLONE, a.get()) != 0) {
      int err = errno;
      std::string fs = "?";
      if (auto t = FsTypeOf(dir); t.ok()) fs = FsTypeName(*t);
      result = {false, fmt::format("FICLONE fails on {} ({})", fs, std::strerror(err))};
    } else {
      result = {true, "FICLONE works"};
    }
  }
  (void)RemoveTree(scratch);
  return result;
}

Probe ProbeOverlay(const std::string& dir) {
  if (::geteuid() != 0) return {false, "mounting overlays needs root"};
  std::string scratch = TrashPath(dir, "probe-overlay");
  Probe result;
  for (const char* sub : {"", "/lower", "/upper", "/work", "/merged"}) {
    std::string p = scratch + sub;
    if (::mkdir(p.c_str(), 0700) != 0) {
      result = {false, fmt::format("cannot create {}: {}", p, std::strerror(errno))};
      (void)RemoveTree(scratch);
      return result;
    }
  }
  Status st =
      MountOverlay(scratch + "/lower", scratch + "/upper", scratch + "/work", scratch + "/merged");
  if (!st.ok()) {
    result = {false, st.message()};
  } else {
    Status w = WriteFileAtomic(scratch + "/merged/f", "x");
    result = w.ok() ? Probe{true, "an overlay mount works"}
                    : Probe{false, "cannot write through an overlay: " + w.message()};
    (void)UnmountOverlay(scratch + "/merged");
  }
  (void)RemoveTree(scratch);
  return result;
}

}  // namespace zdap::storage
