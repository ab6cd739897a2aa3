// zdap refresh RESOURCE [--wait] [-q]: starts a refresh job on the origin that serves the
// resource and, with --wait, follows it: a progress bar on stderr when that is a terminal
// (erased when done), plain lines on stdout otherwise, only the new snapshot id with -q.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "core/names.h"
#include "zdap/args.h"
#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/progress.h"
#include "zdap/suggest.h"

namespace zdap::cli {
namespace po = boost::program_options;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(500);
// A refresh that runs longer is given up on (the job goes on on the origin).
constexpr auto kMaxWait = std::chrono::hours(24);
// Consecutive failed polls (origin restarting, network) before giving up.
constexpr int kMaxPollFailures = 10;

std::string PhaseText(const api::Job& job) {
  const char* phase = api::JobPhaseName(job.phase);
  return *phase ? phase : api::JobStateName(job.state);
}

// "import 12.0 MiB / 40.0 MiB", with a bar in front on a terminal when the total is known.
std::string ProgressText(const api::Job& job, bool bar) {
  std::string bytes = job.bytes_total > 0 ? fmt::format("{} / {}", HumanBytes(job.bytes_done),
                                                        HumanBytes(job.bytes_total))
                                          : HumanBytes(job.bytes_done);
  std::string text = fmt::format("{} {}", PhaseText(job), bytes);
  if (!bar || job.bytes_total == 0) return text;
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

}  // namespace

Status CmdRefresh(const Args& args) {
  po::options_description opts;
  opts.add_options()("wait", "follow the job until it is done (exit 1 if it fails)")(
      "quiet,q", "print only the result: the new snapshot id (or the job id without --wait)")(
      "origin", po::value<std::string>(),
      "origin URL (default: the configured origin that serves RESOURCE)");
  VerbArgs a = ParseVerbArgs(args, "refresh", "zdap refresh RESOURCE [--wait] [-q] [--origin URL]",
                             "Starts a refresh of RESOURCE (admins): the origin imports its "
                             "source into a new snapshot while clones keep being served from "
                             "the previous one.",
                             opts, 1, 1);
  if (a.help) return Status::Ok();
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

  StatusLine status(!quiet);
  const bool terminal = status.shown();
  if (!quiet && !terminal) {
    std::cout << fmt::format("refresh of {} on {}: job {}\n", resource, api.url().ToString(),
                             job.id)
              << std::flush;
  }
  if (terminal) status.Spin(fmt::format("refresh of {}: {}", resource, PhaseText(job)));
  std::string last_line;
  auto last_print = std::chrono::steady_clock::now();
  const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
  int failures = 0;
  while (job.state == api::JobState::kQueued || job.state == api::JobState::kRunning) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable(
          fmt::format("refresh job {} still runs after 24 h; it goes on on "
                      "the origin",
                      job.id));
    }
    std::this_thread::sleep_for(kPollInterval);
    auto next = api.GetJob(job.id);
    if (!next.ok()) {
      if (++failures >= kMaxPollFailures) return next.status().Wrap("following job " + job.id);
      continue;
    }
    failures = 0;
    job = std::move(*next);
    if (quiet) continue;
    std::string line = ProgressText(job, terminal);
    auto now = std::chrono::steady_clock::now();
    if (terminal) {
      if (job.bytes_total == 0) {
        status.Spin(fmt::format("refresh of {}: {}", resource, line));
      } else {
        status.Show(line);
      }
    } else if (line != last_line && (PhaseText(job) != last_line.substr(0, last_line.find(' ')) ||
                                     now - last_print >= std::chrono::seconds(5))) {
      // One line per phase, and at most one per 5 s within a phase.
      std::cout << line << "\n" << std::flush;
      last_print = now;
    }
    last_line = line;
  }
  status.Clear();
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
