#include "origin/pools.h"

#include <fmt/format.h>

#include <future>

#include "core/clone_password.h"
#include "core/log.h"

namespace zdap::origin {
namespace {

// After a failed refill, the next try waits this long (a broken resource is not retried
// every second).
constexpr auto kRefillBackoff = std::chrono::seconds(30);

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

void Pools::Kick() const {
  if (kick_) kick_();
}

PoolCounts Pools::CountsOf(const config::Resource& resource) const {
  PoolCounts c;
  c.min = resource.pool_min;
  c.max = resource.pool_max;
  auto snaps = p_.snapshots.List(resource.name);
  std::string newest = snaps.ok() && !snaps->empty() ? snaps->front().id : "";
  for (const auto& r : p_.catalog.List()) {
    if (!r.pooled || r.resource != resource.name) continue;
    if (r.state == CloneState::kCreating) {
      ++c.making;
    } else if (r.state == CloneState::kReady) {
      ++(r.snapshot == newest ? c.fresh_ready : c.stale_ready);
    }
  }
  return c;
}

int Pools::Ready(const std::string& resource) const {
  auto res = p_.resources.Find(resource);
  return res.ok() ? CountsOf(**res).fresh_ready : 0;
}

void Pools::Maintain(SystemTime now) {
  const Caller daemon = DaemonCaller();
  for (const auto& res : p_.resources.all()) {
    PoolCounts counts = CountsOf(res);
    if (counts.min == 0 && counts.max == 0 && counts.fresh_ready == 0 && counts.stale_ready == 0)
      continue;
    auto snaps = p_.snapshots.List(res.name);
    if (!snaps.ok() || snaps->empty()) continue;  // nothing to fill from yet
    const std::string newest = snaps->front().id;
    PoolPlan plan = PlanPool(counts);
    int trim = plan.destroy_fresh;
    for (const auto& r : p_.catalog.List()) {
      if (!r.pooled || r.resource != res.name || r.state != CloneState::kReady) continue;
      bool stale = r.snapshot != newest;
      if (!stale && trim == 0) continue;
      log::Info("pool {}: destroying {} pool clone {}", res.name, stale ? "stale" : "surplus",
                r.id);
      // Busy (a claim has it): skipped; the next pass sees what is left.
      if (p_.clones.Destroy(r.id, daemon).ok() && !stale) --trim;
    }
    {
      std::lock_guard lock(retry_mu_);
      auto retry = retry_at_.find(res.name);
      if (plan.start == 0 || (retry != retry_at_.end() && now < retry->second)) continue;
    }
    for (int i = 0; i < plan.start; ++i) {
      CreateCloneRequest req;
      req.resource = res.name;
      req.snapshot = newest;
      req.pooled = true;
      auto made = p_.clones.Create(req, daemon);
      std::lock_guard lock(retry_mu_);
      if (!made.ok()) {
        log::Error("pool {}: refill failed (next try in {} s): {}", res.name,
                   kRefillBackoff.count(), made.status().message());
        retry_at_[res.name] = now + kRefillBackoff;
        break;
      }
      retry_at_.erase(res.name);
      log::Info("pool {}: clone {} of {} is ready", res.name, made->id, newest);
    }
  }
}

Status Pools::HandOver(CloneRecord& rec, std::chrono::seconds ttl, const Caller& caller,
                       const std::string& chosen) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(rec.resource));
  ZDAP_ASSIGN_OR_RETURN(std::string password, SecretStore::NewPassword(chosen));
  engine::Endpoint socket;
  socket.socket_dir = p_.servers.RunDir(rec.id);
  socket.port = rec.port;
  // The new password is staged in its own 0600 file before the server takes it, and
  // replaces the clone's secret file in one rename once it is in force: after a kill -9 in
  // between, Recovery restarts the (still pooled) server with the secret file's password,
  // so the file never names a password the server refuses. The staged file needs no fsync:
  // after a machine crash every server starts with its secret file's password anyway.
  ZDAP_RETURN_IF_ERROR(p_.secrets.StageNext(rec.id, password));
  // The new secret file is on disk before the record that hands the clone over: a record
  // that names the claimer beside a secret file that a machine crash took back to the old
  // password would start the claimer's clone with the pool's password. Its content's fsync
  // runs beside the password exchange (it only has to precede the rename's).
  std::future<Status> content_synced =
      std::async(std::launch::async, [this, &rec] { return p_.secrets.SyncNext(rec.id); });
  Status st = p_.resources.EngineFor(*res).RotatePassword(
      *res, socket, p_.store.ClonePath(rec.Volume()), password, p_.servers.run_as(),
      std::chrono::seconds(10));
  if (Status synced = content_synced.get(); st.ok()) st = synced;
  if (st.ok()) st = p_.secrets.CommitNext(rec.id, password);
  if (!st.ok()) {
    p_.secrets.DropNext(rec.id);
    return st;
  }
  SystemTime now = p_.env.Now();
  rec.owner = caller.user;
  rec.pooled = false;
  rec.expires_at.reset();
  if (ttl.count() > 0) rec.expires_at = now + ttl;
  // The volume's metadata does not name the owner: the record is all there is to write.
  ZDAP_RETURN_IF_ERROR(p_.catalog.Update(rec));  // the commit point
  p_.idle.Touch(rec.id, now);
  return Status::Ok();
}

