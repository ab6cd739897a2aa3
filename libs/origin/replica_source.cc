#include "origin/replica_source.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include "core/log.h"
#include "origin/servers.h"

namespace zdap::origin {
namespace {

namespace sb = engine::standby;

std::string Seconds(std::chrono::seconds s) {
  if (s.count() % 3600 == 0) return fmt::format("{}h", s.count() / 3600);
  if (s.count() % 60 == 0) return fmt::format("{}m", s.count() / 60);
  return fmt::format("{}s", s.count());
}

}  // namespace

ReplicaSource::ReplicaSource(const config::Resource& resource, const SourceParts& parts)
    : resource_(resource), p_(parts), standby_(resource, parts) {
  state_.state = "not_synced";
  state_.detail = "the first refresh takes a base backup of the primary";
}

ReplicaSource::~ReplicaSource() {
  StopMonitor();
}

Status ReplicaSource::Adopt() {
  Status st = standby_.Recover();
  if (st.ok() && standby_.Synced()) StartMonitor();
  return st;
}

Status ReplicaSource::Stop(bool remove) {
  StopMonitor();
  return remove ? standby_.Remove() : standby_.StopServer();
}

SourceState ReplicaSource::State() const {
  std::lock_guard lock(mu_);
  return state_;
}

void ReplicaSource::StartMonitor() {
  if (monitor_.joinable()) return;
  stop_ = false;
  monitor_ = std::thread([this] {
    while (!stop_) {
      Poll();
      p_.env.WaitUntil(p_.env.Now() + kPollEvery, wake_);
    }
  });
}

void ReplicaSource::StopMonitor() {
  if (!monitor_.joinable()) return;
  stop_ = true;
  wake_.Wake();
  monitor_.join();
}

void ReplicaSource::Poll() {
  SourceState next;
  const SystemTime now = p_.env.Now();
  if (!standby_.running()) {
    next.state = "stopped";
    next.detail = "the standby's server is not running: zdapd starts it again at its next start";
  } else {
    Result<std::string> superuser = standby_.Superuser();
    Result<sb::FollowState> f = superuser.ok() ? sb::QueryFollowState(standby_.socket(), *superuser)
                                               : Result<sb::FollowState>(superuser.status());
    if (!f.ok()) {
      next.state = "stopped";
      next.detail = f.status().message();
    } else {
      next.lag_bytes = f->lag_bytes;
      next.last_replayed = f->last_replayed;
      if (f->lag_bytes == 0) {
        next.lag_seconds = 0;
      } else if (f->last_replayed) {
        next.lag_seconds =
            std::max(0.0, std::chrono::duration<double>(now - *f->last_replayed).count());
      }
      if (f->receiver == "streaming") {
        next.state = f->lag_bytes > kCatchingUpBytes ? "catching_up" : "streaming";
      } else {
        next.state = "disconnected";
        next.detail = fmt::format(
            "no WAL from the primary (WAL receiver: {}); it keeps WAL for slot {} meanwhile",
            f->receiver.empty() ? "not running" : f->receiver, standby_.spec().slot);
      }
    }
  }
  std::unique_lock lock(mu_);
  if (next.state == "disconnected" || next.state == "stopped") {
    next.disconnected_since = state_.disconnected_since.value_or(now);
    auto cut_off = std::chrono::duration_cast<std::chrono::seconds>(now - *next.disconnected_since);
    if (cut_off >= standby_.spec().max_disconnect) {
      next.detail += fmt::format(
          "; cut off for more than {} (replica.max_disconnect): the primary keeps every WAL "
          "segment since for slot {}. Set max_slot_wal_keep_size on the primary, or remove "
          "the standby (zdapd replica drop {})",
          Seconds(standby_.spec().max_disconnect), standby_.spec().slot, resource_.name);
      if (!disconnect_reported_) {
        log::Error("standby {}: {}", resource_.name, next.detail);
        disconnect_reported_ = true;
      }
    }
  } else {
    disconnect_reported_ = false;
  }
  const std::string previous = state_.state;
  state_ = std::move(next);
  if (state_.state == previous) return;
  const std::string now_state = state_.state;
  lock.unlock();  // observers must not wait on this lock
  log::Info("standby {}: {} (was {})", resource_.name, now_state, previous);
  ObserverSlot::Of(p_.observer)->StandbyStateChanged(resource_.name, now_state, previous);
}

Result<SourceResult> ReplicaSource::Build(const SourceRun& run) {
  auto phase = [&](const char* name) { run.Phase(name); };
  if (!standby_.Synced()) {
    ZDAP_RETURN_IF_ERROR(standby_.Sync(phase));
    StartMonitor();
  }
  ZDAP_RETURN_IF_ERROR(standby_.EnsureRunning());
  ZDAP_ASSIGN_OR_RETURN(std::string superuser, standby_.Superuser());
  const sb::Socket standby = standby_.socket();
  const sb::Primary primary = standby_.primary();

  // Every commit that returned before this point is in the snapshot: the standby replays up
  // to the primary's WAL position of now before the copy.
  run.Phase("checkpoint");
  std::optional<SystemTime> replayed_before;
  if (Status pw = sb::WritePassfile(standby_.spec(), primary.passfile, primary.run_as); !pw.ok()) {
    return pw;
  }
  auto target = sb::PrimaryPosition(standby.bin, primary);
  if (target.ok()) {
    ZDAP_RETURN_IF_ERROR(
        sb::WaitReplayed(p_.env, standby, superuser, *target,
                         std::chrono::duration_cast<std::chrono::milliseconds>(kCatchUpLimit)));
  } else {
    log::Warn("refresh {}: {}; the snapshot holds what the standby has", resource_.name,
              target.status().message());
  }
  if (auto f = sb::QueryFollowState(standby, superuser); f.ok()) replayed_before = f->last_replayed;
  ZDAP_RETURN_IF_ERROR(sb::Checkpoint(standby, superuser));

  run.Phase("snapshot");
  ZDAP_ASSIGN_OR_RETURN(std::string vol, p_.store.CopyLiveVolume(standby_.name(), run.snapshot));

  // The copy is a standby's data that stopped at one instant: a server on it replays its WAL
  // and ends recovery, on the unix socket only.
  run.Phase("promote");
  ServerStart start;
  start.resource = &resource_;
  start.data_dir = vol;
  start.run_dir = run.run_dir;
  start.port = p_.engine.default_port();
  start.label = run.label;
  ZDAP_ASSIGN_OR_RETURN(start.extra_args, standby_.HotStandbyArgs(vol));
  start.probe_user = standby_.spec().primary.user();
  start.start_deadline = std::chrono::minutes(10);
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle server, p_.servers.StartAndWait(start));
  const std::optional<RunAs>& run_as = p_.servers.run_as();
  const RunAs who = run_as.value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
  sb::Socket scratch = standby;
  scratch.endpoint.socket_dir = run.run_dir;
  const bool masks = !resource_.source.after.empty();
  std::optional<SystemTime> data_as_of;
  auto readied = [&]() -> Result<bool> {
    ZDAP_ASSIGN_OR_RETURN(data_as_of, sb::Promote(scratch, superuser));
    ZDAP_RETURN_IF_ERROR(
        sb::EnsureResourceUser(scratch, superuser, resource_.user, resource_.source.database));
    if (masks) {
      run.Phase("after");
      ZDAP_RETURN_IF_ERROR(p_.engine.RunAfter(resource_, scratch.endpoint, who));
      run.Phase("wipe");
      ZDAP_RETURN_IF_ERROR(p_.engine.ForgetReplaced(resource_, scratch.endpoint, who));
    }
    return p_.engine.PrepareSnapshot(resource_, scratch.endpoint, vol, run_as);
  }();
  if (!readied.ok()) {
    (void)p_.servers.StopScratch(server, resource_, vol, run.run_dir, /*clean=*/false);
    return readied.status();
  }
  run.Phase("stop");
  ZDAP_RETURN_IF_ERROR(p_.servers.StopScratch(server, resource_, vol, run.run_dir, /*clean=*/true));
  if (masks) ZDAP_RETURN_IF_ERROR(p_.engine.ForgetHistory(resource_, vol, who));
  // The standby's own files that no clone needs: its settings came from the command line.
  (void)p_.env.RemoveFile(vol + "/standby.signal");
  p_.env.SyncAll();
  SourceResult result;
  // The last commit the copy replayed; without one since its restartpoint, the last the
  // standby had replayed before the copy.
  result.data_as_of = data_as_of ? data_as_of : replayed_before;
  if (*readied) result.clone_lock = engine::CloneLock::kNoPassword;
  return result;
}

}  // namespace zdap::origin
