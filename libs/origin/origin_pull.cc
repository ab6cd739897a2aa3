#include "origin/origin_pull.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "api/snapshot_stream.h"
#include "client/origin_api.h"
#include "core/file_util.h"
#include "core/human_bytes.h"
#include "core/log.h"
#include "core/names.h"
#include "core/version.h"

namespace zdap::origin {
namespace {

// A receiver that dies mid-stream must turn our write into EPIPE, not a process-wide SIGPIPE.
// Blocked on this thread for the pull; one that arrived meanwhile is taken before unblocking.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~ScopedSigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    timespec zero{0, 0};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t previous_;
};

// Holds a reader to `rate` bytes per second on average (0 = no limit): after each piece it
// sleeps until the bytes so far are due.
class Pacer {
 public:
  Pacer(Env& env, uint64_t rate) : env_(env), rate_(rate), start_(env.MonotonicNow()) {}
  void Took(size_t bytes) {
    if (rate_ == 0) return;
    bytes_ += bytes;
    auto due = start_ + std::chrono::microseconds(bytes_ * 1000000 / rate_);
    auto now = env_.MonotonicNow();
    if (due > now) {
      env_.SleepFor(std::chrono::duration_cast<std::chrono::microseconds>(due - now));
    }
  }

 private:
  Env& env_;
  uint64_t rate_;
  SteadyTime start_;
  uint64_t bytes_ = 0;
};

}  // namespace

OriginPull::OriginPull(const config::Resource& resource, const SourceParts& parts)
    : resource_(resource), upstream_(*resource.source.upstream), p_(parts) {
  pull_.upstream = upstream_.url;
}

SourceState OriginPull::State() const {
  SourceState out;
  std::lock_guard lock(mu_);
  out.pull = pull_;
  return out;
}

namespace {

// The upstream origin as a client of its API, with the token read now (a new token needs no
// restart) and the hints a zdapd operator needs (not the CLI's).
Result<client::OriginApi> Upstream(const config::UpstreamSpec& spec) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(spec.url));
  auto token = ReadSecretLine(spec.token_file);
  if (!token.ok()) return token.status().Wrap("source.origin.token_file");
  client::OriginApiOptions options;
  options.ca_file = spec.ca;
  options.ca_hint = "set source.origin.ca to the PEM file of the CA that signed its certificate";
  options.token_hint = fmt::format(
      "source.origin.token_file ({}) must hold a token of role replicator (or admin) on {}: "
      "make one there with `zdapd token add NAME --role replicator`",
      spec.token_file, spec.url);
  options.user_agent = "zdapd/" ZDAP_VERSION;
  return client::OriginApi(std::move(url), std::move(*token), "", std::move(options));
}

}  // namespace

Result<std::vector<std::string>> OriginPull::HeldSnapshots() const {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> names, p_.store.ListSnapshots());
  std::vector<std::string> out;
  for (auto& n : names) {
    SnapshotId id;
    if (ParseSnapshotId(n, &id).ok() && id.resource == resource_.name) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<SourcePlan> OriginPull::Plan() {
  ZDAP_ASSIGN_OR_RETURN(client::OriginApi api, Upstream(upstream_));
  ZDAP_ASSIGN_OR_RETURN(api::Resource upstream, api.GetResource(upstream_.resource));
  if (upstream.engine != resource_.engine) {
    return Unprocessable(fmt::format(
        "resource {} follows {} on {}, whose engine is {}, not {}: the snapshots would not "
        "start here",
        resource_.name, upstream_.resource, upstream_.url, upstream.engine, resource_.engine));
  }
  if (upstream.snapshots.empty()) {
    return Conflict(fmt::format("{} has no snapshot of {} yet: refresh it there first",
                                upstream_.url, upstream_.resource));
  }
  const std::string& newest = upstream.snapshots.front().id;  // newest first
  {
    std::lock_guard lock(mu_);
    pull_.upstream_newest = newest;
    pull_.checked_at = p_.env.Now();
  }
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldSnapshots());
  SourcePlan plan;
  if (std::find(held.begin(), held.end(), newest) != held.end()) {
    plan.nothing_new = true;
    plan.existing = newest;
    return plan;
  }
  SnapshotId sid;
  if (Status st = ParseSnapshotId(newest, &sid); !st.ok() || sid.resource != resource_.name) {
    return Unprocessable(fmt::format("{} lists snapshot '{}' for resource {}: not one of its ids",
                                     upstream_.url, newest.substr(0, 80), upstream_.resource));
  }
  plan.id = newest;
  return plan;
}

