// Origin::Recover: after a restart (or a crash) keep what is whole and undo what is half-done.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"
#include "origin/origin.h"

namespace zdap::origin {

using catalog::CloneRecord;
using catalog::CloneState;

namespace {

std::string Canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.string();
}

}  // namespace

Status Origin::RecoverEntry(const JournalEntry& e) {
  if (e.op == "create" || e.op == "destroy") {
    // A create that reached `ready` only missed its commit; anything else is undone, and a
    // destroy is finished: both end in the one teardown.
    auto rec = catalog_->Get(e.subject);
    if (e.op == "create" && rec && rec->state == CloneState::kReady) return Status::Ok();
    CloneRecord r;
    if (rec) {
      r = *rec;
    } else {
      ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
      r.id = e.subject;
      r.resource = e.Get("resource");
      r.port = std::atoi(e.Get("port").c_str());
    }
    log::Info("recover: {} of clone {} was interrupted; tearing the clone down", e.op, r.id);
    if (r.port > 0) ports_->Hold(r.port);
    return TearDown(r);
  }
  if (e.op == "refresh") {
    // Only a sealed volume is a snapshot, and sealing is the last step: the import volume,
    // its server and run dir go; a snapshot that was sealed stays.
    std::string volume = e.Get("volume");
    SnapshotId sid;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(volume, &sid));
    log::Info("recover: refresh of {} into {} was interrupted; undoing it", e.subject, volume);
    auto res = FindResource(sid.resource);
    std::string run_dir = RunDir("import-" + sid.resource);
    StopServersOf(store_->VolumePath(volume), run_dir, "import-" + sid.resource,
                  res.ok() ? *res : nullptr);
    ZDAP_RETURN_IF_ERROR(RemoveTree(run_dir));
    if (PathExists(store_->VolumePath(volume))) {
      ZDAP_RETURN_IF_ERROR(store_->DestroyVolume(volume));
    }
    return Status::Ok();
  }
  if (e.op == "reset") return RecoverReset(e);
  if (e.op == "claim") return RecoverClaim(e);
  if (e.op == "branch") return RecoverBranch(e);
  return Internal(fmt::format(
      "journal entry {}: operation '{}' is unknown to this zdapd; left in place", e.id, e.op));
}

void Origin::StopUnrecordedServers(const CloneRecord& rec, const config::Resource* res) {
  std::string path = store_->ClonePath(rec.Volume());
  if (runtime_->Owns(HandleOf(rec), path)) return;
  StopServersOf(path, RunDir(rec.id), rec.id, res);
}

Status Origin::RecoverReset(const JournalEntry& e) {
  // The record's volume says how far it got: still the old one = undone (the new volume and
  // any server on it go; the clone is restarted on its old data below, step 1), the new one
  // = finished (the old volume goes; the clone is started on the new one).
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  auto rec = catalog_->Get(e.subject);
  const config::Resource* res = nullptr;
  if (auto r = FindResource(rec ? rec->resource : e.Get("resource")); r.ok()) res = *r;
  std::string current = rec ? rec->Volume() : "";
  for (const std::string& volume : {e.Get("volume"), e.Get("old_volume")}) {
    // Only this clone's volumes: <id> or <id>.<gen>.
    if (volume.empty() || volume == current ||
        (volume != e.subject && volume.rfind(e.subject + ".", 0) != 0)) {
      continue;
    }
    std::string path = store_->ClonePath(volume);
    StopServersOf(path, RunDir(e.subject), "", res);
    if (PathExists(path)) ZDAP_RETURN_IF_ERROR(store_->DestroyClone(volume));
  }
  if (!rec) return Status::Ok();
  log::Info("recover: reset of clone {} was interrupted; {}", rec->id,
            current == e.Get("volume") ? "finished it (new data)" : "undid it (old data)");
  if (rec->state == CloneState::kReady) StopUnrecordedServers(*rec, res);
  return Status::Ok();
}

Status Origin::RecoverClaim(const JournalEntry& e) {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  ::unlink(StagedSecretPath(e.subject).c_str());
  auto rec = catalog_->Get(e.subject);
  if (!rec) return Status::Ok();
  if (!rec->pooled && rec->owner == e.Get("owner")) {
    log::Info("recover: claim of clone {} by {} had finished", rec->id, rec->owner);
    return Status::Ok();
  }
  // Still pooled: its server may hold the new password while the secret file has the old one
  // (or the file has the new one already). It is stopped, and step 1 starts it with the file's.
  log::Info("recover: claim of pool clone {} was interrupted; it stays in the pool", rec->id);
  const config::Resource* res = nullptr;
  if (auto r = FindResource(rec->resource); r.ok()) res = *r;
  std::string path = store_->ClonePath(rec->Volume());
  (void)runtime_->Stop(HandleOf(*rec), path, SIGKILL, std::chrono::seconds(10));
  StopServersOf(path, RunDir(rec->id), rec->id, res);
  return Status::Ok();
}

