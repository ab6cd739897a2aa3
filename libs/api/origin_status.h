// API v1's status object (GET /v1/status): what an origin runs and has room for.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace zdap::api {

// How a resource's last refresh on this origin ended.
struct LastRefresh {
  std::string state;        // "done" or "failed"
  std::string finished_at;  // RFC 3339
  int64_t elapsed_ms = 0;
  std::string snapshot;  // done: the snapshot it made (or the newest, when nothing was new)
  std::string error;     // failed: why, one line
};

// A resource's refresh schedule and last result.
struct RefreshStatus {
  std::string cron;                 // "" = no schedule
  std::string next_at;              // RFC 3339; "" = none (no schedule, timed work stopped)
  std::optional<LastRefresh> last;  // none: no refresh ran here yet
};

// A replica resource's standby (source.replica): how it follows its primary.
struct StandbyStatus {
  std::string state;   // not_synced, streaming, catching_up, disconnected, stopped
  std::string detail;  // what to do about it; "" when all is well
  std::optional<double> lag_seconds;
  std::optional<uint64_t> lag_bytes;
  std::string last_replayed_at;                       // RFC 3339; "" = unknown
  std::string disconnected_since;                     // RFC 3339; "" = connected
  std::optional<double> newest_snapshot_age_seconds;  // none: no snapshot yet
};

// A follower resource (source.origin): what upstream has and what was pulled from it.
struct FollowerStatus {
  std::string upstream;          // the upstream origin's URL
  std::string upstream_newest;   // upstream's newest snapshot at the last look; "" = not yet
  std::string checked_at;        // RFC 3339: that look; "" = never
  std::string newest_local;      // this origin's newest snapshot of the resource; "" = none
  bool behind = false;           // upstream has a snapshot newer than any here
  uint64_t last_pull_bytes = 0;  // payload of the last pull that moved data (0 = none yet)
  std::string last_pull_format;  // btrfs, tar.zst
  std::string last_pull_base;    // "" = a full stream
  uint64_t pulled_bytes = 0;     // payload moved by this zdapd's pulls, in all
};

struct ResourceCounts {
  std::string name;
  int64_t snapshots = 0;
  int64_t clones = 0;  // the caller's, for a plain user
  int64_t pool_min = 0;
  int64_t pool_max = 0;
  int64_t pool_ready = 0;
  RefreshStatus refresh;
  // How current the newest snapshot's data is (RFC 3339; "" = no snapshot, or unknown).
  std::string data_as_of;
  std::optional<StandbyStatus> standby;    // replica resources only
  std::optional<FollowerStatus> follower;  // follower resources only
};

// The port range the origin gives clones (its `clone_ports`).
struct ClonePorts {
  int64_t first = 0;
  int64_t last = 0;
  std::optional<int64_t> in_use;  // admins only: ports held by clones
};

struct OriginStatus {
  std::string version;
  std::string storage_driver;
  std::string storage_path;
  uint64_t storage_total_bytes = 0;
  uint64_t storage_free_bytes = 0;
  uint64_t storage_used_bytes = 0;
  std::string runtime_driver;
  ClonePorts clone_ports;
  std::optional<uint64_t> memory_total_bytes;      // absent when /proc/meminfo is unreadable
  std::optional<uint64_t> memory_available_bytes;  // same
  std::vector<double> load;                        // 1, 5, 15 min; empty when unknown
  int64_t resource_count = 0;
  int64_t snapshot_count = 0;
  int64_t clone_count = 0;  // the caller's, for a plain user
  std::vector<ResourceCounts> resources;
};

boost::json::object ToJson(const OriginStatus& status);
Result<OriginStatus> OriginStatusFromJson(const boost::json::value& v);
Result<OriginStatus> ParseOriginStatus(std::string_view text);

}  // namespace zdap::api
