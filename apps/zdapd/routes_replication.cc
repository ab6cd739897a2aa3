// GET /v1/resources/{r}/snapshots/{id}/stream?formats=F1,F2&base=ID1,ID2 (issue 23): one
// snapshot as a framed stream for a follower origin, for admins and `replicator` tokens.
// `formats`: what the follower receives, best first; `base`: the snapshots of the resource it
// holds, from which the answer may be the difference (origin/snapshot_export.h).
#include <fmt/format.h>

#include "routes.h"
#include "snapshot_stream_response.h"

namespace zdap::daemon {
namespace {

// A follower holds `refresh.keep` snapshots of a resource; this is far above any sane keep.
constexpr size_t kMaxBases = 64;
constexpr size_t kMaxFormats = 8;

}  // namespace

void AddReplicationRoutes(RouteTable& table, RouteContext& ctx) {
  table.Add(
      "GET", "/v1/resources/{resource}/snapshots/{id}/stream", kReplicatorRead,
      [&ctx](const RouteCall& call) {
        if (!call.caller.admin && !call.caller.replicator) {
          return ErrorResponse(Status(Code::kPermissionDenied,
                                      "reading a snapshot stream needs the admin or replicator "
                                      "role (zdapd token add NAME --role replicator)"));
        }
        origin::ExportRequest req;
        req.resource = call.params[0];
        req.snapshot = call.params[1];
        auto formats = QueryList(call.query, "formats", kMaxFormats);
        if (!formats.ok()) return ErrorResponse(formats.status());
        if (formats->empty()) {
          return ErrorResponse(InvalidArgument(
              "query parameter 'formats' is required: the stream formats the follower "
              "receives, best first (btrfs, tar.zst)"));
        }
        req.formats = std::move(formats).value();
        auto bases = QueryList(call.query, "base", kMaxBases);
        if (!bases.ok()) return ErrorResponse(bases.status());
        req.bases = std::move(bases).value();
        if (auto r = ctx.origin->resources().Find(req.resource); !r.ok()) {
          return ErrorResponse(r.status());
        }
        if (Status st = SnapshotStreamResponse::Admit(); !st.ok()) return ErrorResponse(st);
        auto exported = origin::OpenSnapshotExport(
            req, ctx.origin->snapshots(), ctx.origin->store(), ctx.origin->advertised_url());
        if (!exported.ok()) {
          SnapshotStreamResponse::Release();
          return ErrorResponse(exported.status());
        }
        ApiResponse resp;
        resp.status = 200;
        resp.content_type = "application/octet-stream";
        resp.headers.emplace_back("X-Zdap-Stream-Format", exported->header.format);
        resp.stream =
            std::make_shared<SnapshotStreamResponse>(std::move(exported).value(), call.caller.user);
        return resp;
      });
}

}  // namespace zdap::daemon
