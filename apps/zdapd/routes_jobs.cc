// Refresh jobs: POST /v1/resources/{r}/snapshots starts one (admin, 202 with the job), GET
// /v1/jobs and /v1/jobs/{id} follow them, DELETE /v1/resources/{r}/snapshots/{id} removes a
// snapshot no clone uses (admin; 409 while clones depend on it). The refresh duration
// histogram and last-success gauge are fed as each job ends.
#include <boost/json.hpp>

#include <chrono>

#include "api/job.h"
#include "core/time.h"
#include "request_bodies.h"
#include "routes.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

constexpr const char* kRefreshSeconds = "zdap_refresh_duration_seconds";
constexpr const char* kRefreshLastSuccess = "zdap_refresh_last_success_timestamp_seconds";

api::JobState ToApi(origin::JobState s) {
  switch (s) {
    case origin::JobState::kQueued:
      return api::JobState::kQueued;
    case origin::JobState::kRunning:
      return api::JobState::kRunning;
    case origin::JobState::kDone:
      return api::JobState::kDone;
    case origin::JobState::kFailed:
      break;
  }
  return api::JobState::kFailed;
}

api::Job ToApi(const origin::JobInfo& j) {
  api::Job out;
  out.id = j.id;
  out.resource = j.resource;
  out.kind = j.kind;
  out.state = ToApi(j.state);
  if (!api::ParseJobPhase(j.phase, &out.phase)) out.phase = api::JobPhase::kNone;
  out.bytes_done = static_cast<uint64_t>(j.bytes_done);
  out.bytes_total = static_cast<uint64_t>(j.bytes_total);
  out.started_at = j.started_at ? FormatRfc3339Millis(*j.started_at) : "";
  out.finished_at = j.finished_at ? FormatRfc3339Millis(*j.finished_at) : "";
  out.elapsed_ms = j.elapsed.count();
  out.snapshot = j.snapshot;
  out.error = j.error;
  out.log_tail = j.log_tail;
  return out;
}

Status NeedsAdmin(const origin::Caller& caller, const char* what) {
  if (caller.admin) return Status::Ok();
  return Status(Code::kPermissionDenied, std::string(what) + " needs the admin role");
}

}  // namespace

void AddJobRoutes(RouteTable& table, RouteContext& ctx) {
  ctx.metrics.DeclareHistogram(kRefreshSeconds, "Duration of finished refreshes, by resource.",
                               {10, 30, 60, 300, 900, 1800, 3600, 7200, 14400});
  ctx.metrics.DeclareGauge(kRefreshLastSuccess,
                           "Unix time of the last successful refresh, by resource.");
  if (ctx.origin != nullptr) {
    Metrics* metrics = &ctx.metrics;
    ctx.origin->refresher().OnJobFinished([metrics](const origin::JobInfo& j) {
      MetricLabels labels = {{"resource", j.resource}};
      if (j.state == origin::JobState::kDone) {
        metrics->Observe(kRefreshSeconds, labels, j.elapsed.count() / 1000.0);
        if (j.finished_at) {
          metrics->Set(kRefreshLastSuccess, labels,
                       std::chrono::duration<double>(j.finished_at->time_since_epoch()).count());
        }
      }
    });
  }
  // Quick to answer (the job runs on a thread of its own), but it writes: the long lane.
  table.Add("POST", "/v1/resources/{resource}/snapshots", kLongWork, [&ctx](const RouteCall& call) {
    if (Status st = NeedsAdmin(call.caller, "starting a refresh"); !st.ok()) {
      return ErrorResponse(st);
    }
    if (Status st = DecodeEmptyBody(call.request.body); !st.ok()) return ErrorResponse(st);
    auto job = ctx.origin->refresher().Start(call.params[0], call.caller.user);
    if (!job.ok()) return ErrorResponse(job.status());
    return JsonResponse(202, api::ToJson(ToApi(*job)));
  });
  table.Add("DELETE", "/v1/resources/{resource}/snapshots/{id}", kLongWork,
            [&ctx](const RouteCall& call) {
              if (Status st = NeedsAdmin(call.caller, "deleting a snapshot"); !st.ok()) {
                return ErrorResponse(st);
              }
              Status st =
                  ctx.origin->snapshots().Delete(call.params[0], call.params[1], call.caller.user);
              if (!st.ok()) return ErrorResponse(st);
              ApiResponse r;
              r.status = 204;
              r.body.clear();
              return r;
            });
  table.Add("GET", "/v1/jobs", {}, [&ctx](const RouteCall&) {
    json::array arr;
    for (const auto& j : ctx.origin->refresher().Jobs()) arr.push_back(api::ToJson(ToApi(j)));
    json::object out;
    out["jobs"] = std::move(arr);
    return JsonResponse(200, out);
  });
  table.Add("GET", "/v1/jobs/{id}", {}, [&ctx](const RouteCall& call) {
    auto job = ctx.origin->refresher().GetJob(call.params[0]);
    if (!job.ok()) return ErrorResponse(job.status());
    return JsonResponse(200, api::ToJson(ToApi(*job)));
  });
}

}  // namespace zdap::daemon
