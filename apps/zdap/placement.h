// Placement: which origins get a new clone (SPEC "CLI", placement).
//
// Every configured origin is asked GET /v1/status in parallel (ProbeOrigins); those that do
// not answer within the deadline are skipped with a one-line warning. RankOrigins, a pure
// function, orders the rest, best first, narrowing the candidates tier by tier so that two
// origins on similar hardware are not told apart by noise (a few bytes of disk, 0.01 of load):
//
//   0. with --claim: origins with a ready pool clone of the resource, if any has one;
//   1. free disk: those with at least 80% of the most free disk;
//   2. free memory: of those, at least 80% of the most available memory (unknown: kept);
//   3. load: of those, a 1-minute load within 1.0 of the lowest (unknown: kept);
//   4. clones: of those, the fewest clones (the caller's own, as /v1/status counts them);
//   5. the configuration order.
//
// The first origin left is the best; the next is chosen the same way from the others.
// Origins without the resource are left out. `--origin` skips all of this.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "client/origin_api.h"
#include "core/result.h"
#include "zdap/user_config.h"

namespace zdap::cli {

using client::CloneInfo;
using client::OriginApi;
using client::OriginStatus;
using client::ResourceInfo;
using client::SnapshotInfo;

// How long each origin has to connect, and then again to answer /v1/status.
inline constexpr std::chrono::milliseconds kStatusDeadline{1500};

// The API of origin `url` (any spelling) with the token and user from `config`. The origin
// need not be configured (then without a token).
Result<OriginApi> OriginFor(const UserConfig& config, const std::string& url);

// One origin's answer to /v1/status, or why there is none.
struct OriginProbe {
  std::string url;  // as configured
  Result<OriginStatus> status = Unavailable("not asked");
};

// Asks every configured origin at once; the answers in configuration order.
std::vector<OriginProbe> ProbeOrigins(const UserConfig& config,
                                      std::chrono::milliseconds deadline = kStatusDeadline);

struct Ranking {
  std::vector<size_t> order;  // indices into the probes, best first
  // Indices left out and why ("not reachable: ...", "has no resource 'x'").
  std::vector<std::pair<size_t, std::string>> skipped;
};

// The rule above. `claim`: prefer origins with a ready pool clone of `resource`.
Ranking RankOrigins(const std::vector<OriginProbe>& probes, const std::string& resource,
                    bool claim);

// The origins to try for a clone of `resource`, best first: only `forced` when given
// (--origin), else the configured ones ranked as above, with a warning on stderr for each
// origin skipped. Fails when none is left.
Result<std::vector<OriginApi>> PlaceClone(const UserConfig& config, const std::string& forced,
                                          const std::string& resource, bool claim);

// The best origin of PlaceClone.
Result<OriginApi> ChooseOrigin(const UserConfig& config, const std::string& forced,
                               const std::string& resource = "", bool claim = false);

}  // namespace zdap::cli
