#include "storage/copy_driver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "core/unique_fd.h"
#include "storage/store_layout.h"
#include "storage/tree_copy.h"

namespace zdap::storage {

Result<std::unique_ptr<Driver>> CopyDriver::Open(const std::string& root) {
  ZDAP_RETURN_IF_ERROR(PrepareLayout(root));
  std::unique_ptr<CopyDriver> driver(new CopyDriver(root));
  ZDAP_RETURN_IF_ERROR(driver->Recover());
  return std::unique_ptr<Driver>(std::move(driver));
}

Status CopyDriver::MakeEmptyVolume(const std::string& area_dir, const std::string& name) {
  std::string path = area_dir + "/" + name;
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == EEXIST) return Conflict(fmt::format("{} already exists", path));
    return ErrnoError(fmt::format("mkdir {}", path), errno);
  }
  return Status::Ok();
}

Status CopyDriver::Freeze(const std::string&) {
  return Status::Ok();
}  // see copy_driver.h

Status CopyDriver::MakeClone(const std::string& snapshot_path, const std::string& clones_dir,
                             const std::string& name) {
  return CopyClone(snapshot_path, clones_dir, name, FileData::kCopy);
}

Status CopyDriver::CopyClone(const std::string& snapshot_path, const std::string& clones_dir,
                             const std::string& name, FileData data) {
  std::string tmp = clones_dir + "/" + std::string(kTempPrefix) + name;
  // Left by an earlier failure in this process (recovery clears those of a crash).
  if (PathExists(tmp)) ZDAP_RETURN_IF_ERROR(RemoveTree(tmp));
  Status st = CopyTree(snapshot_path, tmp, data);
  if (st.ok()) {
    // The rename must not become durable before the data it publishes.
    UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid() || ::syncfs(fd.get()) != 0) st = ErrnoError(fmt::format("sync {}", tmp), errno);
  }
  if (st.ok()) st = RenameNoReplace(tmp, clones_dir + "/" + name);
  if (!st.ok()) (void)RemoveTree(tmp);
  return st;
}

Status CopyDriver::Remove(const std::string& area_dir, const std::string& name) {
  std::string path = area_dir + "/" + name;
  // Hidden names are already out of sight; a published one is first renamed away so it
  // disappears at once and a crash mid-removal leaves only trash.
  if (name[0] != '.') {
    std::string trash = TrashPath(area_dir, name);
    ZDAP_RETURN_IF_ERROR(RenameNoReplace(path, trash));
    path = trash;
  }
  return RemoveTree(path);
}

}  // namespace zdap::storage
