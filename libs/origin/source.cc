#include "origin/source.h"

#include <fmt/format.h>

#include "origin/dump_import.h"
#include "origin/origin_pull.h"
#include "origin/replica_source.h"

namespace zdap::origin {

Result<std::unique_ptr<Source>> MakeSource(const config::Resource& resource,
                                           const SourceParts& parts) {
  if (resource.source.replica) {
    // A copy of a running standby must be of one instant: refused up front on stores that
    // copy file by file, rather than at the first snapshot.
    if (!parts.store.copies_live_volumes()) {
      return Unprocessable(fmt::format(
          "resource {}: source.replica needs a store that snapshots a running volume in one "
          "step (btrfs); this store is {}",
          resource.name, parts.store.name()));
    }
    return std::unique_ptr<Source>(std::make_unique<ReplicaSource>(resource, parts));
  }
  if (resource.source.upstream) {
    return std::unique_ptr<Source>(std::make_unique<OriginPull>(resource, parts));
  }
  // A dump, a script that names one, a command that streams one and a live server's dump
  // are all imports. A new kind is a file and a line here.
  return std::unique_ptr<Source>(std::make_unique<DumpImport>(resource, parts));
}

}  // namespace zdap::origin
