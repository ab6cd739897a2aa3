#include "storage/loop_fs.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "support/test_env.h"

namespace zdap::test {

namespace {

struct FsTool {
  const char* mkfs;
  const char* package;
  std::vector<std::string> args;  // before the image path
};

FsTool ToolFor(const std::string& type) {
  if (type == "btrfs") return {"mkfs.btrfs", "btrfs-progs", {"-q", "-f"}};
  if (type == "xfs") return {"mkfs.xfs", "xfsprogs", {"-q", "-f", "-m", "reflink=1"}};
  if (type == "ext4") return {"mkfs.ext4", "e2fsprogs", {"-q", "-F"}};
  throw std::runtime_error("LoopFs: unknown file system type '" + type + "'");
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

LoopFs::LoopFs(const std::string& type, uint64_t size_bytes) : type_(type) {
  FsTool tool = ToolFor(type);
  if (::geteuid() != 0) {
    throw std::runtime_error(
        fmt::format("the {} tests mount a loop file system and must run as root (sudo ctest, or "
                    "scripts/test as root)",
                    type));
  }
  std::string out;
  if (Shell(fmt::format("command -v {} || test -x /usr/sbin/{} || test -x /sbin/{}", tool.mkfs,
                        tool.mkfs, tool.mkfs),
            &out) != 0) {
    throw std::runtime_error(
        fmt::format("{} not found: install the {} package (apt-get install {})", tool.mkfs,
                    tool.package, tool.package));
  }
  const char* base = ::getenv("TMPDIR");
  std::string tmpl =
      std::string(base && *base ? base : "/tmp") + "/zdap-loopfs-" + type + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  dir_ = tmpl;
  image_ = dir_ + "/image";
  mount_point_ = dir_ + "/mnt";
  ::mkdir(mount_point_.c_str(), 0755);

  std::string mkfs = fmt::format("PATH=$PATH:/usr/sbin:/sbin {}", tool.mkfs);
  for (const auto& a : tool.args) mkfs += " " + a;
  mkfs += " " + Quote(image_);
  out.clear();
  if (Shell(fmt::format("truncate -s {} {}", size_bytes, Quote(image_)), &out) != 0 ||
      Shell(mkfs, &out) != 0) {
    std::filesystem::remove_all(dir_);
    throw std::runtime_error(fmt::format("making a {} file system failed: {}", type, out));
  }
  out.clear();
  if (Shell(fmt::format("mount -o loop {} {}", Quote(image_), Quote(mount_point_)), &out) != 0) {
    std::filesystem::remove_all(dir_);
    throw std::runtime_error(fmt::format(
        "mount -o loop of a {} image failed (needs root, loop devices and the {} module): {}", type,
        type, out));
  }
  mounted_ = true;
}

LoopFs::~LoopFs() {
  if (mounted_) {
    // The loop device was set up by mount -o loop and is freed with the last unmount.
    if (Shell("umount " + Quote(mount_point_)) != 0) Shell("umount -l " + Quote(mount_point_));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string LoopFs::NewDir(const std::string& prefix) {
  std::string path = fmt::format("{}/{}-{}-{}", mount_point_, prefix, ::getpid(), ++counter_);
  if (::mkdir(path.c_str(), 0755) != 0) throw std::runtime_error("mkdir failed: " + path);
  return path;
}

int UnmountUnder(const std::string& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::vector<std::string> targets;
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, point;
    fields >> id >> parent >> devno >> root >> point;
    if (point == dir || point.rfind(dir + "/", 0) == 0) targets.push_back(point);
  }
  std::sort(targets.rbegin(), targets.rend());  // children sort after their parents
  for (const std::string& t : targets) ::umount2(t.c_str(), MNT_DETACH);
  return static_cast<int>(targets.size());
}

LoopFs& SharedLoopFs(const std::string& type) {
  static std::mutex mu;
  // Destroyed at exit, after the tests: unmounts each file system once.
  static std::map<std::string, std::unique_ptr<LoopFs>> shared;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = shared[type];
  if (!slot) slot = std::make_unique<LoopFs>(type);  // throws with what to install
  return *slot;
}

}  // namespace zdap::test
