#include "storage/zfs_driver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "core/log.h"
#include "core/subprocess.h"

namespace zdap::storage {

namespace {

constexpr const char* kSnapSuffix = "@zdap";
constexpr std::string_view kPropPrefix = "zdap:";  // user properties holding VolumeMeta

// Digits of a number that fits in uint64_t (so std::stoull cannot throw; found by fuzzing).
bool IsDigits(const std::string& v) {
  return !v.empty() && v.size() <= 20 &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         (v.size() < 20 || v <= "18446744073709551615");
}

std::string Encode(std::string name) {
  std::replace(name.begin(), name.end(), '@', ':');
  return name;
}
std::string Decode(std::string name) {
  std::replace(name.begin(), name.end(), ':', '@');
  return name;
}

// Maps zfs's words onto codes the daemon can answer with.
Status ZfsError(const std::vector<std::string>& argv, const std::string& output) {
  std::string msg = output;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string text = fmt::format("{}: {}", fmt::join(argv, " "), msg);
  if (msg.find("already exists") != std::string::npos) return Conflict(text);
  if (msg.find("does not exist") != std::string::npos) return NotFound(text);
  if (msg.find("dependent clones") != std::string::npos) return Conflict(text);
  return IoError(text);
}

}  // namespace

ZfsRunner SystemZfsRunner() {
  return [](const std::vector<std::string>& argv) -> Result<std::string> {
    SpawnOptions options;
    options.argv = argv;
    options.inherit_env = true;  // zfs is found through the daemon's own PATH
    options.capture_output = true;
    auto run = Run(options, std::chrono::minutes(5));
    if (!run.ok()) {
      if (run.status().message().find("No such file") != std::string::npos) {
        return IoError("zfs not found: install zfsutils-linux and load the zfs module");
      }
      return run.status();
    }
    if (!run->ok()) return ZfsError(argv, run->output);
    return run->output;
  };
}

std::vector<std::vector<std::string>> ParseZfsTable(const std::string& output) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < output.size()) {
    size_t end = output.find('\n', pos);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    size_t f = 0;
    for (;;) {
      size_t tab = line.find('\t', f);
      fields.push_back(line.substr(f, tab == std::string::npos ? std::string::npos : tab - f));
      if (tab == std::string::npos) break;
      f = tab + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

Result<Space> ParseZfsSpace(const std::string& output) {
  std::optional<uint64_t> used, available;
  for (const auto& row : ParseZfsTable(output)) {
    if (row.size() < 2) continue;
    const std::string& v = row[1];
    if (!IsDigits(v)) {
      return IoError(fmt::format("zfs get: '{}' is not a number of bytes (was -p given?)", v));
    }
    uint64_t n = std::stoull(v);
    if (row[0] == "used") used = n;
    if (row[0] == "available") available = n;
  }
  if (!used || !available) return IoError("zfs get: no 'used' and 'available' in its output");
  if (*available > UINT64_MAX - *used) return IoError("zfs get: 'used' + 'available' overflows");
  Space space;
  space.total_bytes = *used + *available;
  space.free_bytes = *available;
  space.used_bytes = *used;
  return space;
}

Result<VolumeMeta> ParseZfsUserProps(const std::string& output) {
  VolumeMeta meta;
  for (const auto& row : ParseZfsTable(output)) {
    if (row.size() < 2 || !row[0].starts_with(kPropPrefix)) continue;
    meta[row[0].substr(kPropPrefix.size())] = row[1];
  }
  if (Status st = ValidateVolumeMeta(meta); !st.ok()) {
    return IoError(fmt::format("zfs get: bad zdap: user property: {}", st.message()));
  }
  return meta;
}

Result<uint64_t> ParseZfsBytes(const std::string& output) {
  auto rows = ParseZfsTable(output);
  if (rows.size() != 1 || rows[0].size() != 1 || !IsDigits(rows[0][0])) {
    return IoError(fmt::format("zfs get: '{}' is not a number of bytes (was -p given?)",
                               output.substr(0, 64)));
  }
  return std::stoull(rows[0][0]);
}

Result<std::unique_ptr<Driver>> ZfsDriver::Open(const std::string& dataset, ZfsRunner runner) {
  if (dataset.empty() || dataset.find('@') != std::string::npos || dataset.front() == '/' ||
      dataset.find(' ') != std::string::npos) {
    return InvalidArgument(fmt::format(
        "storage driver zfs needs storage.dataset naming a file system, like tank/zdap; got '{}'",
        dataset));
  }
  ZDAP_ASSIGN_OR_RETURN(std::string out,
                        runner({"zfs", "list", "-Hp", "-o", "name,mountpoint", dataset}));
  auto rows = ParseZfsTable(out);
  if (rows.size() != 1 || rows[0].size() != 2 || rows[0][0] != dataset) {
    return IoError(fmt::format("zfs list {}: unexpected output '{}'", dataset, out));
  }
  const std::string& mountpoint = rows[0][1];
  if (mountpoint.empty() || mountpoint[0] != '/') {
    return InvalidArgument(fmt::format(
        "dataset {} has mountpoint '{}'; zdap needs it mounted (zfs set mountpoint=/var/lib/zdap "
        "{})",
        dataset, mountpoint, dataset));
  }
  std::unique_ptr<ZfsDriver> driver(new ZfsDriver(mountpoint, dataset, std::move(runner)));
  ZDAP_ASSIGN_OR_RETURN(std::string children, driver->Zfs({"list", "-Hp", "-o", "name", "-t",
                                                           "filesystem", "-d", "1", dataset}));
  std::set<std::string> have;
  for (const auto& row : ParseZfsTable(children)) have.insert(row[0]);
  for (const char* area : {"volumes", "snapshots", "clones"}) {
    std::string ds = dataset + "/" + area;
    if (!have.count(ds)) ZDAP_RETURN_IF_ERROR(driver->Zfs({"create", ds}).status());
  }
  ZDAP_RETURN_IF_ERROR(driver->Recover());
  log::Info("storage: zfs dataset {} mounted at {}", dataset, mountpoint);
  return std::unique_ptr<Driver>(std::move(driver));
}

std::string ZfsDriver::Dataset(const char* area, const std::string& name) const {
  return fmt::format("{}/{}/{}", dataset_, area, Encode(name));
}

Result<std::string> ZfsDriver::Zfs(std::vector<std::string> args) const {
  args.insert(args.begin(), "zfs");
  return runner_(args);
}

Result<std::vector<std::string>> ZfsDriver::List(const char* area) const {
  std::string parent = fmt::format("{}/{}", dataset_, area);
  ZDAP_ASSIGN_OR_RETURN(std::string out,
                        Zfs({"list", "-Hp", "-o", "name", "-t", "filesystem", "-d", "1", parent}));
  std::vector<std::string> names;
  for (const auto& row : ParseZfsTable(out)) {
    if (row[0].size() <= parent.size() + 1 || row[0].compare(0, parent.size() + 1, parent + "/"))
      continue;  // the parent itself
    std::string name = Decode(row[0].substr(parent.size() + 1));
    if (ValidateVolumeName(name).ok()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<bool> ZfsDriver::Exists(const char* area, const std::string& name) const {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> names, List(area));
  return std::find(names.begin(), names.end(), name) != names.end();
}

Result<std::string> ZfsDriver::CreateVolume(const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  Status st =
      Zfs({"create", "-o", "mountpoint=" + VolumePath(name), Dataset("volumes", name)}).status();
  if (st.code() == Code::kConflict)
    return Conflict(fmt::format("volume '{}' already exists", name));
  ZDAP_RETURN_IF_ERROR(st);
  return VolumePath(name);
}

Status ZfsDriver::SealVolume(const std::string& volume, const std::string& snapshot) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(volume));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_ASSIGN_OR_RETURN(bool have_volume, Exists("volumes", volume));
  if (!have_volume) return NotFound(fmt::format("volume '{}' not found", volume));
  ZDAP_ASSIGN_OR_RETURN(bool have_snapshot, Exists("snapshots", snapshot));
  if (have_snapshot) return Conflict(fmt::format("snapshot '{}' already exists", snapshot));
  std::string ds = Dataset("snapshots", snapshot);
  ZDAP_RETURN_IF_ERROR(Zfs({"rename", Dataset("volumes", volume), ds}).status());
  ZDAP_RETURN_IF_ERROR(Zfs({"set", "readonly=on", ds}).status());
  ZDAP_RETURN_IF_ERROR(Zfs({"set", "mountpoint=" + SnapshotPath(snapshot), ds}).status());
  return Zfs({"snapshot", ds + kSnapSuffix}).status();
}

Result<std::string> ZfsDriver::Clone(const std::string& snapshot, const std::string& clone) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(clone));
  ZDAP_ASSIGN_OR_RETURN(bool have_snapshot, Exists("snapshots", snapshot));
  if (!have_snapshot) return NotFound(fmt::format("snapshot '{}' not found", snapshot));
  if (clone == snapshot) {
    return Conflict(fmt::format("clone name '{}' is taken by a snapshot", clone));
  }
  Status st = Zfs({"clone", "-o", "readonly=off", "-o", "mountpoint=" + ClonePath(clone),
                   Dataset("snapshots", snapshot) + kSnapSuffix, Dataset("clones", clone)})
                  .status();
  if (st.code() == Code::kConflict)
    return Conflict(fmt::format("clone '{}' already exists", clone));
  ZDAP_RETURN_IF_ERROR(st);
  return ClonePath(clone);
}

