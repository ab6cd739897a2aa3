// Origin::Refresh and snapshot retention: an import into a new volume that only becomes a
// snapshot once whole, and the pruning of snapshots past `refresh.keep`.
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

// In a snapshot's metadata: how its fresh clones keep TCP closed until their password is set
// (engine::CloneLock). Absent in snapshots made before Engine::PrepareSnapshot, and in
// branches: both hold a password.
constexpr const char* kCloneLockKey = "clone_lock";
constexpr const char* kCloneLockNoPassword = "no-password";

}  // namespace

engine::CloneLock Origin::FreshCloneLock(const std::string& snapshot) const {
  {
    std::lock_guard lock(clone_locks_mu_);
    if (auto it = clone_locks_.find(snapshot); it != clone_locks_.end()) return it->second;
  }
  auto meta = store_->ReadMeta(storage::Area::kSnapshot, snapshot);
  if (!meta.ok()) return engine::CloneLock::kConfig;  // not kept: the next read may succeed
  auto it = meta->find(kCloneLockKey);
  auto lock = it != meta->end() && it->second == kCloneLockNoPassword
                  ? engine::CloneLock::kNoPassword
                  : engine::CloneLock::kConfig;
  std::lock_guard guard(clone_locks_mu_);
  clone_locks_[snapshot] = lock;
  return lock;
}

void Origin::ForgetCloneLock(const std::string& snapshot) {
  std::lock_guard lock(clone_locks_mu_);
  clone_locks_.erase(snapshot);
}

Result<std::string> Origin::Refresh(const std::string& resource_name) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(resource_name));
  return RunRefresh(*res, nullptr);
}

Result<JobInfo> Origin::StartRefresh(const std::string& resource_name) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(resource_name));
  ZDAP_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, jobs_.Begin(res->name));
  JobInfo info = job->Info();
  std::lock_guard lock(job_threads_mu_);
  // Threads of finished jobs are at their end: join them here rather than keep them.
  for (auto it = job_threads_.begin(); it != job_threads_.end();) {
    if (it->first->finished()) {
      it->second.join();
      it = job_threads_.erase(it);
    } else {
      ++it;
    }
  }
  log::Info("refresh {}: job {} queued", res->name, job->id());
  job_threads_.emplace_back(job, std::thread([this, res, job] {
                              job->Start();
                              engine::ScopedImportProgress report(&job->progress());
                              auto id = RunRefresh(*res, job.get());
                              if (id.ok()) {
                                job->Succeed(*id);
                                log::Info("refresh {}: job {} done: snapshot {}", res->name,
                                          job->id(), *id);
                              } else {
                                job->Fail(id.status().message());
                                log::Error("refresh {}: job {} failed", res->name, job->id());
                              }
                              if (job_observer_) job_observer_(job->Info());
                            }));
  return info;
}

Result<JobInfo> Origin::GetJob(const std::string& id) const {
  return jobs_.Get(id);
}

std::vector<JobInfo> Origin::ListJobs() const {
  return jobs_.List();
}

Status Origin::DeleteSnapshot(const std::string& resource, const std::string& id) {
  ZDAP_RETURN_IF_ERROR(FindResource(resource).status());
  ZDAP_ASSIGN_OR_RETURN(auto snaps, Snapshots(resource));
  auto it =
      std::find_if(snaps.begin(), snaps.end(), [&](const SnapshotInfo& s) { return s.id == id; });
  if (it == snaps.end()) {
    return NotFound(
        fmt::format("snapshot '{}' of resource '{}' not found", id.substr(0, 80), resource));
  }
  if (it->clones > 0) {
    return Conflict(
        fmt::format("snapshot '{}' has {} clone(s); destroy them first", id, it->clones));
  }
  std::lock_guard lock(prune_mu_);
  ZDAP_RETURN_IF_ERROR(store_->DestroySnapshot(id));
  ForgetCloneLock(id);
  log::Info("snapshot {} deleted", id);
  return Status::Ok();
}