Status Origin::RecoverBranch(const JournalEntry& e) {
  // SnapshotClone is atomic: the snapshot is whole or absent. What a copy cut short left
  // (an unsealed volume of that name) goes; a whole snapshot stays, with its metadata.
  std::string snapshot = e.Get("snapshot");
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(snapshot, &sid));
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  auto res = FindResource(sid.resource);
  if (PathExists(store_->VolumePath(snapshot))) {
    ZDAP_RETURN_IF_ERROR(store_->DestroyVolume(snapshot));
  }
  bool whole = PathExists(store_->SnapshotPath(snapshot));
  if (whole && res.ok()) {
    auto meta = store_->ReadMeta(storage::Area::kSnapshot, snapshot);
    if (meta.ok() && meta->empty()) {
      (void)store_->WriteMeta(storage::Area::kSnapshot, snapshot, BranchMeta(**res, e.subject));
    }
  }
  log::Info("recover: branch of clone {} was interrupted; snapshot {} {}", e.subject, snapshot,
            whole ? "was saved and is kept" : "was not saved");
  // The clone's server was stopped for the copy and maybe started again: step 1 restarts it.
  if (auto rec = catalog_->Get(e.subject); rec && rec->state == CloneState::kReady) {
    StopUnrecordedServers(*rec, res.ok() ? *res : nullptr);
  }
  return Status::Ok();
}

