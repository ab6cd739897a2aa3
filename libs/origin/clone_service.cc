// CloneService: create (record first, then volume, server, readiness), get, list, destroy.
#include "origin/clone_service.h"

#include <fmt/format.h>

#include <future>
#include <random>

#include "core/clone_password.h"
#include "core/log.h"
#include "core/names.h"

namespace zdap::origin {
namespace {

std::string RandomSuffix() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{:04x}", rng() & 0xffff);
}

int64_t MillisSince(Env& env, SteadyTime started) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(env.MonotonicNow() - started)
      .count();
}

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

Result<CloneView> CloneService::Create(const CreateCloneRequest& req, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(req.resource));
  const config::Resource& resource = *res;
  ZDAP_ASSIGN_OR_RETURN(std::string snapshot, p_.snapshots.Resolve(resource, req.snapshot));
  if (!req.password.empty()) ZDAP_RETURN_IF_ERROR(ValidateClonePassword(req.password));
  std::chrono::seconds ttl{0};  // a pool clone's expiry starts when it is claimed
  if (!req.pooled) {
    ZDAP_ASSIGN_OR_RETURN(ttl, CloneTtl(resource, req.ttl));
    ZDAP_RETURN_IF_ERROR(p_.quota.Check(resource, caller, req.is_protected));
  }
  std::string id = req.name;
  if (!id.empty()) {
    ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  } else {
    std::string base = resource.name.substr(0, 58);
    for (int i = 0; i < 20 && (id.empty() || p_.catalog.Get(id)); ++i)
      id = base + "-" + RandomSuffix();
  }
  BusyGuard busy(p_.busy, id);
  if (!busy.acquired() || p_.catalog.Get(id)) {
    return Conflict(fmt::format("clone '{}' already exists", id));
  }
  ZDAP_ASSIGN_OR_RETURN(int port, p_.ports.Allocate());

  CloneRecord rec;
  rec.id = id;
  rec.resource = resource.name;
  rec.snapshot = snapshot;
  rec.owner = req.pooled ? "" : caller.user;
  rec.pooled = req.pooled;
  rec.state = CloneState::kCreating;
  rec.port = port;
  rec.created_at = p_.env.Now();
  if (ttl.count() > 0) rec.expires_at = rec.created_at + ttl;
  rec.is_protected = req.is_protected;
  // The journal entry, then the record, are written first: after a crash, Recovery finds
  // them and undoes the rest. The entry is not synced (two fsyncs fewer before the clone is
  // ready): it is for a kill -9, which the page cache survives; after a machine crash the
  // record, synced by Insert before anything is made, is undone by Recovery just the same.
  auto entry = p_.journal.Begin(
      "create", id, {{"clone", id}, {"resource", rec.resource}, {"port", std::to_string(port)}},
      JournalWrite{.sync = false});
  if (!entry.ok()) {
    p_.ports.Release(port);
    return entry.status();
  }
  Status st = p_.catalog.Insert(rec);
  if (!st.ok()) {
    p_.ports.Release(port);
    (void)p_.journal.Commit(*entry);
    return st;
  }
  const SteadyTime started = p_.env.MonotonicNow();
  auto body = [&]() -> Status {
    ServerStart start;
    start.resource = &resource;
    start.run_dir = p_.servers.RunDir(id);
    start.bind = p_.clone_bind;
    start.port = port;
    start.label = id;
    start.owner = rec.owner;
    ZDAP_RETURN_IF_ERROR(p_.servers.PrepareRunDir(start.run_dir));
    ZDAP_ASSIGN_OR_RETURN(start.password, SecretStore::NewPassword(req.password));
    ZDAP_RETURN_IF_ERROR(p_.secrets.Stage(id, start.password));
    ZDAP_ASSIGN_OR_RETURN(start.data_dir, p_.store.Clone(snapshot, id));
    start.lock = p_.snapshots.FreshCloneLock(snapshot);
    // The durable writes that do not depend on the server run while it starts, after the
    // snapshot (beside it, on btrfs, the secret file's fsyncs slowed the snapshot by 7 ms:
    // both wait for the same commit): the secret file's fsyncs, and the volume's metadata,
    // which names nothing the start decides. The clone is not ready before they are done;
    // every return from here waits for them (the future's destructor), so the undo never
    // races them.
    std::future<Status> written = std::async(std::launch::async, [this, &id, meta_of = rec] {
      ZDAP_RETURN_IF_ERROR(p_.secrets.Sync(id));
      return WriteCloneMeta(meta_of);
    });
    ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle h, p_.servers.StartAndWait(start));
    ZDAP_RETURN_IF_ERROR(written.get());
    rec.pid = h.pid;
    rec.container_id = h.container_id;
    rec.state = CloneState::kReady;
    return p_.catalog.Update(rec);
  };
  st = body();
  if (!st.ok()) {
    log::Error("clone {} of {} failed: {}", id, snapshot, st.message());
    Status undo = TearDown(rec);
    if (undo.ok()) {
      (void)p_.journal.Commit(*entry);
    } else {
      // The entry stays for Recovery; the record says what happened meanwhile.
      log::Error("clone {}: undo failed: {}", id, undo.message());
      rec.state = CloneState::kFailed;
      rec.error =
          fmt::format("create failed ({}), and its undo too: {}", st.message(), undo.message());
      (void)p_.catalog.Update(rec);
    }
    return st.Wrap(fmt::format("clone {}", id));
  }
  if (Status done = p_.journal.Commit(*entry); !done.ok()) {
    log::Error("clone {}: journal: {}", id, done.message());
  }
  log::Info("clone {} of {} ready on port {} in {} ms (owner {})", id, snapshot, port,
            MillisSince(p_.env, started), caller.user);
  if (!rec.pooled) observer()->CloneCreated(rec, caller.user);
  return p_.views.Of(rec, caller);
}

