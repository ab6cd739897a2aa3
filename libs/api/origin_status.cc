#include "api/origin_status.h"

#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::api {

namespace {

json::object RefreshToJson(const RefreshStatus& r) {
  json::object o{
      {field::kCron, r.cron.empty() ? json::value(nullptr) : json::value(r.cron)},
      {field::kNextAt, r.next_at.empty() ? json::value(nullptr) : json::value(r.next_at)}};
  if (!r.last) {
    o[field::kLast] = nullptr;
    return o;
  }
  const LastRefresh& l = *r.last;
  o[field::kLast] = json::object{
      {field::kState, l.state},
      {field::kFinishedAt, l.finished_at},
      {field::kElapsedMs, l.elapsed_ms},
      {field::kSnapshot, l.snapshot.empty() ? json::value(nullptr) : json::value(l.snapshot)},
      {field::kError, l.error.empty() ? json::value(nullptr) : json::value(l.error)}};
  return o;
}

Status RefreshFromJson(const json::object& o, RefreshStatus* out) {
  ObjectReader r(o, "status refresh", Code::kUnprocessable);
  r.String(field::kCron, &out->cron);
  r.Time(field::kNextAt, &out->next_at);
  if (const json::object* last = r.Object(field::kLast)) {
    ObjectReader lr(*last, "status refresh last", Code::kUnprocessable);
    LastRefresh l;
    lr.String(field::kState, &l.state, /*required=*/true);
    lr.Time(field::kFinishedAt, &l.finished_at, /*required=*/true);
    lr.Int(field::kElapsedMs, &l.elapsed_ms, false, 0);
    lr.String(field::kSnapshot, &l.snapshot);
    lr.String(field::kError, &l.error);
    if (lr.status().ok() && l.state != "done" && l.state != "failed") {
      lr.Fail("'state' must be \"done\" or \"failed\"");
    }
    if (!lr.status().ok()) return lr.status();
    out->last = std::move(l);
  }
  return r.status();
}

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::object StandbyToJson(const StandbyStatus& s) {
  json::object o{{field::kState, s.state},
                 {field::kDetail, OrNull(s.detail)},
                 {field::kLastReplayedAt, OrNull(s.last_replayed_at)},
                 {field::kDisconnectedSince, OrNull(s.disconnected_since)}};
  o[field::kLagSeconds] = s.lag_seconds ? json::value(*s.lag_seconds) : json::value(nullptr);
  o[field::kLagBytes] = s.lag_bytes ? json::value(*s.lag_bytes) : json::value(nullptr);
  o[field::kNewestSnapshotAgeSeconds] = s.newest_snapshot_age_seconds
                                            ? json::value(*s.newest_snapshot_age_seconds)
                                            : json::value(nullptr);
  return o;
}

Status StandbyFromJson(const json::object& o, StandbyStatus* out) {
  ObjectReader r(o, "status standby", Code::kUnprocessable);
  r.String(field::kState, &out->state, /*required=*/true);
  r.String(field::kDetail, &out->detail);
  r.Time(field::kLastReplayedAt, &out->last_replayed_at);
  r.Time(field::kDisconnectedSince, &out->disconnected_since);
  auto present = [&](const char* key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && !v->is_null();
  };
  if (present(field::kLagSeconds)) r.Double(field::kLagSeconds, &out->lag_seconds.emplace());
  if (present(field::kLagBytes)) r.Uint(field::kLagBytes, &out->lag_bytes.emplace());
  if (present(field::kNewestSnapshotAgeSeconds)) {
    r.Double(field::kNewestSnapshotAgeSeconds, &out->newest_snapshot_age_seconds.emplace());
  }
  return r.status();
}

json::object FollowerToJson(const FollowerStatus& f) {
  return json::object{{field::kUpstream, f.upstream},
                      {field::kUpstreamNewest, OrNull(f.upstream_newest)},
                      {field::kCheckedAt, OrNull(f.checked_at)},
                      {field::kNewestLocal, OrNull(f.newest_local)},
                      {field::kBehind, f.behind},
                      {field::kLastPullBytes, f.last_pull_bytes},
                      {field::kLastPullFormat, OrNull(f.last_pull_format)},
                      {field::kLastPullBase, OrNull(f.last_pull_base)},
                      {field::kPulledBytes, f.pulled_bytes}};
}

Status FollowerFromJson(const json::object& o, FollowerStatus* out) {
  ObjectReader r(o, "status follower", Code::kUnprocessable);
  r.String(field::kUpstream, &out->upstream, /*required=*/true);
  r.String(field::kUpstreamNewest, &out->upstream_newest);
  r.Time(field::kCheckedAt, &out->checked_at);
  r.String(field::kNewestLocal, &out->newest_local);
  r.Bool(field::kBehind, &out->behind);
  r.Uint(field::kLastPullBytes, &out->last_pull_bytes);
  r.String(field::kLastPullFormat, &out->last_pull_format);
  r.String(field::kLastPullBase, &out->last_pull_base);
  r.Uint(field::kPulledBytes, &out->pulled_bytes);
  return r.status();
}

}  // namespace

