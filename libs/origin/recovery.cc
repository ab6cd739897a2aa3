#include "origin/recovery.h"

#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <set>

#include "core/log.h"
#include "core/names.h"
#include "origin/standby.h"

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

bool Recovery::IsLiveStandby(const std::string& name) const {
  std::string resource;
  if (!Standby::ParseName(name, &resource)) return false;
  const config::Resource* res = ResourceOrNull(resource);
  return res != nullptr && res->source.replica.has_value();
}

const config::Resource* Recovery::ResourceOrNull(const std::string& name) const {
  auto r = p_.resources.Find(name);
  return r.ok() ? *r : nullptr;
}

Status Recovery::RecoverEntry(const JournalEntry& e) {
  if (e.op == "create" || e.op == "destroy") {
    // A create that reached `ready` only missed its commit; anything else is undone, and a
    // destroy is finished: both end in the one teardown.
    auto rec = p_.catalog.Get(e.subject);
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
    if (r.port > 0) p_.ports.Hold(r.port);
    return p_.clones.TearDown(r);
  }
  if (e.op == "refresh") return RecoverRefresh(e);
  if (e.op == "reset") return RecoverReset(e);
  if (e.op == "claim") return RecoverClaim(e);
  if (e.op == "branch") return RecoverBranch(e);
  return Internal(fmt::format(
      "journal entry {}: operation '{}' is unknown to this zdapd; left in place", e.id, e.op));
}

Status Recovery::RecoverRefresh(const JournalEntry& e) {
  // Only a sealed volume is a snapshot, and sealing is the last step: the volume, its server
  // and run dir go; a snapshot that was sealed stays.
  std::string volume = e.Get("volume");
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(volume, &sid));
  log::Info("recover: refresh of {} into {} was interrupted; undoing it", e.subject, volume);
  const std::string scratch = Refresher::ScratchName(sid.resource);
  std::string run_dir = p_.servers.RunDir(scratch);
  p_.servers.StopServersOf(p_.store.VolumePath(volume), run_dir, scratch,
                           ResourceOrNull(sid.resource));
  ZDAP_RETURN_IF_ERROR(p_.env.RemoveTree(run_dir));
  if (p_.env.FileExists(p_.store.VolumePath(volume))) {
    ZDAP_RETURN_IF_ERROR(p_.store.DestroyVolume(volume));
  }
  return Status::Ok();
}

Status Recovery::RecoverReset(const JournalEntry& e) {
  // The record's volume says how far it got: still the old one = undone (the new volume and
  // any server on it go; the clone is restarted on its old data by step 1), the new one =
  // finished (the old volume goes; the clone is started on the new one).
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  auto rec = p_.catalog.Get(e.subject);
  const config::Resource* res = ResourceOrNull(rec ? rec->resource : e.Get("resource"));
  std::string current = rec ? rec->Volume() : "";
  for (const std::string& volume : {e.Get("volume"), e.Get("old_volume")}) {
    // Only this clone's volumes: <id> or <id>.<gen>.
    if (volume.empty() || volume == current ||
        (volume != e.subject && volume.rfind(e.subject + ".", 0) != 0)) {
      continue;
    }
    std::string path = p_.store.ClonePath(volume);
    p_.servers.StopServersOf(path, p_.servers.RunDir(e.subject), "", res);
    if (p_.env.FileExists(path)) ZDAP_RETURN_IF_ERROR(p_.store.DestroyClone(volume));
  }
  if (!rec) return Status::Ok();
  log::Info("recover: reset of clone {} was interrupted; {}", rec->id,
            current == e.Get("volume") ? "finished it (new data)" : "undid it (old data)");
  if (rec->state == CloneState::kReady) p_.servers.StopUnrecorded(*rec, res);
  return Status::Ok();
}