Result<SourceResult> OriginPull::Build(const SourceRun& run) {
  run.Phase("pull");
  ZDAP_ASSIGN_OR_RETURN(client::OriginApi api, Upstream(upstream_));
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> held, HeldSnapshots());
  const std::vector<std::string> formats = p_.store.stream_formats();
  engine::ImportProgress* progress = run.job != nullptr ? &run.job->progress() : nullptr;

  std::unique_ptr<storage::SnapshotReceiver> receiver;
  // What the receiver's child said when it stopped taking bytes early (its error explains
  // a write that failed).
  auto receiver_failure = [&]() -> Status {
    Status st = receiver->Finish();
    receiver.reset();
    return st.ok() ? IoError("the receiver stopped reading before the stream ended") : st;
  };
  api::SnapshotStreamReader::Handlers handlers;
  handlers.on_header = [&](const api::StreamHeader& h) -> Status {
    if (h.snapshot != run.snapshot || h.resource != upstream_.resource) {
      return Unprocessable(fmt::format("{} sent snapshot {} of {}; {} was asked for", upstream_.url,
                                       h.snapshot, h.resource, run.snapshot));
    }
    if (std::find(formats.begin(), formats.end(), h.format) == formats.end()) {
      return Unprocessable(fmt::format("{} sent a {} stream, which this {} store cannot receive",
                                       upstream_.url, h.format, p_.store.name()));
    }
    if (!h.base.empty() && std::find(held.begin(), held.end(), h.base) == held.end()) {
      return Unprocessable(
          fmt::format("{} sent the difference from {}, which is not here", upstream_.url, h.base));
    }
    if (h.size > 0) {
      ZDAP_ASSIGN_OR_RETURN(storage::Space space, p_.store.StoreSpace());
      if (space.free_bytes < h.size) {
        return Unprocessable(fmt::format(
            "snapshot {} needs {} and the store at {} has {} free: make room (fewer snapshots "
            "kept, clones destroyed) or grow it",
            h.snapshot, HumanBytes(h.size), p_.store.root(), HumanBytes(space.free_bytes)));
      }
    }
    if (progress != nullptr) progress->bytes_total = static_cast<int64_t>(h.size);
    log::Info("refresh {}: pulling {} from {} as {}{}", resource_.name, h.snapshot, upstream_.url,
              h.format, h.base.empty() ? " (full)" : " (difference from " + h.base + ")");
    ZDAP_ASSIGN_OR_RETURN(receiver, p_.store.ReceiveSnapshot(run.snapshot, h.format));
    return Status::Ok();
  };
  Pacer pacer(p_.env, p_.pull_rate_limit);
  handlers.on_data = [&](std::string_view data) -> Status {
    const int fd = receiver->fd();
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return receiver_failure();
      data.remove_prefix(static_cast<size_t>(n));
      if (progress != nullptr) progress->bytes_done += n;
    }
    return Status::Ok();
  };
  api::SnapshotStreamReader reader(std::move(handlers));
  ScopedSigpipeBlock no_sigpipe;
  const SteadyTime started = p_.env.MonotonicNow();
  Status streamed = api.StreamSnapshot(upstream_.resource, run.snapshot, formats, held,
                                       [&](std::string_view piece) -> Status {
                                         ZDAP_RETURN_IF_ERROR(reader.Feed(piece));
                                         pacer.Took(piece.size());
                                         return Status::Ok();
                                       });
  if (streamed.ok()) streamed = reader.Finish();
  if (!streamed.ok()) {
    return streamed.Wrap(fmt::format("pulling {} from {} ({} of payload arrived)", run.snapshot,
                                     upstream_.url, HumanBytes(reader.payload_bytes())));
  }
  if (receiver == nullptr) return Internal("snapshot stream ended without a receiver");
  Status received = receiver->Finish();
  if (!received.ok()) return received.Wrap(fmt::format("receiving {}", run.snapshot));
  const double seconds = std::chrono::duration<double>(p_.env.MonotonicNow() - started).count();
  const api::StreamHeader& h = *reader.header();
  log::Info("refresh {}: pulled {} ({}, {}) in {:.1f} s, {}/s", resource_.name, run.snapshot,
            h.format, HumanBytes(reader.payload_bytes()), seconds,
            HumanBytes(static_cast<uint64_t>(static_cast<double>(reader.payload_bytes()) /
                                             std::max(seconds, 0.001))));
  {
    std::lock_guard lock(mu_);
    pull_.last_bytes = reader.payload_bytes();
    pull_.last_format = h.format;
    pull_.last_base = h.base;
    pull_.total_bytes += reader.payload_bytes();
  }
  SourceResult out;
  out.clone_lock =
      h.clone_lock_no_password ? engine::CloneLock::kNoPassword : engine::CloneLock::kConfig;
  out.data_as_of = h.data_as_of;
  out.origin = h.origin;
  return out;
}

}  // namespace zdap::origin
