// Clones: create (record first, then volume, server, readiness), get, list, destroy, the
// expiry sweep, and how to connect to one.
#include <fmt/format.h>

#include <future>
#include <random>

#include "core/clone_password.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"
#include "origin/busy.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string RandomSuffix() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{:04x}", rng() & 0xffff);
}

}  // namespace

using catalog::CloneRecord;
using catalog::CloneState;

Result<CloneRecord> Origin::CreateClone(const CreateCloneRequest& req, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(req.resource));
  const config::Resource& resource = *res;
  ZDAP_ASSIGN_OR_RETURN(std::string snapshot, ResolveSnapshot(resource, req.snapshot));
  if (!req.password.empty()) ZDAP_RETURN_IF_ERROR(ValidateClonePassword(req.password));
  std::chrono::seconds ttl{0};  // a pool clone's expiry starts when it is claimed
  if (!req.pooled) {
    ZDAP_ASSIGN_OR_RETURN(ttl, ResolveTtl(resource, req.ttl));
    ZDAP_RETURN_IF_ERROR(CheckQuota(resource, caller, req.is_protected));
  }
  std::string id = req.name;
  if (!id.empty()) {
    ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  } else {
    std::string base = resource.name.substr(0, 58);
    for (int i = 0; i < 20 && (id.empty() || catalog_->Get(id)); ++i)
      id = base + "-" + RandomSuffix();
  }
  BusyGuard busy(busy_mu_, busy_, id);
  if (!busy.acquired() || catalog_->Get(id)) {
    return Conflict(fmt::format("clone '{}' already exists", id));
  }
  ZDAP_ASSIGN_OR_RETURN(int port, ports_->Allocate());

  CloneRecord rec;
  rec.id = id;
  rec.resource = resource.name;
  rec.snapshot = snapshot;
  rec.owner = req.pooled ? "" : caller.user;
  rec.pooled = req.pooled;
  rec.state = CloneState::kCreating;
  rec.port = port;
  rec.created_at = env_->Now();
  if (ttl.count() > 0) rec.expires_at = rec.created_at + ttl;
  rec.is_protected = req.is_protected;
  // The journal entry, then the record, are written first: after a crash, Recover() finds
  // them and undoes the rest. The entry is not synced (two fsyncs fewer before the clone is
  // ready): it is for a kill -9, which the page cache survives; after a machine crash the
  // record, synced by Insert before anything is made, is undone by Recover() just the same.
  auto entry = journal_->Begin(
      "create", id, {{"clone", id}, {"resource", rec.resource}, {"port", std::to_string(port)}},
      JournalWrite{.sync = false});
  if (!entry.ok()) {
    ports_->Release(port);
    return entry.status();
  }
  Status st = catalog_->Insert(rec);
  if (!st.ok()) {
    ports_->Release(port);
    (void)journal_->Commit(*entry);
    return st;
  }
  auto started = SteadyClock::now();
  auto body = [&]() -> Status {
    std::string run_dir = RunDir(id);
    ZDAP_RETURN_IF_ERROR(PrepareRunDir(run_dir));
    ZDAP_ASSIGN_OR_RETURN(std::string password, NewClonePassword(req.password));
    ZDAP_RETURN_IF_ERROR(StageClonePassword(id, password));
    ZDAP_ASSIGN_OR_RETURN(std::string path, store_->Clone(snapshot, id));
    // The durable writes that do not depend on the server run while it starts, after the
    // snapshot (beside it, on btrfs, the secret file's fsyncs slowed the snapshot by 7 ms:
    // both wait for the same commit): the secret file's fsyncs, and the volume's metadata,
    // which names nothing the start decides. The clone is not ready before they are done;
    // every return from here waits for them (the future's destructor), so the undo never
    // races them.
    std::future<Status> written = std::async(std::launch::async, [this, &id, meta_of = rec] {
      ZDAP_RETURN_IF_ERROR(SyncClonePassword(id));
      return WriteCloneMeta(meta_of);
    });
    ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle h,
                          StartAndWait(resource, path, run_dir, config_.clone_bind, port, id,
                                       rec.owner, password, FreshCloneLock(snapshot)));
    ZDAP_RETURN_IF_ERROR(written.get());
    rec.pid = h.pid;
    rec.container_id = h.container_id;
    rec.state = CloneState::kReady;
    return catalog_->Update(rec);
  };
  st = body();
  if (!st.ok()) {
    log::Error("clone {} of {} failed: {}", id, snapshot, st.message());
    Status undo = TearDown(rec);
    if (undo.ok()) {
      (void)journal_->Commit(*entry);
    } else {
      // The entry stays for Recover(); the record says what happened meanwhile.
      log::Error("clone {}: undo failed: {}", id, undo.message());
      rec.state = CloneState::kFailed;
      rec.error =
          fmt::format("create failed ({}), and its undo too: {}", st.message(), undo.message());
      (void)catalog_->Update(rec);
    }
    return st.Wrap(fmt::format("clone {}", id));
  }
  if (Status done = journal_->Commit(*entry); !done.ok()) {
    log::Error("clone {}: journal: {}", id, done.message());
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started).count();
  log::Info("clone {} of {} ready on port {} in {} ms (owner {})", id, snapshot, port, ms,
            caller.user);
  return rec;
}

