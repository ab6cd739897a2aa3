#include "storage/reflink_driver.h"

#include <fmt/format.h>

#include "storage/probe.h"
#include "storage/space_usage.h"
#include "storage/store_layout.h"

namespace zdap::storage {

Result<std::unique_ptr<Driver>> ReflinkDriver::Open(const std::string& root) {
  ZDAP_RETURN_IF_ERROR(PrepareLayout(root));
  Probe probe = ProbeReflink(root + "/clones");
  if (!probe.supported) {
    return InvalidArgument(
        fmt::format("storage driver reflink needs a file system with reflinks (XFS made with "
                    "mkfs.xfs -m reflink=1, or btrfs), but {}: {}; use driver auto or copy",
                    root, probe.reason));
  }
  std::unique_ptr<ReflinkDriver> driver(new ReflinkDriver(root));
  ZDAP_RETURN_IF_ERROR(driver->Recover());
  return std::unique_ptr<Driver>(std::move(driver));
}

Status ReflinkDriver::MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                                const std::string& name) {
  return CopyClone(snapshot_path, clones_dir, name, FileData::kReflink);
}

Result<uint64_t> ReflinkDriver::ExclusiveBytes(Area area, const std::string& name) const {
  return ExclusiveExtentBytes(AreaDir(AreaDirName(area)) + "/" + name);
}

}  // namespace zdap::storage