json::object ToJson(const OriginStatus& s) {
  json::object o;
  o[field::kVersion] = s.version;
  o[field::kStorage] = json::object{{field::kDriver, s.storage_driver},
                                    {field::kPath, s.storage_path},
                                    {field::kTotalBytes, s.storage_total_bytes},
                                    {field::kFreeBytes, s.storage_free_bytes},
                                    {field::kUsedBytes, s.storage_used_bytes}};
  o[field::kRuntime] = json::object{{field::kDriver, s.runtime_driver}};
  json::object ports{{field::kFirst, s.clone_ports.first}, {field::kLast, s.clone_ports.last}};
  if (s.clone_ports.in_use) ports[field::kInUse] = *s.clone_ports.in_use;
  o[field::kClonePorts] = std::move(ports);
  json::object mem;
  if (s.memory_total_bytes) mem[field::kTotalBytes] = *s.memory_total_bytes;
  if (s.memory_available_bytes) mem[field::kAvailableBytes] = *s.memory_available_bytes;
  o[field::kMemory] = std::move(mem);
  json::array load;
  for (double l : s.load) load.push_back(l);
  o[field::kLoad] = std::move(load);
  o[field::kCounts] = json::object{{field::kResources, s.resource_count},
                                   {field::kSnapshots, s.snapshot_count},
                                   {field::kClones, s.clone_count}};
  json::array ra;
  for (const ResourceCounts& r : s.resources) {
    json::object ro{{field::kName, r.name},
                    {field::kSnapshots, r.snapshots},
                    {field::kClones, r.clones},
                    {field::kPool, json::object{{field::kMin, r.pool_min},
                                                {field::kMax, r.pool_max},
                                                {field::kReady, r.pool_ready}}},
                    {field::kRefresh, RefreshToJson(r.refresh)},
                    {field::kDataAsOf, OrNull(r.data_as_of)}};
    if (r.standby) ro[field::kStandby] = StandbyToJson(*r.standby);
    if (r.follower) ro[field::kFollower] = FollowerToJson(*r.follower);
    ra.push_back(std::move(ro));
  }
  o[field::kResources] = std::move(ra);
  return o;
}