Status ZfsDriver::SnapshotClone(const std::string& clone, const std::string&) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(clone));
  return Unprocessable(
      fmt::format("storage driver zfs cannot save clone '{}' as a snapshot yet (its "
                  "datasets would depend on each other); use btrfs, reflink, overlay "
                  "or copy for branches",
                  clone));
}

Status ZfsDriver::DestroyVolume(const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  Status st = Zfs({"destroy", Dataset("volumes", name)}).status();
  if (st.code() == Code::kNotFound) return NotFound(fmt::format("volume '{}' not found", name));
  return st;
}

Status ZfsDriver::DestroySnapshot(const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> clones, ClonesOf(name));
  if (!clones.empty()) {
    return Conflict(fmt::format("snapshot '{}' has clones ({}); destroy them first", name,
                                fmt::join(clones, ", ")));
  }
  Status st = Zfs({"destroy", "-r", Dataset("snapshots", name)}).status();
  if (st.code() == Code::kNotFound) return NotFound(fmt::format("snapshot '{}' not found", name));
  return st;
}

Status ZfsDriver::DestroyClone(const std::string& name) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  Status st = Zfs({"destroy", Dataset("clones", name)}).status();
  if (st.code() == Code::kNotFound) return NotFound(fmt::format("clone '{}' not found", name));
  return st;
}

