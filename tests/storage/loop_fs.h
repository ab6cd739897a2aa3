// LoopFs: a real file system on a sparse loop file, mounted for the lifetime of the object,
// for tests that need btrfs, XFS with reflink, or ext4 regardless of what / is.
//
// Needs root (mount) and the file system's mkfs. When either is missing the constructor
// throws std::runtime_error saying what to install or how to run, so the test FAILS with
// that message instead of being skipped silently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zdap::test {

class LoopFs {
 public:
  // `type`: "btrfs", "xfs" (made with reflink=1) or "ext4".
  explicit LoopFs(const std::string& type, uint64_t size_bytes = uint64_t{1} << 30);
  ~LoopFs();  // unmounts (lazily if busy) and removes the image
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;

  const std::string& type() const { return type_; }
  const std::string& mount_point() const { return mount_point_; }

  // A fresh empty directory under the mount point, for one test.
  std::string NewDir(const std::string& prefix);

 private:
  std::string type_;
  std::string dir_;  // holds the image file and the mount point
  std::string image_;
  std::string mount_point_;
  bool mounted_ = false;
  int counter_ = 0;
};

// One LoopFs of each type per test program, made on first use and torn down at exit; tests
// take fresh directories in it with NewDir (mkfs and mount cost a second, not per test).
LoopFs& SharedLoopFs(const std::string& type);

// Unmounts (lazily, deepest first) every mount at or below `dir`; returns how many.
int UnmountUnder(const std::string& dir);

}  // namespace zdap::test