Status Origin::Recover() {
  // 0. Operations a crash interrupted, oldest first: finish or undo each.
  for (const auto& entry : journal_->Pending()) {
    Status st = RecoverEntry(entry);
    if (st.ok()) st = journal_->Commit(entry);
    if (!st.ok()) log::Error("recover: {}: {}", entry.id, st.message());
  }
  // 1. Clones in the catalog: keep what is whole, undo what is half-done.
  for (auto rec : catalog_->List()) {
    std::string path = store_->ClonePath(rec.Volume());
    if (rec.state == CloneState::kReady) {
      ports_->Hold(rec.port);
      if (runtime_->Owns(HandleOf(rec), path)) {
        log::Info("recover: clone {} is running ({} {}), adopted", rec.id, runtime_->name(),
                  rec.container_id.empty() ? std::to_string(rec.pid) : rec.container_id);
        // Read into memory now: the clone list is answered from memory, on the API's I/O thread.
        (void)ClonePassword(rec.id);
        continue;
      }
      // Whatever is left of the old server (docker: a stopped container) goes first.
      (void)runtime_->Stop(HandleOf(rec), path, SIGKILL, std::chrono::seconds(10));
      auto res = FindResource(rec.resource);
      if (res.ok() && PathExists(path)) {
        // The clone keeps its password; one made before clones had their own gets one now.
        // Either way it is remembered, as for an adopted clone (the list answers from memory).
        auto password = ClonePassword(rec.id);
        if (!password.ok()) password = MakeClonePassword(rec.id);
        Status prep = password.ok() ? PrepareRunDir(RunDir(rec.id)) : password.status();
        auto h = prep.ok() ? StartAndWait(**res, path, RunDir(rec.id), config_.clone_bind, rec.port,
                                          rec.id, rec.owner, *password)
                           : Result<runtime::ServerHandle>(prep);
        if (h.ok()) {
          rec.pid = h->pid;
          rec.container_id = h->container_id;
          (void)catalog_->Update(rec);
          log::Info("recover: clone {} restarted on port {}", rec.id, rec.port);
          continue;
        }
        log::Error("recover: clone {} does not start: {}", rec.id, h.status().message());
        rec.error =
            fmt::format("does not start after a restart of zdapd: {}", h.status().message());
      } else {
        rec.error = res.ok() ? "its volume is missing after a restart of zdapd"
                             : "its resource is no longer configured";
      }
      rec.state = CloneState::kFailed;
      (void)catalog_->Update(rec);
      continue;
    }
    if (rec.state == CloneState::kFailed && !rec.pooled) {
      // Its owner's to see (the reason) and to delete, or its ttl's: kept with its data
      // (a reset may revive it) and port, without a server.
      ports_->Hold(rec.port);
      if (!HandleOf(rec).empty()) {
        (void)runtime_->Stop(HandleOf(rec), path, SIGKILL, std::chrono::seconds(10));
        rec.pid = -1;
        rec.container_id.clear();
        (void)catalog_->Update(rec);
      }
      auto res = FindResource(rec.resource);
      StopServersOf(path, RunDir(rec.id), rec.id, res.ok() ? *res : nullptr);
      log::Info("recover: clone {} failed ({}); kept for its owner", rec.id, rec.error);
      continue;
    }
    log::Info("recover: clone {} was left {}; undoing it", rec.id,
              catalog::CloneStateName(rec.state));
    ports_->Hold(rec.port);
    Status st = TearDown(rec);
    if (!st.ok()) {
      // Never left `creating` or `deleting`: it is failed, and DELETE may try again.
      log::Error("recover: clone {}: {}", rec.id, st.message());
      rec.state = CloneState::kFailed;
      rec.error = fmt::format("teardown after a restart of zdapd failed: {}", st.message());
      (void)catalog_->Update(rec);
    }
  }
  // 2. Servers the runtime finds by itself (docker: labels) that no record owns: clones
  // destroyed while the daemon was down, a crash between a start and its record's update,
  // imports of refreshes that are not running any more.
  if (auto found = runtime_->ListServers(); found.ok()) {
    for (const auto& f : *found) {
      // docker: the label names it; process: the data dir it runs in.
      std::string label = f.clone;
      if (label.empty() && !f.data_dir.empty()) {
        std::string name = std::filesystem::path(f.data_dir).filename().string();
        SnapshotId sid;
        if (Canonical(store_->ClonePath(name)) == f.data_dir) {
          // <id> or, after a reset, <id>.<gen>: the clone is <id> (ids have no dots); a server
          // on a volume the record no longer names does not have the record's pid.
          label = name.substr(0, name.find('.'));
        } else if (Canonical(store_->VolumePath(name)) == f.data_dir &&
                   ParseSnapshotId(name, &sid).ok()) {
          label = "import-" + sid.resource;
        }
      }
      if (label.rfind("import-", 0) == 0) {
        auto lock =
            FileLock::Acquire(config_.data_dir + "/locks/refresh-" + label.substr(7), false, "");
        if (!lock.ok()) continue;  // a refresh is running right now
      } else if (auto rec = catalog_->Get(label);
                 rec &&
                 ((!f.handle.container_id.empty() && rec->container_id == f.handle.container_id) ||
                  (f.handle.container_id.empty() && rec->pid == f.handle.pid))) {
        continue;
      }
      log::Warn(
          "recover: removing {} server {} of '{}': no clone owns it", runtime_->name(),
          f.handle.container_id.empty() ? std::to_string(f.handle.pid) : f.handle.container_id,
          label.empty() ? f.data_dir : label);
      (void)runtime_->Stop(f.handle, f.data_dir, SIGKILL, std::chrono::seconds(10));
    }
  } else {
    log::Error("recover: cannot list {} servers: {}", runtime_->name(), found.status().message());
  }
  // 3. Clone volumes and run dirs that no record owns (a crash between steps).
  if (auto clones = store_->ListClones(); clones.ok()) {
    std::set<std::string> owned;  // a reset's new volume, or its old one, may be unowned
    for (const auto& r : catalog_->List()) owned.insert(r.Volume());
    for (const auto& name : *clones) {
      if (owned.count(name) != 0) continue;
      log::Warn("recover: clone volume {} has no catalog record; destroying it", name);
      (void)store_->DestroyClone(name);
    }
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config_.data_dir + "/secrets", ec)) {
    if (catalog_->Get(e.path().filename().string())) continue;
    ::unlink(e.path().c_str());
  }
  for (const auto& e : std::filesystem::directory_iterator(config_.data_dir + "/run", ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("import-", 0) == 0 || catalog_->Get(name)) continue;
    // A server may still run from it (its clone record is gone): stop it first.
    StopServersOf(store_->ClonePath(name), e.path().string(), name, nullptr);
    (void)RemoveTree(e.path().string());
  }
  // 4. Import volumes whose refresh is not running any more.
  if (auto vols = store_->ListVolumes(); vols.ok()) {
    for (const auto& v : *vols) {
      SnapshotId sid;
      if (!ParseSnapshotId(v, &sid).ok()) continue;
      auto lock = FileLock::Acquire(config_.data_dir + "/locks/refresh-" + sid.resource, false, "");
      if (!lock.ok()) continue;  // a refresh is running right now
      log::Warn("recover: removing volume {} of an interrupted refresh", v);
      std::string run_dir = RunDir("import-" + sid.resource);
      auto res = FindResource(sid.resource);
      StopServersOf(store_->VolumePath(v), run_dir, "import-" + sid.resource,
                    res.ok() ? *res : nullptr);
      (void)RemoveTree(run_dir);
      (void)store_->DestroyVolume(v);
    }
  }
  return Status::Ok();
}

}  // namespace zdap::origin
