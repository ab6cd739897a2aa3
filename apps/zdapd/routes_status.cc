// GET /v1/health, /v1/status, /metrics.
#include <fmt/format.h>
#include <stdlib.h>
#include <boost/json.hpp>

#include <cstring>
#include <map>

#include "api/origin_status.h"
#include "core/file_util.h"
#include "core/time.h"
#include "routes.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

// MemTotal and MemAvailable of /proc/meminfo in bytes; unset if unreadable.
void HostMemory(api::OriginStatus* s) {
  auto text = ReadFile("/proc/meminfo", 1 << 16);
  if (!text.ok()) return;
  for (auto [name, out] : {std::pair{"MemTotal:", &s->memory_total_bytes},
                           std::pair{"MemAvailable:", &s->memory_available_bytes}}) {
    size_t at = text->find(name);
    if (at != std::string::npos) {
      *out = std::strtoull(text->c_str() + at + std::strlen(name), nullptr, 10) * 1024;
    }
  }
}

// How many of `clones` (all of them) hold a port of the configured range: the
// zdap_clone_ports metric, and the admins' status.
int64_t ClonePortsInUse(const config::DaemonConfig& cfg,
                        const std::vector<origin::CloneView>& clones) {
  int64_t used = 0;
  for (const auto& c : clones) {
    if (c.port >= cfg.clone_port_first && c.port <= cfg.clone_port_last) ++used;
  }
  return used;
}

api::RefreshStatus RefreshStatusOf(origin::Origin& origin, const config::Resource& r) {
  api::RefreshStatus out;
  out.cron = r.refresh_cron;
  if (auto next = origin.NextRefresh(r.name)) out.next_at = FormatRfc3339(*next);
  if (auto last = origin.refresher().LastOutcome(r.name)) {
    out.last = api::LastRefresh{last->ok ? "done" : "failed", FormatRfc3339(last->finished_at),
                                last->elapsed.count(), last->snapshot, last->error};
  }
  return out;
}

// The newest of `snaps`; null without snapshots.
const origin::SnapshotInfo* Newest(const std::vector<origin::SnapshotInfo>& snaps) {
  const origin::SnapshotInfo* newest = nullptr;
  for (const auto& s : snaps) {
    if (newest == nullptr || s.created_at > newest->created_at) newest = &s;
  }
  return newest;
}

// The age of the newest of `snaps` at `now`; none without snapshots.
std::optional<double> NewestAge(const std::vector<origin::SnapshotInfo>& snaps, SystemTime now) {
  const origin::SnapshotInfo* newest = Newest(snaps);
  if (newest == nullptr) return std::nullopt;
  return std::chrono::duration<double>(now - newest->created_at).count();
}

// A replica resource's standby, as its source sees it (origin/replica_source.h).
api::StandbyStatus StandbyStatusOf(origin::Origin& origin, const config::Resource& r,
                                   const std::vector<origin::SnapshotInfo>& snaps) {
  origin::SourceState st = origin.refresher().SourceOf(r).State();
  api::StandbyStatus out;
  out.state = st.state;
  out.detail = st.detail;
  out.lag_seconds = st.lag_seconds;
  out.lag_bytes = st.lag_bytes;
  if (st.last_replayed) out.last_replayed_at = FormatRfc3339(*st.last_replayed);
  if (st.disconnected_since) out.disconnected_since = FormatRfc3339(*st.disconnected_since);
  out.newest_snapshot_age_seconds = NewestAge(snaps, SystemNow());
  return out;
}

// A follower resource's pulls, as its source saw them (origin/origin_pull.h).
api::FollowerStatus FollowerStatusOf(origin::Origin& origin, const config::Resource& r,
                                     const std::vector<origin::SnapshotInfo>& snaps) {
  origin::SourceState st = origin.refresher().SourceOf(r).State();
  api::FollowerStatus out;
  out.upstream = r.source.upstream->url;
  if (const origin::SnapshotInfo* newest = Newest(snaps)) out.newest_local = newest->id;
  if (st.pull) {
    out.upstream_newest = st.pull->upstream_newest;
    if (st.pull->checked_at) out.checked_at = FormatRfc3339(*st.pull->checked_at);
    out.behind = !out.upstream_newest.empty() && out.upstream_newest > out.newest_local;
    out.last_pull_bytes = st.pull->last_bytes;
    out.last_pull_format = st.pull->last_format;
    out.last_pull_base = st.pull->last_base;
    out.pulled_bytes = st.pull->total_bytes;
  }
  return out;
}

