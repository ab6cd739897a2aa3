// Pools: ready unowned clones of the newest snapshot, kept by the scheduler's maintenance
// pass, and the claim that hands one over (or falls back to a normal create).
#include <fmt/format.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <future>

#include "core/clone_password.h"
#include "core/file_util.h"
#include "core/log.h"
#include "origin/busy.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

// After a failed refill, the next try waits this long (a broken resource is not retried
// every second).
constexpr auto kRefillBackoff = std::chrono::seconds(30);

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

PoolCounts Origin::PoolCountsOf(const config::Resource& resource) const {
  PoolCounts c;
  c.min = resource.pool_min;
  c.max = resource.pool_max;
  auto snaps = Snapshots(resource.name);
  std::string newest = snaps.ok() && !snaps->empty() ? snaps->front().id : "";
  for (const auto& r : catalog_->List()) {
    if (!r.pooled || r.resource != resource.name) continue;
    if (r.state == CloneState::kCreating) {
      ++c.making;
    } else if (r.state == CloneState::kReady) {
      ++(r.snapshot == newest ? c.fresh_ready : c.stale_ready);
    }
  }
  return c;
}

int Origin::PoolReady(const std::string& resource) const {
  auto res = FindResource(resource);
  return res.ok() ? PoolCountsOf(**res).fresh_ready : 0;
}

void Origin::MaintainPools(SystemTime now) {
  const Caller daemon{"zdapd", true};
  for (const auto& res : resources_) {
    PoolCounts counts = PoolCountsOf(res);
    if (counts.min == 0 && counts.max == 0 && counts.fresh_ready == 0 && counts.stale_ready == 0)
      continue;
    auto snaps = Snapshots(res.name);
    if (!snaps.ok() || snaps->empty()) continue;  // nothing to fill from yet
    const std::string newest = snaps->front().id;
    PoolPlan plan = PlanPool(counts);
    int trim = plan.destroy_fresh;
    for (const auto& r : catalog_->List()) {
      if (!r.pooled || r.resource != res.name || r.state != CloneState::kReady) continue;
      bool stale = r.snapshot != newest;
      if (!stale && trim == 0) continue;
      log::Info("pool {}: destroying {} pool clone {}", res.name, stale ? "stale" : "surplus",
                r.id);
      // Busy (a claim has it): skipped; the next pass sees what is left.
      if (DestroyClone(r.id, daemon).ok() && !stale) --trim;
    }
    auto retry = pool_retry_at_.find(res.name);
    if (plan.start == 0 || (retry != pool_retry_at_.end() && now < retry->second)) continue;
    for (int i = 0; i < plan.start; ++i) {
      CreateCloneRequest req;
      req.resource = res.name;
      req.snapshot = newest;
      req.pooled = true;
      auto rec = CreateClone(req, daemon);
      if (!rec.ok()) {
        log::Error("pool {}: refill failed (next try in {} s): {}", res.name,
                   kRefillBackoff.count(), rec.status().message());
        pool_retry_at_[res.name] = now + kRefillBackoff;
        break;
      }
      pool_retry_at_.erase(res.name);
      log::Info("pool {}: clone {} of {} is ready", res.name, rec->id, newest);
    }
  }
}

std::string Origin::StagedSecretPath(const std::string& clone) const {
  return SecretPath(clone) + ".next";
}

