// zdap refresh RESOURCE [--wait] [-q]: starts a refresh job on the origin that serves the
// resource and, with --wait, follows it: a progress bar on stderr when that is a terminal
// (erased when done), plain lines on stdout otherwise, only the new snapshot id with -q.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "client/follow_job.h"
#include "core/names.h"
#include "zdap/args.h"
#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/progress.h"
#include "zdap/suggest.h"

namespace zdap::cli {
namespace {

// "[#####     ]  50% import 20.0 MiB / 40.0 MiB" (the bar when the total is known).
std::string ProgressText(const api::Job& job) {
  std::string text = client::JobProgressText(job);
  if (job.bytes_total == 0) return text;
  constexpr int kWidth = 30;
  double fraction =
      std::min(1.0, static_cast<double>(job.bytes_done) / static_cast<double>(job.bytes_total));
  int filled = static_cast<int>(fraction * kWidth);
  return fmt::format("[{}{}] {:3.0f}% {}", std::string(static_cast<size_t>(filled), '#'),
                     std::string(static_cast<size_t>(kWidth - filled), ' '), fraction * 100, text);
}

// Which origin refreshes `resource`: --origin, else the one configured origin that serves it.
Result<OriginApi> OriginServing(const UserConfig& config, const std::string& forced,
                                const std::string& resource) {
  if (!forced.empty()) return OriginFor(config, forced);
  std::vector<OriginApi> serving;
  std::vector<std::string> all_names, failures;
  for (const auto& o : config.origins) {
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, o.url));
    auto resources = api.ListResources();
    if (!resources.ok()) {
      failures.push_back(resources.status().message());
      continue;
    }
    for (const auto& r : *resources) {
      all_names.push_back(r.name);
      if (r.name == resource) serving.push_back(api);
    }
  }
  if (serving.size() == 1) return serving[0];
  if (serving.size() > 1) {
    return InvalidArgument(
        fmt::format("{} origins serve '{}'; choose one with --origin URL "
                    "(see `zdap list resources`)",
                    serving.size(), resource));
  }
  if (!failures.empty()) {
    return Unavailable(fmt::format("no origin that answered serves '{}' ({})", resource,
                                   fmt::join(failures, "; ")));
  }
  std::string hint = DidYouMean(resource, all_names);
  return NotFound(fmt::format("no origin serves a resource '{}'{}", resource,
                              hint.empty() ? "; see `zdap list resources`" : hint));
}

// Follows `job` to its end, showing its progress: on a terminal a bar (a spinner while the total
// is unknown), erased when done; off one a line per phase on stdout (at most one per 5 s within
// a phase); nothing with `quiet`.
Result<api::Job> FollowShowing(const OriginApi& api, api::Job job, const std::string& resource,
                               bool quiet) {
  StatusLine status(!quiet);
  const bool terminal = status.shown();
  if (!quiet && !terminal) {
    std::cout << fmt::format("refresh of {} on {}: job {}\n", resource, api.url().ToString(),
                             job.id)
              << std::flush;
  }
  if (terminal) status.Spin(fmt::format("refresh of {}: {}", resource, client::JobPhaseText(job)));
  client::ProgressLines lines(std::chrono::seconds(5));
  return client::FollowJob(api, std::move(job), [&](const api::Job& j) {
    if (quiet) return;
    if (!terminal) {
      if (std::string line = lines.Next(j); !line.empty()) std::cout << line << "\n" << std::flush;
    } else if (j.bytes_total == 0) {
      status.Spin(fmt::format("refresh of {}: {}", resource, ProgressText(j)));
    } else {
      status.Show(ProgressText(j));
    }
  });
}

}  // namespace

Status CmdRefresh(const VerbArgs& a) {
  const std::string resource = a.positional[0];
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  const bool quiet = a.Has("quiet");
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadConfigWithOrigins());
  ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginServing(config, a.Get("origin"), resource));
  auto started = api.StartRefresh(resource);
  if (!started.ok()) return WithResourceHint(api, started.status(), resource);
  api::Job job = std::move(*started);
  if (!a.Has("wait")) {
    if (quiet) {
      std::cout << job.id << "\n";
    } else {
      std::cout << fmt::format("started refresh of {} on {}: job {}\n", resource,
                               api.url().ToString(), job.id);
    }
    return Status::Ok();
  }

  ZDAP_ASSIGN_OR_RETURN(job, FollowShowing(api, std::move(job), resource, quiet));
  if (job.state == api::JobState::kFailed) {
    return Unavailable(fmt::format("refresh of {} failed: {}", resource,
                                   job.error.empty() ? "(the origin gave no reason)" : job.error));
  }
  if (quiet) {
    std::cout << job.snapshot << "\n";
  } else {
    std::cout << fmt::format("refreshed {}: snapshot {} ({} in {:.1f} s)\n", resource, job.snapshot,
                             HumanBytes(job.bytes_done),
                             static_cast<double>(job.elapsed_ms) / 1000.0);
  }
  return Status::Ok();
}

}  // namespace zdap::cli