Result<std::vector<std::string>> ZfsDriver::ListVolumes() const {
  return List("volumes");
}
Result<std::vector<std::string>> ZfsDriver::ListSnapshots() const {
  return List("snapshots");
}
Result<std::vector<std::string>> ZfsDriver::ListClones() const {
  return List("clones");
}

Result<std::vector<std::string>> ZfsDriver::ClonesOf(const std::string& snapshot) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(snapshot));
  std::string parent = dataset_ + "/clones";
  ZDAP_ASSIGN_OR_RETURN(std::string out, Zfs({"list", "-Hp", "-o", "name,origin", "-t",
                                              "filesystem", "-d", "1", parent}));
  std::string origin = Dataset("snapshots", snapshot) + kSnapSuffix;
  std::vector<std::string> clones;
  for (const auto& row : ParseZfsTable(out)) {
    if (row.size() < 2 || row[1] != origin) continue;
    if (row[0].compare(0, parent.size() + 1, parent + "/") != 0) continue;
    clones.push_back(Decode(row[0].substr(parent.size() + 1)));
  }
  std::sort(clones.begin(), clones.end());
  return clones;
}

Result<Space> ZfsDriver::StoreSpace() const {
  ZDAP_ASSIGN_OR_RETURN(std::string out,
                        Zfs({"get", "-Hp", "-o", "property,value", "used,available", dataset_}));
  return ParseZfsSpace(out);
}

Status ZfsDriver::WriteMeta(Area area, const std::string& name, const VolumeMeta& meta) {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeMeta(meta));
  ZDAP_ASSIGN_OR_RETURN(VolumeMeta old, ReadMeta(area, name));
  std::string ds = Dataset(AreaDirName(area), name);
  for (const auto& [key, value] : old) {
    if (meta.count(key)) continue;
    ZDAP_RETURN_IF_ERROR(Zfs({"inherit", std::string(kPropPrefix) + key, ds}).status());
  }
  if (meta.empty()) return Status::Ok();
  std::vector<std::string> args = {"set"};
  for (const auto& [key, value] : meta)
    args.push_back(fmt::format("{}{}={}", kPropPrefix, key, value));
  args.push_back(ds);
  return Zfs(std::move(args)).status();
}

Result<VolumeMeta> ZfsDriver::ReadMeta(Area area, const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  auto out = Zfs({"get", "-Hp", "-o", "property,value", "-s", "local", "all",
                  Dataset(AreaDirName(area), name)});
  if (out.status().code() == Code::kNotFound) {
    return NotFound(fmt::format("{} '{}' not found", AreaNoun(area), name));
  }
  ZDAP_RETURN_IF_ERROR(out.status());
  return ParseZfsUserProps(*out);
}

Result<uint64_t> ZfsDriver::UsedBytes(Area area, const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateVolumeName(name));
  auto out = Zfs({"get", "-Hp", "-o", "value", "used", Dataset(AreaDirName(area), name)});
  if (out.status().code() == Code::kNotFound) {
    return NotFound(fmt::format("{} '{}' not found", AreaNoun(area), name));
  }
  ZDAP_RETURN_IF_ERROR(out.status());
  return ParseZfsBytes(*out);
}

Status ZfsDriver::Recover() {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> snapshots, ListSnapshots());
  ZDAP_ASSIGN_OR_RETURN(std::string out, Zfs({"list", "-Hp", "-o", "name", "-t", "snapshot", "-r",
                                              dataset_ + "/snapshots"}));
  std::set<std::string> sealed;
  for (const auto& row : ParseZfsTable(out)) sealed.insert(row[0]);
  for (const std::string& name : snapshots) {
    std::string ds = Dataset("snapshots", name);
    if (sealed.count(ds + kSnapSuffix)) continue;
    log::Info("storage: finishing the interrupted seal of snapshot '{}'", name);
    ZDAP_RETURN_IF_ERROR(Zfs({"set", "readonly=on", ds}).status());
    ZDAP_RETURN_IF_ERROR(Zfs({"set", "mountpoint=" + SnapshotPath(name), ds}).status());
    ZDAP_RETURN_IF_ERROR(Zfs({"snapshot", ds + kSnapSuffix}).status());
  }
  return Status::Ok();
}

}  // namespace zdap::storage