// GET /v1/status: what this origin runs and has room for. Clone counts are the caller's own
// unless they are an admin (no existence leaks), and so is how many clone ports are in use.
Result<api::OriginStatus> OriginStatusFor(origin::Origin& origin, const std::string& version,
                                          const origin::Caller& caller) {
  api::OriginStatus s;
  s.version = version;
  storage::Driver& store = origin.store();
  ZDAP_ASSIGN_OR_RETURN(storage::Space space, store.StoreSpace());
  s.storage_driver = store.name();
  s.storage_path = store.root();
  s.storage_total_bytes = space.total_bytes;
  s.storage_free_bytes = space.free_bytes;
  s.storage_used_bytes = space.used_bytes;
  s.runtime_driver = origin.runtime_driver();
  s.clone_ports.first = origin.config().clone_port_first;
  s.clone_ports.last = origin.config().clone_port_last;
  HostMemory(&s);
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) s.load = {load[0], load[1], load[2]};
  std::map<std::string, int64_t> clones_of;
  const std::vector<origin::CloneView> visible = origin.clones().List(caller, caller.admin);
  for (const auto& c : visible) ++clones_of[c.resource];
  if (caller.admin) s.clone_ports.in_use = ClonePortsInUse(origin.config(), visible);
  for (const auto& r : origin.resources().all()) {
    ZDAP_ASSIGN_OR_RETURN(auto snaps, origin.snapshots().List(r.name));
    api::ResourceCounts rc;
    rc.name = r.name;
    rc.snapshots = static_cast<int64_t>(snaps.size());
    rc.clones = clones_of[r.name];
    rc.pool_min = r.pool_min;
    rc.pool_max = r.pool_max;
    rc.pool_ready = origin.pools().Ready(r.name);
    rc.refresh = RefreshStatusOf(origin, r);
    if (const origin::SnapshotInfo* newest = Newest(snaps); newest && newest->data_as_of) {
      rc.data_as_of = FormatRfc3339(*newest->data_as_of);
    }
    if (r.source.replica) rc.standby = StandbyStatusOf(origin, r, snaps);
    if (r.source.upstream) rc.follower = FollowerStatusOf(origin, r, snaps);
    s.snapshot_count += rc.snapshots;
    s.clone_count += rc.clones;
    s.resources.push_back(std::move(rc));
  }
  s.resource_count = static_cast<int64_t>(origin.resources().all().size());
  return s;
}

