// SnapshotExport: the serving side of replication (issue 23). A follower asks for one snapshot
// of a resource, says which stream formats it can receive and which snapshots of the resource
// it already holds; the export picks the best format both sides speak and, where the format
// has increments (btrfs), the newest snapshot both hold as the base, and starts the store's
// sender (storage/driver.h). The transport frames what the sender writes
// (api/snapshot_stream.h) and moves it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/snapshot_stream.h"
#include "core/result.h"
#include "origin/snapshots.h"
#include "storage/driver.h"

namespace zdap::origin {

struct ExportRequest {
  std::string resource;
  std::string snapshot;
  std::vector<std::string> formats;  // the follower's, best first
  std::vector<std::string> bases;    // snapshots of the resource the follower holds
};

struct SnapshotExport {
  api::StreamHeader header;
  std::unique_ptr<storage::SnapshotSender> sender;
};

// `self_name`: how this origin is named in the header's `origin` when the snapshot was made
// here (a snapshot pulled from elsewhere keeps the origin that made it). NotFound for an
// unknown snapshot (or one of another resource), Unprocessable when no format is common.
Result<SnapshotExport> OpenSnapshotExport(const ExportRequest& request, Snapshots& snapshots,
                                          storage::Driver& store, const std::string& self_name);

}  // namespace zdap::origin