Status CloneService::WriteCloneMeta(const CloneRecord& rec) {
  // Kept with the clone's volume too, so the store alone says what it is ("ready": a clone's,
  // not a snapshot's; a create that fails removes it with the volume). Only what stays
  // for the volume's life: who holds the clone and until when (owner, pooled, expiry) is the
  // catalog record's alone, so that a claim or an extend is one durable write, not two.
  storage::VolumeMeta meta = {
      {"clone", rec.id},          {"resource", rec.resource},
      {"snapshot", rec.snapshot}, {"port", std::to_string(rec.port)},
      {"state", "ready"},         {"created_at", FormatRfc3339(rec.created_at)}};
  return p_.store.WriteMeta(storage::Area::kClone, rec.Volume(), meta);
}

Result<CloneRecord> CloneService::Visible(const std::string& id, const Caller& caller) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  auto rec = p_.catalog.Get(id);
  // Someone else's clone is reported as missing, not forbidden: ids are not to be probed.
  // Pool clones belong to nobody until claimed.
  if (!rec || (!caller.admin && (rec->pooled || rec->owner != caller.user))) {
    return NotFound(fmt::format("clone '{}' not found", id));
  }
  return *rec;
}

Result<CloneView> CloneService::Get(const std::string& id, const Caller& caller) const {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, Visible(id, caller));
  return p_.views.Of(rec, caller);
}

std::vector<CloneView> CloneService::List(const Caller& caller, bool all) const {
  std::vector<CloneView> out;
  for (const auto& r : p_.catalog.List()) {
    if ((all && caller.admin) || (!r.pooled && r.owner == caller.user)) {
      out.push_back(p_.views.Of(r, caller));
    }
  }
  return out;
}

Status CloneService::Destroy(const std::string& id, const Caller& caller) {
  return DestroyFor(id, caller, DestroyReason::kOwner);
}

Status CloneService::DestroyFor(const std::string& id, const Caller& caller, DestroyReason reason) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, Visible(id, caller));
  BusyGuard busy(p_.busy, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  Status st = DestroyHeld(rec);
  if (!st.ok()) return st.Wrap(fmt::format("destroy {}", id));
  log::Info("clone {} destroyed (by {})", id, caller.user);
  if (!rec.pooled) {
    // An admin's destroy of another user's clone is the admin's, not the owner's.
    if (reason == DestroyReason::kOwner && rec.owner != caller.user) reason = DestroyReason::kAdmin;
    observer()->CloneDestroyed(rec, reason, caller.user);
  }
  // The last clone of a snapshot past `refresh.keep` lets it go now.
  PruneAfter(rec.resource);
  return Status::Ok();
}

void CloneService::PruneAfter(const std::string& resource) {
  if (auto res = p_.resources.Find(resource); res.ok()) p_.snapshots.Prune(**res);
}

}  // namespace zdap::origin
