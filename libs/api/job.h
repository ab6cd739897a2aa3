// API v1's job object: a refresh started with POST /v1/resources/{r}/snapshots (202 {job}),
// followed with GET /v1/jobs/{id}.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace zdap::api {

enum class JobState { kQueued, kRunning, kDone, kFailed };
// A dump's refresh: import, after, wipe, stop, snapshot. A standby's: sync (its first base
// backup), checkpoint, snapshot, promote, after, wipe, stop, seal. A follower's: pull, seal.
enum class JobPhase {
  kNone,  // null on the wire
  kImport,
  kAfter,
  kWipe,
  kStop,
  kSnapshot,
  kSync,
  kCheckpoint,
  kPromote,
  kSeal,
  kPull,  // a follower's: the snapshot moving from upstream (then seal)
};
const char* JobStateName(JobState s);
const char* JobPhaseName(JobPhase p);  // "" for kNone
bool ParseJobState(std::string_view s, JobState* out);
bool ParseJobPhase(std::string_view s, JobPhase* out);

struct Job {
  std::string id;
  std::string resource;
  std::string kind = "refresh";
  JobState state = JobState::kQueued;
  JobPhase phase = JobPhase::kNone;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;  // 0: unknown
  std::string started_at;    // RFC 3339, "" = not yet (null)
  std::string finished_at;   // RFC 3339, "" = not yet (null)
  int64_t elapsed_ms = 0;
  std::string snapshot;  // the new snapshot once done, "" (null) before
  std::string error;     // why it failed, "" (null) otherwise
  std::vector<std::string> log_tail;
};

// Jobs keep at most this many log lines.
inline constexpr size_t kMaxJobLogLines = 200;

boost::json::object ToJson(const Job& job);
// Requires id, resource, state.
Result<Job> JobFromJson(const boost::json::value& v);
// The job object itself, or {"job": {...}} as POST .../snapshots answers.
Result<Job> ParseJob(std::string_view text);

}  // namespace zdap::api
