// Following a refresh job to its end: POST /v1/resources/{r}/snapshots answers 202 with the job,
// then GET /v1/jobs/{id} is polled until it is done or failed. `zdap refresh --wait` and
// `zdapd refresh` (through the running daemon) both follow jobs with this, and word its progress
// with JobProgressText.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "api/job.h"
#include "client/origin_api.h"
#include "core/result.h"

namespace zdap::client {

struct FollowOptions {
  std::chrono::milliseconds poll_interval{500};
  // A job that runs longer is given up on (it goes on on the origin).
  std::chrono::milliseconds max_wait = std::chrono::hours(24);
  // How long the origin may fail to answer (a restart, the network, a 5xx) before we give up.
  std::chrono::milliseconds unreachable_limit = std::chrono::minutes(1);
};

// Polls `job` until it is done or failed and returns it in that state: a failed job is a
// result, not an error (the caller words its `error`). `on_update` sees every answer, the last
// one too. Errors: an answer not worth asking again (the job is not known, or the caller may not
// see it), no answer for `unreachable_limit`, or `max_wait` passed; each names the job.
Result<api::Job> FollowJob(const OriginApi& api, api::Job job,
                           const std::function<void(const api::Job&)>& on_update,
                           const FollowOptions& options = {});

// "import 12.0 MiB / 40.0 MiB": the phase (else the state) and the bytes done (of the total
// when known).
std::string JobProgressText(const api::Job& job);

// The phase, else the state: "import", "queued".
std::string JobPhaseText(const api::Job& job);

// Which progress lines to print where no line can be redrawn (a pipe, a log): the first of each
// phase, then at most one per `every` while the phase goes on, never the same text twice in a
// row.
class ProgressLines {
 public:
  explicit ProgressLines(std::chrono::seconds every) : every_(every) {}
  // JobProgressText(job) when a line is due now, else "".
  std::string Next(const api::Job& job);

 private:
  std::chrono::seconds every_;
  std::string last_phase_;
  std::string last_line_;
  std::chrono::steady_clock::time_point last_printed_{};
};

}  // namespace zdap::client