// The origin-level metric families, computed at scrape time from the catalog.
void DeclareOriginMetrics(Metrics& metrics, origin::Origin* origin) {
  metrics.DeclareCollectedGauge("zdap_clones", "Clones by resource and state.", [origin] {
    std::map<std::pair<std::string, std::string>, int> n;
    for (const auto& r : origin->resources().all()) {
      for (const char* st : {"creating", "ready", "failed", "deleting"}) n[{r.name, st}] = 0;
    }
    for (const auto& c : origin->clones().List(origin::DaemonCaller(), true)) {
      ++n[{c.resource, c.state}];
    }
    std::vector<GaugeSample> out;
    for (const auto& [k, v] : n) {
      out.push_back({{{"resource", k.first}, {"state", k.second}}, static_cast<double>(v)});
    }
    return out;
  });
  metrics.DeclareCollectedGauge(
      "zdap_pool_clones",
      "Pool clones by resource and state: ready (claimable), creating, stale (older snapshot).",
      [origin] {
        std::vector<GaugeSample> out;
        for (const auto& r : origin->resources().all()) {
          origin::PoolCounts c = origin->pools().CountsOf(r);
          for (auto [state, n] :
               {std::pair{"ready", c.fresh_ready}, std::pair{"creating", c.making},
                std::pair{"stale", c.stale_ready}}) {
            out.push_back({{{"resource", r.name}, {"state", state}}, static_cast<double>(n)});
          }
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_pool_target", "Pool size kept ready per resource (min).", [origin] {
        std::vector<GaugeSample> out;
        for (const auto& r : origin->resources().all()) {
          out.push_back({{{"resource", r.name}}, static_cast<double>(r.pool_min)});
        }
        return out;
      });
  metrics.DeclareCollectedGauge("zdap_snapshots", "Snapshots per resource.", [origin] {
    std::vector<GaugeSample> out;
    for (const auto& r : origin->resources().all()) {
      auto snaps = origin->snapshots().List(r.name);
      if (snaps.ok()) out.push_back({{{"resource", r.name}}, static_cast<double>(snaps->size())});
    }
    return out;
  });
  metrics.DeclareCollectedGauge(
      "zdap_snapshot_newest_age_seconds",
      "Seconds since the newest snapshot of each resource was made (none: no sample).", [origin] {
        std::vector<GaugeSample> out;
        const SystemTime now = SystemNow();
        for (const auto& r : origin->resources().all()) {
          auto snaps = origin->snapshots().List(r.name);
          if (!snaps.ok()) continue;
          if (auto age = NewestAge(*snaps, now)) out.push_back({{{"resource", r.name}}, *age});
        }
        return out;
      });
  // Replica resources' standbys, as their sources see them now, for the collectors below.
  auto standbys = [origin] {
    std::vector<std::pair<std::string, origin::SourceState>> out;
    for (const auto& r : origin->resources().all()) {
      if (r.source.replica) out.emplace_back(r.name, origin->refresher().SourceOf(r).State());
    }
    return out;
  };
  // Replica resources' standbys: one sample per state (1 = the current one), the replay lag,
  // and how long it has been cut off from its primary (0 = connected).
  metrics.DeclareCollectedGauge(
      "zdap_standby_state",
      "State of each replica resource's standby (1 = current): not_synced, streaming, "
      "catching_up, disconnected, stopped.",
      [standbys] {
        std::vector<GaugeSample> out;
        for (const auto& [name, st] : standbys()) {
          for (const char* state :
               {"not_synced", "streaming", "catching_up", "disconnected", "stopped"}) {
            out.push_back({{{"resource", name}, {"state", state}}, st.state == state ? 1.0 : 0.0});
          }
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_standby_lag_seconds",
      "How far behind its primary each standby replays, in seconds (0 = nothing to replay).",
      [standbys] {
        std::vector<GaugeSample> out;
        for (const auto& [name, st] : standbys()) {
          if (st.lag_seconds) out.push_back({{{"resource", name}}, *st.lag_seconds});
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_standby_lag_bytes", "WAL bytes each standby has yet to replay.", [standbys] {
        std::vector<GaugeSample> out;
        for (const auto& [name, st] : standbys()) {
          if (st.lag_bytes)
            out.push_back({{{"resource", name}}, static_cast<double>(*st.lag_bytes)});
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_standby_disconnected_seconds",
      "How long each standby has been cut off from its primary (0 = connected); above "
      "replica.max_disconnect the primary's disk is at risk.",
      [standbys] {
        std::vector<GaugeSample> out;
        const SystemTime now = SystemNow();
        for (const auto& [name, st] : standbys()) {
          double cut = st.disconnected_since
                           ? std::chrono::duration<double>(now - *st.disconnected_since).count()
                           : 0.0;
          out.push_back({{{"resource", name}}, cut});
        }
        return out;
      });
  // Follower resources (source.origin): whether upstream has newer than any snapshot here, and
  // the payload pulled so far (a counter in all but name: it restarts with zdapd). Only the
  // first needs the snapshot list.
  metrics.DeclareCollectedGauge(
      "zdap_follower_behind",
      "1 when a follower resource's upstream origin had a newer snapshot than any here at the "
      "last look (a pull is due or failing).",
      [origin] {
        std::vector<GaugeSample> out;
        for (const auto& r : origin->resources().all()) {
          if (!r.source.upstream) continue;
          auto snaps = origin->snapshots().List(r.name);
          if (!snaps.ok()) continue;
          const api::FollowerStatus f = FollowerStatusOf(*origin, r, *snaps);
          out.push_back({{{"resource", r.name}}, f.behind ? 1.0 : 0.0});
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_follower_pulled_bytes",
      "Snapshot stream bytes each follower resource pulled since zdapd started.", [origin] {
        std::vector<GaugeSample> out;
        for (const auto& r : origin->resources().all()) {
          if (!r.source.upstream) continue;
          const origin::SourceState st = origin->refresher().SourceOf(r).State();
          const uint64_t pulled = st.pull ? st.pull->total_bytes : 0;
          out.push_back({{{"resource", r.name}}, static_cast<double>(pulled)});
        }
        return out;
      });
  metrics.DeclareCollectedGauge(
      "zdap_clone_ports", "Clone ports of the configured range, in use and free.", [origin] {
        const auto& cfg = origin->config();
        int64_t total = cfg.clone_port_last - cfg.clone_port_first + 1;
        int64_t used = ClonePortsInUse(cfg, origin->clones().List(origin::DaemonCaller(), true));
        return std::vector<GaugeSample>{{{{"state", "in_use"}}, static_cast<double>(used)},
                                        {{{"state", "free"}}, static_cast<double>(total - used)}};
      });
}

}  // namespace

void AddStatusRoutes(RouteTable& table, RouteContext& ctx) {
  DeclareOriginMetrics(ctx.metrics, ctx.origin);
  table.Add("GET", "/v1/health", {.needs_auth = false, .lane = Lane::kInline},
            [&ctx](const RouteCall&) {
              return JsonResponse(200, json::object{{"status", "ok"}, {"version", ctx.version}});
            });
  table.Add("GET", "/v1/status", {}, [&ctx](const RouteCall& call) {
    auto s = OriginStatusFor(*ctx.origin, ctx.version, call.caller);
    if (!s.ok()) return ErrorResponse(s.status());
    return JsonResponse(200, api::ToJson(*s));
  });
  // Admins only: the families count every user's clones.
  table.Add("GET", "/metrics", {}, [&ctx](const RouteCall& call) {
    if (!call.caller.admin) {
      return ErrorResponse(Status(Code::kPermissionDenied, "/metrics needs the admin role"));
    }
    ApiResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = ctx.metrics.Render();
    return r;
  });
}

}  // namespace zdap::daemon
