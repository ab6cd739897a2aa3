// Helpers shared by the drivers that keep a store as directories under one root
// (btrfs, copy, and the later reflink/overlay drivers): the layout, listing, hidden
// work-in-progress names, atomic renames and space.
//
// Crash safety rests on one convention: names with a leading '.' are never valid volume
// names (ValidateVolumeName refuses them), so a driver does unfinished work under a hidden
// name and publishes it with one rename. Listings skip hidden names; opening the store
// finishes or removes what they hold.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/driver.h"

namespace zdap::storage {

// clones/.tmp-<name>: a clone being copied; removed on open.
inline constexpr std::string_view kTempPrefix = ".tmp-";
// snapshots/.sealing-<name>: a volume being sealed into snapshot <name>; finished on open.
inline constexpr std::string_view kSealingPrefix = ".sealing-";
// <area>/.trash-<name>-<random>: being destroyed; removed on open.
inline constexpr std::string_view kTrashPrefix = ".trash-";
// volumes/.recv-<name>: snapshot stream being received into volume <name> (driver.h,
// ReceiveSnapshot); removed on open.
inline constexpr std::string_view kRecvPrefix = ".recv-";

inline constexpr const char* kAreas[] = {"volumes", "snapshots", "clones"};

// Makes `path` absolute and lexically normal, without a trailing '/'.
std::string NormalizeRoot(const std::string& path);
// Creates <root>/{volumes,snapshots,clones} (and root) if missing.
Status PrepareLayout(const std::string& root);

// Visible entries (no leading '.') of `dir` that are directories, sorted.
Result<std::vector<std::string>> ListArea(const std::string& dir);
// Names in the directory open as `dir_fd` (without "." and ".."), in readdir order; `dir`
// names it in errors. The descriptor stays open and usable.
Result<std::vector<std::string>> ReadDirNames(int dir_fd, const std::string& dir);
// Entries of `dir` whose name starts with `prefix`, sorted.
Result<std::vector<std::string>> ListHidden(const std::string& dir, std::string_view prefix);

// NotFound "<what> '<name>' not found" unless `path` is a directory.
Status RequirePresent(const std::string& path, std::string_view what, const std::string& name);
// Conflict "<what> '<name>' already exists" if anything is at `path`.
Status RequireAbsent(const std::string& path, std::string_view what, const std::string& name);

// rename(2) that never replaces: Conflict if `to` exists. Both in one file system.
Status RenameNoReplace(const std::string& from, const std::string& to);
// A fresh hidden name for `name` being destroyed in `area_dir`.
std::string TrashPath(const std::string& area_dir, const std::string& name);

Result<Space> SpaceOf(const std::string& path);

// statfs(2) f_type of `path`, and a readable name for it ("ext4", "btrfs", "0x1234").
Result<long> FsTypeOf(const std::string& path);
std::string FsTypeName(long f_type);

}  // namespace zdap::storage
