// GET /v1/resources, /v1/resources/{r}, /v1/resources/{r}/snapshots.
#include <boost/json.hpp>

#include <map>

#include "api/resource.h"
#include "clone_object.h"
#include "core/time.h"
#include "routes.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

// Snapshots of `resource`, newest first, each with the number of clones the caller may see
// (all for an admin, their own for a plain user).
Result<std::vector<api::Snapshot>> SnapshotsFor(origin::Origin& origin, const std::string& resource,
                                                const std::vector<origin::CloneView>& visible) {
  ZDAP_ASSIGN_OR_RETURN(auto snaps, origin.snapshots().List(resource));
  std::map<std::string, int64_t> clones_of;
  for (const auto& c : visible) {
    if (c.resource == resource) ++clones_of[c.snapshot];
  }
  std::vector<api::Snapshot> out;
  for (const auto& sn : snaps) {
    out.push_back(api::Snapshot{sn.id, "", FormatRfc3339(sn.created_at),
                                sn.data_as_of ? FormatRfc3339(*sn.data_as_of) : "",
                                clones_of[sn.id], sn.origin});
  }
  return out;
}

Result<api::Resource> ResourceFor(origin::Origin& origin, const config::Resource& r,
                                  const origin::Caller& caller) {
  std::vector<origin::CloneView> visible = origin.clones().List(caller, caller.admin);
  api::Resource out;
  out.name = r.name;
  out.engine = r.engine;
  out.version = r.version;
  out.database = r.source.database;
  out.ttl = FormatDuration(r.clone_ttl);
  ZDAP_ASSIGN_OR_RETURN(out.snapshots, SnapshotsFor(origin, r.name, visible));
  // The caller's own clones (an admin's too: ?all=1 on /v1/clones lists everyone's).
  for (const auto& c : visible) {
    if (c.resource == r.name && c.owner == caller.user) out.clones.push_back(ToApi(c));
  }
  return out;
}

}  // namespace

void AddResourceRoutes(RouteTable& table, RouteContext& ctx) {
  table.Add("GET", "/v1/resources", kReplicatorRead, [&ctx](const RouteCall& call) {
    std::vector<api::Resource> out;
    for (const auto& r : ctx.origin->resources().all()) {
      auto res = ResourceFor(*ctx.origin, r, call.caller);
      if (!res.ok()) return ErrorResponse(res.status());
      out.push_back(std::move(res).value());
    }
    return JsonResponse(200, api::ResourceListToJson(out));
  });
  table.Add("GET", "/v1/resources/{resource}", kReplicatorRead, [&ctx](const RouteCall& call) {
    auto r = ctx.origin->resources().Find(call.params[0]);
    if (!r.ok()) return ErrorResponse(r.status());
    auto res = ResourceFor(*ctx.origin, **r, call.caller);
    if (!res.ok()) return ErrorResponse(res.status());
    return JsonResponse(200, api::ToJson(*res));
  });
  table.Add("GET", "/v1/resources/{resource}/snapshots", kReplicatorRead,
            [&ctx](const RouteCall& call) {
              auto r = ctx.origin->resources().Find(call.params[0]);
              if (!r.ok()) return ErrorResponse(r.status());
              auto snaps = SnapshotsFor(*ctx.origin, (*r)->name,
                                        ctx.origin->clones().List(call.caller, call.caller.admin));
              if (!snaps.ok()) return ErrorResponse(snaps.status());
              return JsonResponse(200, api::SnapshotListToJson(*snaps));
            });
}

}  // namespace zdap::daemon