Result<OriginStatus> OriginStatusFromJson(const json::value& v) {
  ObjectReader r(v, "status", Code::kUnprocessable);
  OriginStatus s;
  r.String(field::kVersion, &s.version, /*required=*/true);
  if (const json::object* st = r.Object(field::kStorage)) {
    ObjectReader sr(*st, "status storage", Code::kUnprocessable);
    sr.String(field::kDriver, &s.storage_driver);
    sr.String(field::kPath, &s.storage_path);
    sr.Uint(field::kTotalBytes, &s.storage_total_bytes);
    sr.Uint(field::kFreeBytes, &s.storage_free_bytes);
    sr.Uint(field::kUsedBytes, &s.storage_used_bytes);
    if (!sr.status().ok()) return sr.status();
  }
  if (const json::object* rt = r.Object(field::kRuntime)) {
    ObjectReader rr(*rt, "status runtime", Code::kUnprocessable);
    rr.String(field::kDriver, &s.runtime_driver);
    if (!rr.status().ok()) return rr.status();
  }
  if (const json::object* ports = r.Object(field::kClonePorts)) {
    ObjectReader pr(*ports, "status clone_ports", Code::kUnprocessable);
    pr.Int(field::kFirst, &s.clone_ports.first, false, 0, 65535);
    pr.Int(field::kLast, &s.clone_ports.last, false, 0, 65535);
    int64_t in_use = -1;  // absent (not an admin's view)
    pr.Int(field::kInUse, &in_use, false, 0, 65536);
    if (!pr.status().ok()) return pr.status();
    if (in_use >= 0) s.clone_ports.in_use = in_use;
  }
  if (const json::object* mem = r.Object(field::kMemory)) {
    ObjectReader mr(*mem, "status memory", Code::kUnprocessable);
    uint64_t total = 0, avail = 0;
    mr.Uint(field::kTotalBytes, &total);
    mr.Uint(field::kAvailableBytes, &avail);
    if (!mr.status().ok()) return mr.status();
    if (mem->contains(field::kTotalBytes)) s.memory_total_bytes = total;
    if (mem->contains(field::kAvailableBytes)) s.memory_available_bytes = avail;
  }
  if (const json::array* load = r.Array(field::kLoad)) {
    if (load->size() > 3) r.Fail("'load' has more than 3 numbers");
    for (const json::value& l : *load) {
      if (!l.is_number()) {
        r.Fail("'load' must be a list of numbers");
        break;
      }
      s.load.push_back(l.to_number<double>());
    }
  }
  if (const json::object* counts = r.Object(field::kCounts)) {
    ObjectReader cr(*counts, "status counts", Code::kUnprocessable);
    cr.Int(field::kResources, &s.resource_count, false, 0);
    cr.Int(field::kSnapshots, &s.snapshot_count, false, 0);
    cr.Int(field::kClones, &s.clone_count, false, 0);
    if (!cr.status().ok()) return cr.status();
  }
  if (const json::array* ra = r.Array(field::kResources)) {
    for (const json::value& e : *ra) {
      ObjectReader er(e, "status resource", Code::kUnprocessable);
      ResourceCounts rc;
      er.String(field::kName, &rc.name, /*required=*/true);
      er.Int(field::kSnapshots, &rc.snapshots, false, 0);
      er.Int(field::kClones, &rc.clones, false, 0);
      er.Time(field::kDataAsOf, &rc.data_as_of);
      if (const json::object* pool = er.Object(field::kPool)) {
        ObjectReader pr(*pool, "status pool", Code::kUnprocessable);
        pr.Int(field::kMin, &rc.pool_min, false, 0);
        pr.Int(field::kMax, &rc.pool_max, false, 0);
        pr.Int(field::kReady, &rc.pool_ready, false, 0);
        if (!pr.status().ok()) return pr.status();
      }
      if (const json::object* refresh = er.Object(field::kRefresh)) {
        ZDAP_RETURN_IF_ERROR(RefreshFromJson(*refresh, &rc.refresh));
      }
      if (const json::object* standby = er.Object(field::kStandby)) {
        ZDAP_RETURN_IF_ERROR(StandbyFromJson(*standby, &rc.standby.emplace()));
      }
      if (const json::object* follower = er.Object(field::kFollower)) {
        ZDAP_RETURN_IF_ERROR(FollowerFromJson(*follower, &rc.follower.emplace()));
      }
      if (!er.status().ok()) return er.status();
      s.resources.push_back(std::move(rc));
    }
  }
  if (!r.status().ok()) return r.status();
  return s;
}

Result<OriginStatus> ParseOriginStatus(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "the status"));
  return OriginStatusFromJson(v);
}

}  // namespace zdap::api