Status Origin::HandOver(CloneRecord& rec, std::chrono::seconds ttl, const Caller& caller,
                        const std::string& chosen) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(rec.resource));
  ZDAP_ASSIGN_OR_RETURN(std::string password, NewClonePassword(chosen));
  engine::Endpoint socket;
  socket.socket_dir = RunDir(rec.id);
  socket.port = rec.port;
  // The new password is staged in its own 0600 file before the server takes it, and
  // replaces the clone's secret file in one rename once it is in force: after a kill -9 in
  // between, Recover() restarts the (still pooled) server with the secret file's password,
  // so the file never names a password the server refuses. The staged file needs no fsync:
  // after a machine crash every server starts with its secret file's password anyway.
  const std::string staged = StagedSecretPath(rec.id);
  const std::string secret = SecretPath(rec.id);
  ZDAP_RETURN_IF_ERROR(ReplaceFile(staged, password, 0600));
  // The new secret file is on disk before the record that hands the clone over: a record
  // that names the claimer beside a secret file that a machine crash took back to the old
  // password would start the claimer's clone with the pool's password. Its content's fsync
  // runs beside the password exchange (it only has to precede the rename's).
  std::future<Status> content_synced =
      std::async(std::launch::async, [&staged] { return SyncFile(staged); });
  Status st = EngineFor(*res)->RotatePassword(*res, socket, store_->ClonePath(rec.Volume()),
                                              password, run_as_, std::chrono::seconds(10));
  if (Status synced = content_synced.get(); st.ok()) st = synced;
  if (st.ok() && ::rename(staged.c_str(), secret.c_str()) != 0) {
    st = ErrnoError("rename " + staged, errno);
  }
  if (st.ok()) st = SyncDir(std::filesystem::path(secret).parent_path().string());
  if (!st.ok()) {
    ::unlink(staged.c_str());
    return st;
  }
  RememberClonePassword(rec.id, password);
  SystemTime now = env_->Now();
  rec.owner = caller.user;
  rec.pooled = false;
  rec.expires_at.reset();
  if (ttl.count() > 0) rec.expires_at = now + ttl;
  // The volume's metadata does not name the owner: the record is all there is to write.
  ZDAP_RETURN_IF_ERROR(catalog_->Update(rec));  // the commit point
  idle_.Touch(rec.id, now);
  return Status::Ok();
}

Result<CloneRecord> Origin::ClaimClone(const std::string& resource,
                                       std::optional<std::chrono::seconds> ttl,
                                       const Caller& caller, const std::string& password) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(resource));
  if (!password.empty()) ZDAP_RETURN_IF_ERROR(ValidateClonePassword(password));
  ZDAP_ASSIGN_OR_RETURN(std::chrono::seconds lifetime, ResolveTtl(*res, ttl));
  ZDAP_RETURN_IF_ERROR(CheckQuota(*res, caller, false));
  ZDAP_ASSIGN_OR_RETURN(auto snaps, Snapshots(res->name));
  std::string newest = snaps.empty() ? "" : snaps.front().id;
  auto started = SteadyClock::now();
  for (const auto& candidate : catalog_->List()) {
    if (!candidate.pooled || candidate.resource != res->name ||
        candidate.state != CloneState::kReady || candidate.snapshot != newest) {
      continue;
    }
    BusyGuard busy(busy_mu_, busy_, candidate.id);
    if (!busy.acquired()) continue;  // another claim (or a trim) has it
    auto rec = catalog_->Get(candidate.id);
    if (!rec || !rec->pooled || rec->state != CloneState::kReady) continue;
    // Journalled first: after a kill -9 the clone is the claimer's (the record says so) or
    // still pooled, its server restarted with the password of its secret file. Not synced:
    // a machine crash stops every server, and Recover() starts each with its secret file's
    // password, which is all the entry would have it do.
    auto entry = journal_->Begin(
        "claim", rec->id, {{"clone", rec->id}, {"resource", rec->resource}, {"owner", caller.user}},
        JournalWrite{.sync = false});
    if (!entry.ok()) return entry.status().Wrap(fmt::format("claim of {}", res->name));
    const CloneRecord pooled = *rec;
    Status st = HandOver(*rec, lifetime, caller, password);
    if (!st.ok()) {
      if (pool_kick_) pool_kick_();
      // The pool clone is in an unknown state: it goes (the one crash-safe teardown), and
      // the next one is tried.
      log::Error("claim of pool clone {} failed: {}; destroying it", rec->id, st.message());
      Status undo = Destroy(pooled);
      if (!undo.ok()) log::Error("pool clone {}: teardown failed: {}", rec->id, undo.message());
      (void)journal_->Commit(*entry);  // what is left is the destroy's entry
      continue;
    }
    if (Status done = journal_->Commit(*entry); !done.ok()) {
      log::Error("claim of {}: journal: {}", rec->id, done.message());
    }
    // The refill starts after the hand-over, not beside it.
    if (pool_kick_) pool_kick_();
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
    log::Info("clone {} claimed from the pool of {} in {} ms (owner {})", rec->id, res->name, ms,
              caller.user);
    return *rec;
  }
  if (pool_kick_ && res->pool_min > 0) pool_kick_();
  log::Info("claim of {}: the pool is empty; creating a clone", res->name);
  CreateCloneRequest req;
  req.resource = res->name;
  req.ttl = ttl;
  req.password = password;
  return CreateClone(req, caller);
}

}  // namespace zdap::origin
