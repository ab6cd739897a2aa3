#include "api/resource.h"

#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::api {
namespace {

json::array SnapshotsToJson(const std::vector<Snapshot>& snapshots) {
  json::array a;
  for (const Snapshot& s : snapshots) a.push_back(ToJson(s));
  return a;
}

}  // namespace

json::object ToJson(const Snapshot& s) {
  json::object o;
  o[field::kId] = s.id;
  if (!s.resource.empty()) o[field::kResource] = s.resource;
  o[field::kCreatedAt] = s.created_at;
  o[field::kDataAsOf] = s.data_as_of.empty() ? json::value(nullptr) : json::value(s.data_as_of);
  o[field::kClones] = s.clones;
  o[field::kOrigin] = s.origin.empty() ? json::value(nullptr) : json::value(s.origin);
  return o;
}

Result<Snapshot> SnapshotFromJson(const json::value& v) {
  ObjectReader r(v, "snapshot", Code::kUnprocessable);
  Snapshot s;
  r.String(field::kId, &s.id, /*required=*/true);
  r.String(field::kResource, &s.resource);
  r.Time(field::kCreatedAt, &s.created_at);
  r.Time(field::kDataAsOf, &s.data_as_of);
  r.Int(field::kClones, &s.clones, false, 0);
  r.String(field::kOrigin, &s.origin);
  if (!r.status().ok()) return r.status();
  return s;
}

Result<Snapshot> ParseSnapshot(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "the snapshot"));
  return SnapshotFromJson(v);
}

json::object SnapshotListToJson(const std::vector<Snapshot>& snapshots) {
  return json::object{{field::kSnapshots, SnapshotsToJson(snapshots)}};
}

Result<std::vector<Snapshot>> ParseSnapshotList(std::string_view text) {
  return ParseListField(text, "the snapshot list", field::kSnapshots, &SnapshotFromJson);
}

json::object ToJson(const Resource& res) {
  json::object o;
  o[field::kName] = res.name;
  o[field::kEngine] = res.engine;
  o[field::kVersion] = res.version;
  o[field::kDatabase] = res.database;
  o[field::kTtl] = res.ttl;
  o[field::kSnapshots] = SnapshotsToJson(res.snapshots);
  json::array clones;
  for (const Clone& c : res.clones) clones.push_back(ToJson(c));
  o[field::kClones] = std::move(clones);
  return o;
}

Result<Resource> ResourceFromJson(const json::value& v) {
  ObjectReader r(v, "resource", Code::kUnprocessable);
  Resource res;
  r.String(field::kName, &res.name, /*required=*/true);
  r.String(field::kEngine, &res.engine);
  r.String(field::kVersion, &res.version);
  r.String(field::kDatabase, &res.database);
  r.String(field::kTtl, &res.ttl);
  const json::array* snapshots = r.Array(field::kSnapshots);
  const json::array* clones = r.Array(field::kClones);
  if (!r.status().ok()) return r.status();
  if (snapshots) {
    ZDAP_ASSIGN_OR_RETURN(res.snapshots, ElementsOf(*snapshots, &SnapshotFromJson));
  }
  if (clones) {
    ZDAP_ASSIGN_OR_RETURN(res.clones, ClonesFromJson(*clones));
  }
  return res;
}

Result<Resource> ParseResource(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "the resource"));
  return ResourceFromJson(v);
}

json::object ResourceListToJson(const std::vector<Resource>& resources) {
  json::array a;
  for (const Resource& r : resources) a.push_back(ToJson(r));
  return json::object{{field::kResources, std::move(a)}};
}

Result<std::vector<Resource>> ParseResourceList(std::string_view text) {
  return ParseListField(text, "the resource list", field::kResources, &ResourceFromJson);
}

}  // namespace zdap::api
