#include "origin/refresher.h"

#include <fmt/format.h>

#include "core/file_lock.h"
#include "core/log.h"

namespace zdap::origin {

Result<std::unique_ptr<Refresher>> Refresher::Make(RefresherParts parts) {
  std::unique_ptr<Refresher> r(new Refresher(std::move(parts)));
  ZDAP_ASSIGN_OR_RETURN(r->records_, RefreshRecords::Open(r->p_.env, r->p_.records_dir));
  for (const auto& res : r->p_.resources.all()) {
    SourceParts sp{r->p_.env,      r->p_.store,
                   r->p_.servers,  r->p_.resources.EngineFor(res),
                   r->p_.observer, r->p_.pull_rate_limit};
    ZDAP_ASSIGN_OR_RETURN(r->sources_[res.name], r->p_.make_source(res, sp));
  }
  return r;
}

Refresher::~Refresher() {
  std::lock_guard lock(threads_mu_);
  for (auto& [job, thread] : threads_) thread.join();
}

Source& Refresher::SourceOf(const config::Resource& resource) const {
  return *sources_.at(resource.name);
}

std::string Refresher::LockPath(const std::string& resource) const {
  return p_.locks_dir + "/refresh-" + resource;
}

bool Refresher::Running(const std::string& resource) const {
  return !FileLock::Acquire(LockPath(resource), false, "").ok();
}

Result<std::string> Refresher::Refresh(const std::string& resource) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(resource));
  return Run(*res, nullptr);
}

Result<JobInfo> Refresher::Start(const std::string& resource, const std::string& actor) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(resource));
  ZDAP_ASSIGN_OR_RETURN(std::shared_ptr<Job> job, jobs_.Begin(res->name));
  JobInfo info = job->Info();
  std::lock_guard lock(threads_mu_);
  // Threads of finished jobs are at their end: join them here rather than keep them.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->first->finished()) {
      it->second.join();
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
  log::Info("refresh {}: job {} queued", res->name, job->id());
  ObserverSlot::Of(p_.observer)->RefreshStarted(info, actor);
  threads_.emplace_back(job, std::thread([this, res, job] {
                          job->Start();
                          auto id = Run(*res, job.get());
                          if (id.ok()) {
                            job->Succeed(*id);
                            log::Info("refresh {}: job {} done: snapshot {}", res->name, job->id(),
                                      *id);
                          } else {
                            job->Fail(id.status().message());
                            log::Error("refresh {}: job {} failed", res->name, job->id());
                          }
                          JobInfo finished = job->Info();
                          if (observer_) observer_(finished);
                          ObserverSlot::Of(p_.observer)->RefreshFinished(finished);
                        }));
  return info;
}

Result<JobInfo> Refresher::GetJob(const std::string& id) const {
  return jobs_.Get(id);
}

std::vector<JobInfo> Refresher::Jobs() const {
  return jobs_.List();
}

Result<std::string> Refresher::Run(const config::Resource& resource, Job* job) {
  ZDAP_ASSIGN_OR_RETURN(
      FileLock lock,
      FileLock::Acquire(LockPath(resource.name), false,
                        fmt::format("a refresh of '{}' is already running", resource.name)));
  const SteadyTime started = p_.env.MonotonicNow();
  Result<std::string> id = RunLocked(resource, job);
  RefreshOutcome outcome;
  outcome.ok = id.ok();
  outcome.finished_at = p_.env.Now();
  outcome.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(p_.env.MonotonicNow() - started);
  if (id.ok()) {
    outcome.snapshot = *id;
  } else {
    outcome.error = id.status().message();
  }
  records_->Record(resource.name, outcome);
  return id;
}

Result<std::string> Refresher::RunLocked(const config::Resource& resource, Job* job) {
  Source& source = SourceOf(resource);
  ZDAP_ASSIGN_OR_RETURN(SourcePlan plan, source.Plan());
  if (plan.nothing_new) {
    log::Info("refresh {}: nothing newer than {}", resource.name, plan.existing);
    return plan.existing;
  }
  SourceRun run;
  run.snapshot = plan.id.empty() ? p_.snapshots.NewId(resource.name) : plan.id;
  run.label = ScratchName(resource.name);
  run.run_dir = p_.servers.RunDir(run.label);
  run.job = job;
  const std::string& id = run.snapshot;
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry,
                        p_.journal.Begin("refresh", resource.name, {{"volume", id}}));
  const SteadyTime started = p_.env.MonotonicNow();
  log::Info("refresh {}: from its {} source into {}", resource.name, source.kind(), id);
  SourceResult built;
  auto body = [&]() -> Status {
    ZDAP_RETURN_IF_ERROR(p_.servers.PrepareRunDir(run.run_dir));
    ZDAP_ASSIGN_OR_RETURN(built, source.Build(run));
    run.Phase(source.seal_phase());
    return p_.store.SealVolume(id, id);
  };
  Status st = body();
  if (!st.ok()) {
    log::Error("refresh {} failed: {}", resource.name, st.message());
    bool undone = true;  // else the journal entry stays for Recovery
    if (p_.env.FileExists(p_.store.VolumePath(id))) {
      Status d = p_.store.DestroyVolume(id);
      if (!d.ok()) {
        undone = false;
        log::Error("refresh {}: cleanup of volume {} failed: {}", resource.name, id, d.message());
      }
    }
    (void)p_.env.RemoveTree(run.run_dir);
    if (undone) (void)p_.journal.Commit(entry);
    return st.Wrap(fmt::format("refresh {}", resource.name));
  }
  // Kept with the snapshot; the snapshot is whole without it. Without it (a failed write)
  // the snapshot's clones take the kConfig start, right for any data.
  Status meta = p_.snapshots.WriteMeta(
      id, SnapshotMeta{resource.name, built.clone_lock, "", built.data_as_of, built.origin});
  if (!meta.ok()) log::Warn("refresh {}: snapshot metadata: {}", resource.name, meta.message());
  (void)p_.env.RemoveTree(run.run_dir);
  (void)p_.journal.Commit(entry);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p_.env.MonotonicNow() - started)
                .count();
  log::Info("refresh {}: snapshot {} ready in {} ms", resource.name, id, ms);
  p_.snapshots.Prune(resource);
  return id;
}

}  // namespace zdap::origin