Status Recovery::RecoverClaim(const JournalEntry& e) {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  p_.secrets.DropNext(e.subject);
  auto rec = p_.catalog.Get(e.subject);
  if (!rec) return Status::Ok();
  if (!rec->pooled && rec->owner == e.Get("owner")) {
    log::Info("recover: claim of clone {} by {} had finished", rec->id, rec->owner);
    return Status::Ok();
  }
  // Still pooled: its server may hold the new password while the secret file has the old one
  // (or the file has the new one already). It is stopped, and step 1 starts it with the file's.
  log::Info("recover: claim of pool clone {} was interrupted; it stays in the pool", rec->id);
  std::string path = p_.store.ClonePath(rec->Volume());
  (void)p_.servers.runtime().Stop(Servers::HandleOf(*rec), path, SIGKILL, std::chrono::seconds(10));
  p_.servers.StopServersOf(path, p_.servers.RunDir(rec->id), rec->id,
                           ResourceOrNull(rec->resource));
  return Status::Ok();
}

Status Recovery::RecoverBranch(const JournalEntry& e) {
  // SnapshotClone is atomic: the snapshot is whole or absent. What a copy cut short left
  // (an unsealed volume of that name) goes; a whole snapshot stays, with its metadata.
  std::string snapshot = e.Get("snapshot");
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(snapshot, &sid));
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", e.subject));
  const config::Resource* res = ResourceOrNull(sid.resource);
  if (p_.env.FileExists(p_.store.VolumePath(snapshot))) {
    ZDAP_RETURN_IF_ERROR(p_.store.DestroyVolume(snapshot));
  }
  bool whole = p_.env.FileExists(p_.store.SnapshotPath(snapshot));
  if (whole && res != nullptr && p_.snapshots.LacksMeta(snapshot)) {
    (void)p_.snapshots.WriteMeta(snapshot, SnapshotMeta{res->name, {}, e.subject, {}, ""});
  }
  log::Info("recover: branch of clone {} was interrupted; snapshot {} {}", e.subject, snapshot,
            whole ? "was saved and is kept" : "was not saved");
  // The clone's server was stopped for the copy and maybe started again: step 1 restarts it.
  if (auto rec = p_.catalog.Get(e.subject); rec && rec->state == CloneState::kReady) {
    p_.servers.StopUnrecorded(*rec, res);
  }
  return Status::Ok();
}

