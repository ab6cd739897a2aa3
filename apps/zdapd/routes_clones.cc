// POST /v1/resources/{r}/clones, GET /v1/clones, GET, PATCH and DELETE /v1/clones/{id},
// POST /v1/clones/{id}/reset and /v1/clones/{id}/snapshot.
// A plain user sees and touches only their own clones: another's is "not found", the same
// answer as for one that does not exist.
#include <boost/json.hpp>

#include "api/clone.h"
#include "api/resource.h"
#include "clone_object.h"
#include "core/time.h"
#include "request_bodies.h"
#include "routes.h"

namespace json = boost::json;

namespace zdap::daemon {

void AddCloneRoutes(RouteTable& table, RouteContext& ctx) {
  table.Add("POST", "/v1/resources/{resource}/clones", kLongWork, [&ctx](const RouteCall& call) {
    auto req = DecodeCreateClone(call.params[0], call.request.body);
    if (!req.ok()) return ErrorResponse(req.status());
    auto made = ctx.origin->clones().Create(*req, call.caller);
    if (!made.ok()) return ErrorResponse(made.status());
    return JsonResponse(201, api::ToJson(ToApi(std::move(made).value())));
  });
  table.Add("POST", "/v1/resources/{resource}/claim", kLongWork, [&ctx](const RouteCall& call) {
    auto req = DecodeClaim(call.request.body);
    if (!req.ok()) return ErrorResponse(req.status());
    auto claimed = ctx.origin->pools().Claim(call.params[0], req->ttl, call.caller, req->password);
    if (!claimed.ok()) return ErrorResponse(claimed.status());
    // The answer says whether the pool had one ready (from_pool) or the clone was made
    // for this claim, with a create's latency.
    api::Clone out = ToApi(std::move(claimed->clone));
    out.from_pool = claimed->from_pool;
    return JsonResponse(201, api::ToJson(out));
  });
  // From memory: the catalog's map (its lock is never held across I/O) and the origin's cache of
  // clone passwords and URIs (a clone's secret file is read once, then remembered).
  table.Add("GET", "/v1/clones", kFromMemory, [&ctx](const RouteCall& call) {
    bool all = QueryFlag(call.query, "all");
    if (all && !call.caller.admin) {
      return ErrorResponse(Status(Code::kPermissionDenied,
                                  "listing every user's clones (?all=1) needs the admin role"));
    }
    std::vector<origin::CloneView> views = ctx.origin->clones().List(call.caller, all);
    std::vector<api::Clone> out;
    out.reserve(views.size());
    for (auto& v : views) out.push_back(ToApi(std::move(v)));
    // Written directly, not through a json::value tree: this answer lists every clone.
    ApiResponse resp;
    resp.status = 200;
    resp.body = api::CloneListJsonText(out);
    resp.body += '\n';
    return resp;
  });
  table.Add("GET", "/v1/clones/{id}", kFromMemory, [&ctx](const RouteCall& call) {
    auto view = ctx.origin->clones().Get(call.params[0], call.caller);
    if (!view.ok()) return ErrorResponse(view.status());
    return JsonResponse(200, api::ToJson(ToApi(std::move(view).value())));
  });
  table.Add("PATCH", "/v1/clones/{id}", kLongWork, [&ctx](const RouteCall& call) {
    auto req = DecodeUpdateClone(call.request.body);
    if (!req.ok()) return ErrorResponse(req.status());
    auto view = ctx.origin->clones().Update(call.params[0], *req, call.caller);
    if (!view.ok()) return ErrorResponse(view.status());
    return JsonResponse(200, api::ToJson(ToApi(std::move(view).value())));
  });
  table.Add("POST", "/v1/clones/{id}/reset", kLongWork, [&ctx](const RouteCall& call) {
    auto snapshot = DecodeResetClone(call.request.body);
    if (!snapshot.ok()) return ErrorResponse(snapshot.status());
    auto view = ctx.origin->clones().Reset(call.params[0], *snapshot, call.caller);
    if (!view.ok()) return ErrorResponse(view.status());
    return JsonResponse(200, api::ToJson(ToApi(std::move(view).value())));
  });
  table.Add("POST", "/v1/clones/{id}/snapshot", kLongWork, [&ctx](const RouteCall& call) {
    if (Status st = DecodeEmptyBody(call.request.body); !st.ok()) {
      return ErrorResponse(st);
    }
    auto view = ctx.origin->clones().Get(call.params[0], call.caller);
    if (!view.ok()) return ErrorResponse(view.status());
    auto snap = ctx.origin->clones().Branch(call.params[0], call.caller);
    if (!snap.ok()) return ErrorResponse(snap.status());
    api::Snapshot out{snap->id, view->resource, FormatRfc3339(snap->created_at),
                      snap->data_as_of ? FormatRfc3339(*snap->data_as_of) : "", 0};
    return JsonResponse(201, api::ToJson(out));
  });
  table.Add("DELETE", "/v1/clones/{id}", kLongWork, [&ctx](const RouteCall& call) {
    Status st = ctx.origin->clones().Destroy(call.params[0], call.caller);
    if (!st.ok()) return ErrorResponse(st);
    ApiResponse r;
    r.status = 204;
    r.body.clear();
    return r;
  });
}

}  // namespace zdap::daemon