Result<std::chrono::seconds> Origin::ResolveTtl(
    const config::Resource& resource, std::optional<std::chrono::seconds> requested) const {
  return CloneTtl(resource, requested);
}

Result<std::string> Origin::ResolveSnapshot(const config::Resource& resource,
                                            const std::string& requested) const {
  if (requested.empty()) {
    ZDAP_ASSIGN_OR_RETURN(auto snaps, Snapshots(resource.name));
    if (snaps.empty()) {
      return Conflict(
          fmt::format("resource '{}' has no snapshot yet: refresh it first (zdapd "
                      "refresh {})",
                      resource.name, resource.name));
    }
    return snaps.front().id;
  }
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(requested, &sid));
  if (sid.resource != resource.name || !PathExists(store_->SnapshotPath(requested))) {
    return NotFound(fmt::format("snapshot '{}' not found", requested));
  }
  return requested;
}

Status Origin::WriteCloneMeta(const CloneRecord& rec) {
  // Kept with the clone's volume too, so the store alone says what it is ("ready": a clone's,
  // not a snapshot's; a create that fails removes it with the volume). Only what stays
  // for the volume's life: who holds the clone and until when (owner, pooled, expiry) is the
  // catalog record's alone, so that a claim or an extend is one durable write, not two.
  storage::VolumeMeta meta = {
      {"clone", rec.id},          {"resource", rec.resource},
      {"snapshot", rec.snapshot}, {"port", std::to_string(rec.port)},
      {"state", "ready"},         {"created_at", FormatRfc3339(rec.created_at)}};
  return store_->WriteMeta(storage::Area::kClone, rec.Volume(), meta);
}

Result<CloneRecord> Origin::GetClone(const std::string& id, const Caller& caller) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  auto rec = catalog_->Get(id);
  // Someone else's clone is reported as missing, not forbidden: ids are not to be probed.
  // Pool clones belong to nobody until claimed.
  if (!rec || (!caller.admin && (rec->pooled || rec->owner != caller.user))) {
    return NotFound(fmt::format("clone '{}' not found", id));
  }
  return *rec;
}

std::vector<CloneRecord> Origin::ListClones(const Caller& caller, bool all) const {
  std::vector<CloneRecord> out;
  for (auto& r : catalog_->List()) {
    if ((all && caller.admin) || (!r.pooled && r.owner == caller.user)) out.push_back(std::move(r));
  }
  return out;
}

Status Origin::DestroyClone(const std::string& id, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, GetClone(id, caller));
  BusyGuard busy(busy_mu_, busy_, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  Status st = Destroy(rec);
  if (!st.ok()) return st.Wrap(fmt::format("destroy {}", id));
  log::Info("clone {} destroyed (by {})", id, caller.user);
  // The last clone of a snapshot past `refresh.keep` lets it go now.
  if (auto res = FindResource(rec.resource); res.ok()) PruneSnapshots(**res);
  return Status::Ok();
}

int Origin::ExpireClones(SystemTime now) {
  int n = 0;
  for (const auto& r : catalog_->List()) {
    if (!ExpiredAt(r, now)) continue;
    log::Info("clone {} expired at {}; destroying it", r.id, FormatRfc3339(*r.expires_at));
    if (DestroyClone(r.id, Caller{"zdapd", true}).ok()) ++n;
  }
  return n;
}

CloneAccess Origin::AccessFor(const CloneRecord& record) const {
  CloneAccess a;
  a.host = config_.AdvertisedHost();
  a.origin = advertised_url_;
  if (auto r = FindResource(record.resource); r.ok()) {
    const config::Resource& res = **r;
    a.database = res.source.database;
    a.user = res.user;
    a.engine = res.engine;
    // A clone being created has no secret yet: do not look for one (a file read and a warning
    // per listed clone per request, during exactly the bursts when answers must stay fast).
    if (record.state == catalog::CloneState::kCreating) return a;
    if (auto pw = ClonePassword(record.id); pw.ok()) {
      a.password = std::move(pw).value();
    } else {
      // The resource's password does not open a clone: say so rather than hand it out.
      log::Warn("clone {}: no password file: {}", record.id, pw.status().message());
    }
    {
      std::lock_guard lock(secrets_mu_);
      auto it = uris_.find(record.id);
      if (it != uris_.end() && it->second.port == record.port &&
          it->second.password == a.password) {
        a.uri = it->second.uri;
        return a;
      }
    }
    config::Resource as_clone = res;  // a full copy: made once per clone and password
    as_clone.password = a.password;
    a.uri = EngineFor(res)->ConnectionUri(as_clone, a.host, record.port);
    std::lock_guard lock(secrets_mu_);
    uris_[record.id] = CachedUri{record.port, a.password, a.uri};
  }
  return a;
}

}  // namespace zdap::origin