void Recovery::RecoverClones() {
  runtime::Runtime& runtime = p_.servers.runtime();
  for (auto rec : p_.catalog.List()) {
    std::string path = p_.store.ClonePath(rec.Volume());
    runtime::ServerHandle handle = Servers::HandleOf(rec);
    if (rec.state == CloneState::kReady) {
      p_.ports.Hold(rec.port);
      if (runtime.Owns(handle, path)) {
        log::Info("recover: clone {} is running ({} {}), adopted", rec.id, runtime.name(),
                  rec.container_id.empty() ? std::to_string(rec.pid) : rec.container_id);
        // Read into memory now: the clone list is answered from memory, on the API's I/O thread.
        (void)p_.secrets.Password(rec.id);
        continue;
      }
      // Whatever is left of the old server (docker: a stopped container) goes first.
      (void)runtime.Stop(handle, path, SIGKILL, std::chrono::seconds(10));
      const config::Resource* res = ResourceOrNull(rec.resource);
      if (res != nullptr && p_.env.FileExists(path)) {
        // The clone keeps its password; one made before clones had their own gets one now.
        // Either way it is remembered, as for an adopted clone (the list answers from memory).
        ServerStart start;
        start.resource = res;
        start.data_dir = path;
        start.run_dir = p_.servers.RunDir(rec.id);
        start.bind = p_.clone_bind;
        start.port = rec.port;
        start.label = rec.id;
        start.owner = rec.owner;
        auto password = p_.secrets.Password(rec.id);
        if (!password.ok()) {
          password = SecretStore::NewPassword();
          if (password.ok()) {
            if (Status stored = p_.secrets.Store(rec.id, *password); !stored.ok()) {
              password = stored;
            }
          }
        }
        Status prep = password.ok() ? p_.servers.PrepareRunDir(start.run_dir) : password.status();
        Result<runtime::ServerHandle> h = prep;
        if (prep.ok()) {
          start.password = *password;
          h = p_.servers.StartAndWait(start);
        }
        if (h.ok()) {
          rec.pid = h->pid;
          rec.container_id = h->container_id;
          (void)p_.catalog.Update(rec);
          log::Info("recover: clone {} restarted on port {}", rec.id, rec.port);
          continue;
        }
        log::Error("recover: clone {} does not start: {}", rec.id, h.status().message());
        rec.error =
            fmt::format("does not start after a restart of zdapd: {}", h.status().message());
      } else {
        rec.error = res != nullptr ? "its volume is missing after a restart of zdapd"
                                   : "its resource is no longer configured";
      }
      rec.state = CloneState::kFailed;
      (void)p_.catalog.Update(rec);
      continue;
    }
    if (rec.state == CloneState::kFailed && !rec.pooled) {
      // Its owner's to see (the reason) and to delete, or its ttl's: kept with its data
      // (a reset may revive it) and port, without a server.
      p_.ports.Hold(rec.port);
      if (!handle.empty()) {
        (void)runtime.Stop(handle, path, SIGKILL, std::chrono::seconds(10));
        rec.pid = -1;
        rec.container_id.clear();
        (void)p_.catalog.Update(rec);
      }
      p_.servers.StopServersOf(path, p_.servers.RunDir(rec.id), rec.id,
                               ResourceOrNull(rec.resource));
      log::Info("recover: clone {} failed ({}); kept for its owner", rec.id, rec.error);
      continue;
    }
    log::Info("recover: clone {} was left {}; undoing it", rec.id,
              catalog::CloneStateName(rec.state));
    p_.ports.Hold(rec.port);
    Status st = p_.clones.TearDown(rec);
    if (!st.ok()) {
      // Never left `creating` or `deleting`: it is failed, and DELETE may try again.
      log::Error("recover: clone {}: {}", rec.id, st.message());
      rec.state = CloneState::kFailed;
      rec.error = fmt::format("teardown after a restart of zdapd failed: {}", st.message());
      (void)p_.catalog.Update(rec);
    }
  }
}

void Recovery::StopUnownedServers() {
  // Servers the runtime finds by itself (docker: labels) that no record owns: clones
  // destroyed while the daemon was down, a crash between a start and its record's update,
  // imports of refreshes that are not running any more.
  runtime::Runtime& runtime = p_.servers.runtime();
  auto found = runtime.ListServers();
  if (!found.ok()) {
    log::Error("recover: cannot list {} servers: {}", runtime.name(), found.status().message());
    return;
  }
  const std::string scratch_prefix = Refresher::ScratchName("");
  for (const auto& f : *found) {
    // docker: the label names it; process: the data dir it runs in.
    std::string label = f.clone;
    if (label.empty() && !f.data_dir.empty()) {
      std::string name = std::filesystem::path(f.data_dir).filename().string();
      SnapshotId sid;
      if (Canonical(p_.store.ClonePath(name)) == f.data_dir) {
        // <id> or, after a reset, <id>.<gen>: the clone is <id> (ids have no dots); a server
        // on a volume the record no longer names does not have the record's pid.
        label = name.substr(0, name.find('.'));
      } else if (Canonical(p_.store.VolumePath(name)) == f.data_dir &&
                 ParseSnapshotId(name, &sid).ok()) {
        label = Refresher::ScratchName(sid.resource);
      } else if (Canonical(p_.store.VolumePath(name)) == f.data_dir) {
        label = name;  // a standby's
      }
    }
    if (IsLiveStandby(label)) continue;  // its source adopts it (step 5)
    if (label.rfind(scratch_prefix, 0) == 0) {
      if (p_.refresher.Running(label.substr(scratch_prefix.size()))) continue;
    } else if (auto rec = p_.catalog.Get(label);
               rec &&
               ((!f.handle.container_id.empty() && rec->container_id == f.handle.container_id) ||
                (f.handle.container_id.empty() && rec->pid == f.handle.pid))) {
      continue;
    }
    log::Warn("recover: removing {} server {} of '{}': no clone owns it", runtime.name(),
              f.handle.container_id.empty() ? std::to_string(f.handle.pid) : f.handle.container_id,
              label.empty() ? f.data_dir : label);
    (void)runtime.Stop(f.handle, f.data_dir, SIGKILL, std::chrono::seconds(10));
  }
}