Result<ClaimResult> Pools::Claim(const std::string& resource,
                                 std::optional<std::chrono::seconds> ttl, const Caller& caller,
                                 const std::string& password) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(resource));
  if (!password.empty()) ZDAP_RETURN_IF_ERROR(ValidateClonePassword(password));
  ZDAP_ASSIGN_OR_RETURN(std::chrono::seconds lifetime, CloneTtl(*res, ttl));
  ZDAP_RETURN_IF_ERROR(p_.quota.Check(*res, caller, false));
  ZDAP_ASSIGN_OR_RETURN(auto snaps, p_.snapshots.List(res->name));
  std::string newest = snaps.empty() ? "" : snaps.front().id;
  const SteadyTime started = p_.env.MonotonicNow();
  for (const auto& candidate : p_.catalog.List()) {
    if (!candidate.pooled || candidate.resource != res->name ||
        candidate.state != CloneState::kReady || candidate.snapshot != newest) {
      continue;
    }
    BusyGuard busy(p_.busy, candidate.id);
    if (!busy.acquired()) continue;  // another claim (or a trim) has it
    auto rec = p_.catalog.Get(candidate.id);
    if (!rec || !rec->pooled || rec->state != CloneState::kReady) continue;
    // Journalled first: after a kill -9 the clone is the claimer's (the record says so) or
    // still pooled, its server restarted with the password of its secret file. Not synced:
    // a machine crash stops every server, and Recovery starts each with its secret file's
    // password, which is all the entry would have it do.
    auto entry = p_.journal.Begin(
        "claim", rec->id, {{"clone", rec->id}, {"resource", rec->resource}, {"owner", caller.user}},
        JournalWrite{.sync = false});
    if (!entry.ok()) return entry.status().Wrap(fmt::format("claim of {}", res->name));
    const CloneRecord pooled = *rec;
    Status st = HandOver(*rec, lifetime, caller, password);
    if (!st.ok()) {
      Kick();
      // The pool clone is in an unknown state: it goes (the one crash-safe teardown), and
      // the next one is tried.
      log::Error("claim of pool clone {} failed: {}; destroying it", rec->id, st.message());
      Status undo = p_.clones.DestroyHeld(pooled);
      if (!undo.ok()) log::Error("pool clone {}: teardown failed: {}", rec->id, undo.message());
      (void)p_.journal.Commit(*entry);  // what is left is the destroy's entry
      continue;
    }
    if (Status done = p_.journal.Commit(*entry); !done.ok()) {
      log::Error("claim of {}: journal: {}", rec->id, done.message());
    }
    // The refill starts after the hand-over, not beside it.
    Kick();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p_.env.MonotonicNow() - started)
                  .count();
    log::Info("clone {} claimed from the pool of {} in {} ms (owner {})", rec->id, res->name, ms,
              caller.user);
    ObserverSlot::Of(p_.observer)->CloneCreated(*rec, caller.user);
    return ClaimResult{p_.views.Of(*rec, caller), true};
  }
  if (res->pool_min > 0) Kick();
  log::Info("claim of {}: the pool is empty; creating a clone", res->name);
  if (res->pool_min > 0) ObserverSlot::Of(p_.observer)->PoolExhausted(res->name);
  CreateCloneRequest req;
  req.resource = res->name;
  req.ttl = ttl;
  req.password = password;
  ZDAP_ASSIGN_OR_RETURN(CloneView made, p_.clones.Create(req, caller));
  return ClaimResult{std::move(made), false};
}

}  // namespace zdap::origin
