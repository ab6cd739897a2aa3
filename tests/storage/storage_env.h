// Per-driver environments for the storage conformance suite (conformance_test.cc): each says
// which driver it tests and gives a fresh store root on a file system that driver needs.
#pragma once

#include <memory>
#include <string>

#include "storage/driver.h"
#include "storage/loop_fs.h"
#include "support/test_env.h"

namespace zdap::test {

// copy: a TempDir on whatever / is (ext4 here).
struct CopyEnv {
  static constexpr const char* kDriver = "copy";
  static constexpr bool kReadOnlySnapshots = false;  // by contract only, see copy_driver.h
  static constexpr bool kClonesAreMounts = false;
  static constexpr bool kCopyOnWrite = false;  // a clone is a full copy
  TempDir dir{"zdap-storage-copy"};
  std::string Root() const { return dir.path() + "/store"; }
};

// btrfs: a directory on a btrfs loop file system shared by the test program.
struct BtrfsEnv {
  static constexpr const char* kDriver = "btrfs";
  static constexpr bool kReadOnlySnapshots = true;
  static constexpr bool kClonesAreMounts = false;
  static constexpr bool kCopyOnWrite = true;
  std::string root = SharedLoopFs("btrfs").NewDir("store");
  std::string Root() const { return root; }
};

// reflink on XFS made with reflink=1.
struct ReflinkXfsEnv {
  static constexpr const char* kDriver = "reflink";
  static constexpr bool kReadOnlySnapshots = false;
  static constexpr bool kClonesAreMounts = false;
  static constexpr bool kCopyOnWrite = true;
  std::string root = SharedLoopFs("xfs").NewDir("store");
  std::string Root() const { return root; }
};

// reflink on btrfs (FICLONE per file, no subvolumes).
struct ReflinkBtrfsEnv {
  static constexpr const char* kDriver = "reflink";
  static constexpr bool kReadOnlySnapshots = false;
  static constexpr bool kClonesAreMounts = false;
  static constexpr bool kCopyOnWrite = true;
  std::string root = SharedLoopFs("btrfs").NewDir("reflink");
  std::string Root() const { return root; }
};

// overlay on an ext4 loop file system; unmounts what the test left mounted.
struct OverlayEnv {
  static constexpr const char* kDriver = "overlay";
  static constexpr bool kReadOnlySnapshots = false;
  static constexpr bool kClonesAreMounts = true;
  static constexpr bool kCopyOnWrite = true;
  std::string root = SharedLoopFs("ext4").NewDir("store");
  std::string Root() const { return root; }
  ~OverlayEnv() { UnmountUnder(root); }
};

}  // namespace zdap::test