Result<std::string> Origin::RunRefresh(const config::Resource& resource, Job* job) {
  auto phase = [job](const char* p) {
    if (job != nullptr) job->SetPhase(p);
  };
  ZDAP_ASSIGN_OR_RETURN(
      FileLock lock, FileLock::Acquire(config_.data_dir + "/locks/refresh-" + resource.name, false,
                                       fmt::format("a refresh of '{}' is already "
                                                   "running",
                                                   resource.name)));
  std::string id = NewSnapshotId(resource);
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry,
                        journal_->Begin("refresh", resource.name, {{"volume", id}}));
  auto started = SteadyClock::now();
  log::Info("refresh {}: importing into {}", resource.name, id);
  std::string run_dir = RunDir("import-" + resource.name);
  engine::Engine* engine = EngineFor(resource);
  std::optional<runtime::ServerHandle> server;
  std::string vol;
  bool volume_made = false;

  auto body = [&]() -> Status {
    ZDAP_RETURN_IF_ERROR(PrepareRunDir(run_dir));
    ZDAP_ASSIGN_OR_RETURN(vol, store_->CreateVolume(id));
    volume_made = true;
    ZDAP_RETURN_IF_ERROR(ChownToServerUser(vol));
    if (::chmod(vol.c_str(), 0700) != 0) return ErrnoError("chmod " + vol, errno);
    RunAs who = run_as_.value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
    ZDAP_RETURN_IF_ERROR(engine->InitDataDir(resource, vol, run_dir, who));
    // The import server listens on its unix socket only: nobody else can see a half import.
    ZDAP_ASSIGN_OR_RETURN(server, StartAndWait(resource, vol, run_dir, "", engine->default_port(),
                                               "import-" + resource.name, ""));
    engine::Endpoint ep;
    ep.socket_dir = run_dir;
    ep.port = engine->default_port();
    Status imported = engine->Import(resource, ep, who);
    if (!imported.ok()) return imported;
    ZDAP_ASSIGN_OR_RETURN(bool readied, engine->PrepareSnapshot(resource, ep, vol, run_as_));
    ZDAP_ASSIGN_OR_RETURN(
        auto spec, engine->ServerCommand(resource, vol, run_dir, "", engine->default_port()));
    phase("stop");
    ZDAP_RETURN_IF_ERROR(runtime_->Stop(*server, vol, spec.stop_signal, kStopGrace));
    server.reset();
    // initdb ran with --no-sync; make the data durable before it becomes a snapshot.
    phase("snapshot");
    ::sync();
    ZDAP_RETURN_IF_ERROR(store_->SealVolume(id, id));
    // Kept with the snapshot (storage/driver.h VolumeMeta); the snapshot is whole without it.
    // Without it (a failed write) the snapshot's clones take the kConfig start, right for any
    // data.
    storage::VolumeMeta snapshot_meta = {{"resource", resource.name}, {"state", "sealed"}};
    if (readied) snapshot_meta[kCloneLockKey] = kCloneLockNoPassword;
    Status meta = store_->WriteMeta(storage::Area::kSnapshot, id, snapshot_meta);
    if (!meta.ok()) log::Warn("refresh {}: snapshot metadata: {}", resource.name, meta.message());
    return Status::Ok();
  };
  Status st = body();
  if (!st.ok()) {
    log::Error("refresh {} failed: {}", resource.name, st.message());
    if (server) (void)runtime_->Stop(*server, vol, SIGKILL, std::chrono::seconds(10));
    bool undone = true;  // else the journal entry stays for Recover()
    if (volume_made) {
      Status d = store_->DestroyVolume(id);
      if (!d.ok()) {
        undone = false;
        log::Error("refresh {}: cleanup of volume {} failed: {}", resource.name, id, d.message());
      }
    }
    (void)RemoveTree(run_dir);
    if (undone) (void)journal_->Commit(entry);
    return st.Wrap(fmt::format("refresh {}", resource.name));
  }
  (void)RemoveTree(run_dir);
  (void)journal_->Commit(entry);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  log::Info("refresh {}: snapshot {} ready in {} ms", resource.name, id, ms);

  PruneSnapshots(resource);
  return id;
}

void Origin::PruneSnapshots(const config::Resource& resource) {
  // Keep `keep` snapshots; an older one with clones stays until it has none.
  std::lock_guard lock(prune_mu_);
  auto snaps = Snapshots(resource.name);
  if (!snaps.ok()) return;
  for (size_t i = static_cast<size_t>(resource.keep); i < snaps->size(); ++i) {
    const auto& s = (*snaps)[i];
    if (s.clones > 0) continue;
    Status d = store_->DestroySnapshot(s.id);
    if (d.ok()) ForgetCloneLock(s.id);
    if (d.ok())
      log::Info("refresh {}: removed old snapshot {}", resource.name, s.id);
    else
      log::Warn("refresh {}: could not remove old snapshot {}: {}", resource.name, s.id,
                d.message());
  }
}

}  // namespace zdap::origin
