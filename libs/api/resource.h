// API v1's snapshot and resource objects (GET /v1/resources, /v1/resources/{r},
// /v1/resources/{r}/snapshots).
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/clone.h"
#include "core/result.h"

namespace zdap::api {

struct Snapshot {
  std::string id;
  std::string resource;    // "" when listed inside its resource
  std::string created_at;  // RFC 3339
  std::string data_as_of;  // RFC 3339: how current its data is; "" = unknown (null)
  int64_t clones = 0;      // clones that depend on it (the caller's only, for a plain user)
  // The origin that made it when it was pulled from another (its name: advertised host or
  // URL); "" (null) when made here. Its id is the same on every origin that holds it.
  std::string origin;
};

struct Resource {
  std::string name;
  std::string engine;
  std::string version;
  std::string database;
  std::string ttl;                  // the default clone TTL, "8h"
  std::vector<Snapshot> snapshots;  // newest first
  std::vector<Clone> clones;        // the caller's
};

boost::json::object ToJson(const Snapshot& snapshot);
Result<Snapshot> SnapshotFromJson(const boost::json::value& v);
Result<Snapshot> ParseSnapshot(std::string_view text);
// {"snapshots": [...]}
boost::json::object SnapshotListToJson(const std::vector<Snapshot>& snapshots);
Result<std::vector<Snapshot>> ParseSnapshotList(std::string_view text);

boost::json::object ToJson(const Resource& resource);
// Requires "name".
Result<Resource> ResourceFromJson(const boost::json::value& v);
Result<Resource> ParseResource(std::string_view text);
// {"resources": [...]}
boost::json::object ResourceListToJson(const std::vector<Resource>& resources);
Result<std::vector<Resource>> ParseResourceList(std::string_view text);

}  // namespace zdap::api
