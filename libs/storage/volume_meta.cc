#include "storage/volume_meta.h"

#include <fmt/format.h>

namespace zdap::storage {

namespace {

constexpr size_t kMaxKey = 64;
constexpr size_t kMaxValue = 1024;
constexpr size_t kMaxEntries = 64;

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

}  // namespace

const char* AreaDirName(Area area) {
  switch (area) {
    case Area::kVolume:
      return "volumes";
    case Area::kSnapshot:
      return "snapshots";
    case Area::kClone:
      return "clones";
  }
  return "?";
}

const char* AreaNoun(Area area) {
  switch (area) {
    case Area::kVolume:
      return "volume";
    case Area::kSnapshot:
      return "snapshot";
    case Area::kClone:
      return "clone";
  }
  return "?";
}

Status ValidateVolumeMeta(const VolumeMeta& meta) {
  if (meta.size() > kMaxEntries) {
    return InvalidArgument(
        fmt::format("volume metadata has {} entries; at most {}", meta.size(), kMaxEntries));
  }
  for (const auto& [key, value] : meta) {
    bool key_ok = !key.empty() && key.size() <= kMaxKey;
    for (char c : key) key_ok = key_ok && IsKeyChar(c);
    if (!key_ok) {
      std::string shown;
      for (char c : key.substr(0, kMaxKey)) shown += IsKeyChar(c) ? c : '?';
      return InvalidArgument(fmt::format(
          "volume metadata key '{}' is not valid: use 1 to {} of a-z, 0-9, '_', '.', '-'", shown,
          kMaxKey));
    }
    if (value.size() > kMaxValue) {
      return InvalidArgument(
          fmt::format("volume metadata '{}' is longer than {} bytes", key, kMaxValue));
    }
    // Control bytes (line breaks, tabs, NUL) would break the file's lines and zfs's -H table.
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return InvalidArgument(fmt::format(
            "volume metadata '{}' contains a control character (line break, tab...)", key));
      }
    }
  }
  return Status::Ok();
}

std::string FormatVolumeMeta(const VolumeMeta& meta) {
  std::string out;
  for (const auto& [key, value] : meta) out += key + "=" + value + "\n";
  return out;
}

Result<VolumeMeta> ParseVolumeMeta(const std::string& text, const std::string& source) {
  VolumeMeta meta;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      return IoError(fmt::format("{}:{}: not a 'key=value' line", source, line_no));
    }
    meta[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (Status st = ValidateVolumeMeta(meta); !st.ok()) {
    return IoError(fmt::format("{}: {}", source, st.message()));
  }
  return meta;
}

Result<std::string> Driver::CopyLiveVolume(const std::string& volume, const std::string& copy) {
  (void)copy;
  return Unprocessable(fmt::format(
      "the {} store cannot copy volume '{}' while it is written: a standby (source.replica) "
      "needs a store that snapshots a running directory in one step (btrfs)",
      name(), volume));
}

}  // namespace zdap::storage
