#include "api/job.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "api/fields.h"
#include "api/json_reader.h"

namespace json = boost::json;

namespace zdap::api {

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
  }
  return "failed";
}

const char* JobPhaseName(JobPhase p) {
  switch (p) {
    case JobPhase::kNone:
      return "";
    case JobPhase::kImport:
      return "import";
    case JobPhase::kAfter:
      return "after";
    case JobPhase::kWipe:
      return "wipe";
    case JobPhase::kStop:
      return "stop";
    case JobPhase::kSnapshot:
      return "snapshot";
    case JobPhase::kSync:
      return "sync";
    case JobPhase::kCheckpoint:
      return "checkpoint";
    case JobPhase::kPromote:
      return "promote";
    case JobPhase::kSeal:
      return "seal";
    case JobPhase::kPull:
      return "pull";
  }
  return "";
}

bool ParseJobState(std::string_view s, JobState* out) {
  for (JobState j : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed}) {
    if (s == JobStateName(j)) {
      *out = j;
      return true;
    }
  }
  return false;
}

bool ParseJobPhase(std::string_view s, JobPhase* out) {
  for (JobPhase p : {JobPhase::kImport, JobPhase::kAfter, JobPhase::kWipe, JobPhase::kStop,
                     JobPhase::kSnapshot, JobPhase::kSync, JobPhase::kCheckpoint,
                     JobPhase::kPromote, JobPhase::kSeal, JobPhase::kPull}) {
    if (s == JobPhaseName(p)) {
      *out = p;
      return true;
    }
  }
  return false;
}

namespace {

void SetOrNull(json::object& o, const char* key, const std::string& v) {
  if (v.empty()) {
    o[key] = nullptr;
  } else {
    o[key] = v;
  }
}

}  // namespace

json::object ToJson(const Job& j) {
  json::object o;
  o[field::kId] = j.id;
  o[field::kResource] = j.resource;
  o[field::kKind] = j.kind;
  o[field::kState] = JobStateName(j.state);
  SetOrNull(o, field::kPhase, JobPhaseName(j.phase));
  o[field::kBytesDone] = j.bytes_done;
  o[field::kBytesTotal] = j.bytes_total;
  SetOrNull(o, field::kStartedAt, j.started_at);
  SetOrNull(o, field::kFinishedAt, j.finished_at);
  o[field::kElapsedMs] = j.elapsed_ms;
  SetOrNull(o, field::kSnapshot, j.snapshot);
  SetOrNull(o, field::kError, j.error);
  json::array log;
  for (const auto& line : j.log_tail) log.push_back(json::string(line));
  o[field::kLogTail] = std::move(log);
  return o;
}

Result<Job> JobFromJson(const json::value& v) {
  ObjectReader r(v, "job", Code::kUnprocessable);
  Job j;
  std::string state, phase;
  r.String(field::kId, &j.id, /*required=*/true);
  r.String(field::kResource, &j.resource, /*required=*/true);
  r.String(field::kKind, &j.kind);
  r.String(field::kState, &state, /*required=*/true);
  r.String(field::kPhase, &phase);
  r.Uint(field::kBytesDone, &j.bytes_done);
  r.Uint(field::kBytesTotal, &j.bytes_total);
  r.Time(field::kStartedAt, &j.started_at);
  r.Time(field::kFinishedAt, &j.finished_at);
  r.Int(field::kElapsedMs, &j.elapsed_ms, false, 0);
  r.String(field::kSnapshot, &j.snapshot);
  r.String(field::kError, &j.error);
  if (const json::array* log = r.Array(field::kLogTail)) {
    if (log->size() > kMaxJobLogLines) {
      r.Fail(fmt::format("'log_tail' has more than {} lines", kMaxJobLogLines));
    }
    for (const json::value& line : *log) {
      if (!line.is_string()) {
        r.Fail("'log_tail' must be a list of strings");
        break;
      }
      j.log_tail.emplace_back(line.as_string());
    }
  }
  if (r.status().ok() && !ParseJobState(state, &j.state)) {
    r.Fail(fmt::format("'state' is not queued, running, done or failed"));
  }
  if (r.status().ok() && !phase.empty() && !ParseJobPhase(phase, &j.phase)) {
    r.Fail("'phase' is not import, after, wipe, stop or snapshot");
  }
  if (!r.status().ok()) return r.status();
  return j;
}

Result<Job> ParseJob(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text, "the job"));
  if (v.is_object()) {
    if (const json::value* inner = v.as_object().if_contains(field::kJob)) {
      return JobFromJson(*inner);
    }
  }
  return JobFromJson(v);
}

}  // namespace zdap::api
