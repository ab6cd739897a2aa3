// OpenStore: picks and opens a driver (SPEC "Layers": `auto` picks the best the data dir
// supports).

#include <fmt/format.h>
#include <linux/magic.h>

#include "core/file_util.h"
#include "core/log.h"
#include "storage/btrfs_driver.h"
#include "storage/copy_driver.h"
#include "storage/driver.h"
#include "storage/overlay_driver.h"
#include "storage/probe.h"
#include "storage/reflink_driver.h"
#include "storage/store_layout.h"
#include "storage/zfs_driver.h"

namespace zdap::storage {

namespace {

constexpr const char* kDriverNames = "auto, btrfs, reflink, overlay, zfs, copy";

bool IsBtrfs(long f_type) {
  return static_cast<unsigned long>(f_type) == BTRFS_SUPER_MAGIC;
}

// `auto`: btrfs > reflink > overlay > copy, the first the file system supports. Returns the
// driver and logs why.
std::string PickDriver(const std::string& root, long fs_type) {
  std::string fs = FsTypeName(fs_type);
  if (IsBtrfs(fs_type)) {
    log::Info("storage: driver auto picked btrfs: {} is on btrfs (subvolume snapshots)", root);
    return "btrfs";
  }
  std::string why = fmt::format("{} is on {}, not btrfs", root, fs);
  Probe reflink = ProbeReflink(root + "/clones");
  if (reflink.supported) {
    log::Info("storage: driver auto picked reflink: {}; {}", why, reflink.reason);
    return "reflink";
  }
  why += "; no reflinks: " + reflink.reason;
  Probe overlay = ProbeOverlay(root + "/clones");
  if (overlay.supported) {
    log::Info("storage: driver auto picked overlay: {}; {}", why, overlay.reason);
    return "overlay";
  }
  log::Info(
      "storage: driver auto picked copy: {}; no overlay: {}. Clones are full copies; put the data "
      "dir on btrfs or XFS (reflink=1) for instant clones",
      why, overlay.reason);
  return "copy";
}

}  // namespace

Result<std::unique_ptr<Driver>> OpenStore(const StorageConfig& config) {
  const std::string& driver = config.driver;
  if (driver != "auto" && driver != "btrfs" && driver != "reflink" && driver != "overlay" &&
      driver != "zfs" && driver != "copy") {
    return InvalidArgument(
        fmt::format("storage driver '{}' is not known; use one of {}", driver, kDriverNames));
  }
  if (driver == "zfs") {
    // zfs is never picked by auto: it needs a pool and a dataset the operator names.
    log::Info("storage: using driver zfs on dataset {}", config.dataset);
    return ZfsDriver::Open(config.dataset, SystemZfsRunner());
  }
  if (config.path.empty()) return InvalidArgument("storage path is empty; set storage.path");
  std::string root = NormalizeRoot(config.path);
  // The root must exist before its file system can be asked about.
  ZDAP_RETURN_IF_ERROR(MakeDirs(root, 0755));
  ZDAP_ASSIGN_OR_RETURN(long fs_type, FsTypeOf(root));
  std::string fs = FsTypeName(fs_type);

  // The driver that made a store is recorded in it: `auto` keeps using it, so that a store
  // never changes hands because a probe answers differently (e.g. overlay without root).
  std::string marker = root + "/.driver";
  std::string recorded;
  if (auto text = ReadFile(marker, 64); text.ok()) {
    recorded = *text;
    while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
  }

  std::string chosen = driver;
  if (driver == "auto" && !recorded.empty()) {
    chosen = recorded;
    log::Info("storage: driver auto uses {}: the store at {} was made with it", chosen, root);
  } else if (driver == "auto") {
    ZDAP_RETURN_IF_ERROR(PrepareLayout(root));  // the probes work in clones/
    chosen = PickDriver(root, fs_type);
  } else if (driver == "btrfs" && !IsBtrfs(fs_type)) {
    return InvalidArgument(fmt::format(
        "storage driver btrfs needs a btrfs file system, but {} is on {}; point storage.path at "
        "a btrfs mount (mkfs.btrfs DEVICE && mount DEVICE DIR) or use driver auto or copy",
        root, fs));
  } else if (driver != "auto") {
    log::Info("storage: using driver {} on {} ({})", driver, root, fs);
    if (!recorded.empty() && recorded != driver) {
      log::Warn("storage: the store at {} was made with driver {}; opening it with {}", root,
                recorded, driver);
    }
  }

  Result<std::unique_ptr<Driver>> opened = InvalidArgument(
      fmt::format("storage driver '{}' (recorded in {}) is not known", chosen, marker));
  if (chosen == "btrfs") {
    opened = BtrfsDriver::Open(root);
  } else if (chosen == "reflink") {
    opened = ReflinkDriver::Open(root);
  } else if (chosen == "overlay") {
    opened = OverlayDriver::Open(root);
  } else if (chosen == "copy") {
    opened = CopyDriver::Open(root);
  }
  if (opened.ok() && recorded != chosen) {
    ZDAP_RETURN_IF_ERROR(WriteFileAtomic(marker, chosen + "\n"));
  }
  return opened;
}

}  // namespace zdap::storage
