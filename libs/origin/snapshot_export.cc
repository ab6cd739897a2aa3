#include "origin/snapshot_export.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/log.h"
#include "core/names.h"

namespace zdap::origin {

Result<SnapshotExport> OpenSnapshotExport(const ExportRequest& request, Snapshots& snapshots,
                                          storage::Driver& store, const std::string& self_name) {
  ZDAP_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> held, snapshots.List(request.resource));
  auto find = [&](const std::string& id) {
    return std::find_if(held.begin(), held.end(),
                        [&](const SnapshotInfo& s) { return s.id == id; });
  };
  auto it = find(request.snapshot);
  if (it == held.end()) {
    return NotFound(fmt::format("snapshot '{}' of resource '{}' not found",
                                request.snapshot.substr(0, 80), request.resource));
  }
  // The best format the follower receives that this store sends (the follower lists its own
  // in its order of preference, so its order decides).
  std::vector<std::string> ours = store.stream_formats();
  std::string format;
  for (const auto& f : request.formats) {
    if (std::find(ours.begin(), ours.end(), f) != ours.end()) {
      format = f;
      break;
    }
  }
  if (format.empty()) {
    std::string offered, spoken;
    for (const auto& f : request.formats) offered += (offered.empty() ? "" : ", ") + f;
    for (const auto& f : ours) spoken += (spoken.empty() ? "" : ", ") + f;
    return Unprocessable(fmt::format(
        "no stream format in common: the follower receives [{}], this origin's {} store "
        "sends [{}]",
        offered, store.name(), spoken));
  }
  // Only btrfs streams have increments; the newest snapshot both hold that is older than the
  // one asked for is the base (`held` is newest first).
  std::string base;
  if (format == api::kStreamFormatBtrfs) {
    for (const SnapshotInfo& s : held) {
      if (s.id < request.snapshot &&
          std::find(request.bases.begin(), request.bases.end(), s.id) != request.bases.end()) {
        base = s.id;
        break;
      }
    }
  }
  SnapshotExport out;
  ZDAP_ASSIGN_OR_RETURN(out.sender, store.SendSnapshot(request.snapshot, format, base));
  api::StreamHeader& h = out.header;
  h.format = format;
  h.resource = request.resource;
  h.snapshot = request.snapshot;
  h.base = base;
  h.created_at = it->created_at;
  h.data_as_of = it->data_as_of;
  h.origin = it->origin.empty() ? self_name : it->origin;
  h.clone_lock_no_password =
      snapshots.FreshCloneLock(request.snapshot) == engine::CloneLock::kNoPassword;
  h.size = out.sender->size_hint();
  log::Info("snapshot {}: streaming as {}{} ({} bytes of files)", request.snapshot, format,
            base.empty() ? "" : " from base " + base, h.size);
  return out;
}

}  // namespace zdap::origin