void Recovery::RemoveUnowned() {
  // Clone volumes, secret files and run dirs that no record owns (a crash between steps).
  if (auto clones = p_.store.ListClones(); clones.ok()) {
    std::set<std::string> owned;  // a reset's new volume, or its old one, may be unowned
    for (const auto& r : p_.catalog.List()) owned.insert(r.Volume());
    for (const auto& name : *clones) {
      if (owned.count(name) != 0) continue;
      log::Warn("recover: clone volume {} has no catalog record; destroying it", name);
      (void)p_.store.DestroyClone(name);
    }
  }
  if (auto names = p_.env.GetChildren(p_.secrets.dir()); names.ok()) {
    for (const auto& name : *names) {
      if (p_.catalog.Get(name)) continue;
      (void)p_.env.RemoveFile(p_.secrets.dir() + "/" + name);
    }
  }
  const std::string scratch_prefix = Refresher::ScratchName("");
  if (auto names = p_.env.GetChildren(p_.run_root); names.ok()) {
    for (const auto& name : *names) {
      if (name.rfind(scratch_prefix, 0) == 0 || p_.catalog.Get(name)) continue;
      if (IsLiveStandby(name)) continue;
      // A removed resource's standby: its run dir holds what drops its slot (below).
      if (std::string res;
          Standby::ParseName(name, &res) && p_.env.FileExists(p_.store.VolumePath(name))) {
        continue;
      }
      // A server may still run from it (its clone record is gone): stop it first.
      std::string dir = p_.run_root + "/" + name;
      p_.servers.StopServersOf(p_.store.ClonePath(name), dir, name, nullptr);
      (void)p_.env.RemoveTree(dir);
    }
  }
  // Import volumes whose refresh is not running any more.
  if (auto vols = p_.store.ListVolumes(); vols.ok()) {
    for (const auto& v : *vols) {
      if (std::string res; Standby::ParseName(v, &res)) {
        if (IsLiveStandby(v)) continue;
        if (Status st = Standby::RemoveOrphan(v, p_.env, p_.store, p_.servers); !st.ok()) {
          log::Error("recover: {}", st.message());
        }
        continue;
      }
      SnapshotId sid;
      if (!ParseSnapshotId(v, &sid).ok()) continue;
      if (p_.refresher.Running(sid.resource)) continue;
      log::Warn("recover: removing volume {} of an interrupted refresh", v);
      const std::string scratch = Refresher::ScratchName(sid.resource);
      std::string run_dir = p_.servers.RunDir(scratch);
      p_.servers.StopServersOf(p_.store.VolumePath(v), run_dir, scratch,
                               ResourceOrNull(sid.resource));
      (void)p_.env.RemoveTree(run_dir);
      (void)p_.store.DestroyVolume(v);
    }
  }
}

Status Recovery::Run() {
  for (const auto& entry : p_.journal.Pending()) {
    Status st = RecoverEntry(entry);
    if (st.ok()) st = p_.journal.Commit(entry);
    if (!st.ok()) log::Error("recover: {}: {}", entry.id, st.message());
  }
  RecoverClones();
  StopUnownedServers();
  RemoveUnowned();
  for (const auto& res : p_.resources.all()) {
    Source& source = p_.refresher.SourceOf(res);
    if (Status st = source.Adopt(); !st.ok()) {
      log::Error("recover: the {} source of {}: {}", source.kind(), res.name, st.message());
    }
  }
  return Status::Ok();
}

}  // namespace zdap::origin
