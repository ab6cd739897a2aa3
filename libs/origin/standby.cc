#include "origin/standby.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "core/log.h"
#include "engine/postgres_engine.h"
#include "origin/servers.h"

namespace zdap::origin {
namespace {

namespace sb = engine::standby;

constexpr const char* kPrefix = "standby-";
// A standby's server may replay a lot of WAL before it answers (after a crash of its own).
constexpr auto kStandbyStartDeadline = std::chrono::minutes(10);

std::string Canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  return ec ? path : p.string();
}

}  // namespace

Standby::Standby(const config::Resource& resource, const SourceParts& parts)
    : resource_(resource),
      p_(parts),
      name_(NameOf(resource.name)),
      volume_path_(parts.store.VolumePath(name_)),
      run_dir_(parts.servers.RunDir(name_)) {
  auto bin = engine::PostgresEngine::BinDir(resource.version);
  if (bin.ok()) bin_ = *bin;
}

bool Standby::ParseName(const std::string& name, std::string* resource) {
  if (name.rfind(kPrefix, 0) != 0 || name.size() == std::strlen(kPrefix)) return false;
  *resource = name.substr(std::strlen(kPrefix));
  return true;
}

RunAs Standby::ServerUser() const {
  return p_.servers.run_as().value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
}

sb::Socket Standby::socket() const {
  sb::Socket s;
  s.bin = bin_;
  s.endpoint.socket_dir = run_dir_;
  s.endpoint.port = p_.engine.default_port();
  s.run_as = p_.servers.run_as();
  return s;
}

sb::Primary Standby::primary() const {
  sb::Primary pr;
  pr.spec = &spec();
  pr.passfile = spec().password_file.empty() ? "" : run_dir_ + "/primary.pgpass";
  pr.run_as = ServerUser();
  pr.cwd = run_dir_;
  return pr;
}

bool Standby::Synced() const {
  auto meta = p_.store.ReadMeta(storage::Area::kVolume, name_);
  return meta.ok() && meta->count("state") != 0 && meta->at("state") == "ready";
}

Result<std::vector<std::string>> Standby::HotStandbyArgs(const std::string& data_dir) const {
  std::map<std::string, std::string> current = {{"max_connections", "50"}};
  for (const auto& [k, v] : resource_.settings) current[k] = v;
  ZDAP_ASSIGN_OR_RETURN(auto settings,
                        sb::HotStandbySettings(bin_, data_dir, ServerUser(), current));
  std::vector<std::string> args;
  for (const auto& [k, v] : settings) {
    args.push_back("-c");
    args.push_back(k + "=" + v);
  }
  return args;
}

Status Standby::Sync(const std::function<void(const char*)>& phase) {
  if (bin_.empty())
    ZDAP_RETURN_IF_ERROR(engine::PostgresEngine::BinDir(resource_.version).status());
  phase("sync");
  // A previous try's leftovers (a failed sync removes them; a crash leaves them to Recover).
  if (p_.env.FileExists(volume_path_)) {
    p_.servers.StopServersOf(volume_path_, run_dir_, name_, &resource_);
    ZDAP_RETURN_IF_ERROR(p_.store.DestroyVolume(name_));
  }
  ZDAP_RETURN_IF_ERROR(p_.servers.PrepareRunDir(run_dir_));
  ZDAP_RETURN_IF_ERROR(p_.store.CreateVolume(name_).status());
  // Recorded before anything is made on the primary: whatever a crash leaves, the metadata
  // says which slot to drop.
  storage::VolumeMeta meta = {{"resource", resource_.name},
                              {"state", "syncing"},
                              {"primary", spec().primary.ToString()},
                              {"slot", spec().slot}};
  auto body = [&]() -> Status {
    ZDAP_RETURN_IF_ERROR(p_.store.WriteMeta(storage::Area::kVolume, name_, meta));
    ZDAP_RETURN_IF_ERROR(p_.servers.ChownToServerUser(volume_path_));
    ZDAP_RETURN_IF_ERROR(p_.env.Chmod(volume_path_, 0700));
    const sb::Primary pr = primary();
    ZDAP_RETURN_IF_ERROR(sb::WritePassfile(spec(), pr.passfile, pr.run_as));
    ZDAP_RETURN_IF_ERROR(sb::CreateSlot(bin_, pr));
    ZDAP_RETURN_IF_ERROR(sb::BaseBackup(bin_, pr, volume_path_));
    ZDAP_RETURN_IF_ERROR(sb::ConfigureStandby(volume_path_, pr.run_as));
    p_.env.SyncAll();
    ZDAP_RETURN_IF_ERROR(StartServer());
    meta["state"] = "ready";
    return p_.store.WriteMeta(storage::Area::kVolume, name_, meta);
  };
  Status st = body();
  if (!st.ok()) {
    (void)StopServer();
    p_.servers.StopServersOf(volume_path_, run_dir_, name_, &resource_);
    if (Status d = p_.store.DestroyVolume(name_); !d.ok()) {
      log::Error("standby {}: removing the half-synced volume: {}", resource_.name, d.message());
    }
    return st.Wrap("first sync of the standby");
  }
  log::Info("standby {}: synced from {}, following it (slot {})", resource_.name,
            spec().primary.params.at("host"), spec().slot);
  return Status::Ok();
}

Status Standby::StartServer() {
  // The password file again: the primary's may have changed since the last start.
  const sb::Primary pr = primary();
  if (!p_.env.FileExists(run_dir_)) ZDAP_RETURN_IF_ERROR(p_.servers.PrepareRunDir(run_dir_));
  ZDAP_RETURN_IF_ERROR(sb::WritePassfile(spec(), pr.passfile, pr.run_as));
  ServerStart start;
  start.resource = &resource_;
  start.data_dir = volume_path_;
  start.run_dir = run_dir_;
  start.port = p_.engine.default_port();
  start.label = name_;
  ZDAP_ASSIGN_OR_RETURN(start.extra_args, HotStandbyArgs(volume_path_));
  for (auto& a : sb::FollowArgs(pr, "zdap_" + resource_.name)) start.extra_args.push_back(a);
  start.probe_user = spec().primary.user();
  start.start_deadline = kStandbyStartDeadline;
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle handle, p_.servers.StartAndWait(start));
  std::lock_guard lock(mu_);
  handle_ = handle;
  return Status::Ok();
}

bool Standby::running() {
  std::lock_guard lock(mu_);
  return !handle_.empty() && p_.servers.runtime().IsRunning(handle_);
}

Status Standby::EnsureRunning() {
  if (running()) return Status::Ok();
  // Not ours (any more): one the runtime finds on the volume is adopted.
  runtime::Runtime& runtime = p_.servers.runtime();
  if (auto found = runtime.ListServers(); found.ok()) {
    const std::string canonical = Canonical(volume_path_);
    for (const auto& f : *found) {
      if (!f.running || !(f.clone == name_ || f.data_dir == canonical)) continue;
      if (!runtime.Owns(f.handle, volume_path_) && f.clone != name_) continue;
      std::lock_guard lock(mu_);
      handle_ = f.handle;
      log::Info("standby {}: adopted its running server", resource_.name);
      return Status::Ok();
    }
  }
  // Stale servers (a pid file's) go before a new start.
  p_.servers.StopServersOf(volume_path_, run_dir_, name_, &resource_);
  log::Info("standby {}: starting its server", resource_.name);
  return StartServer();
}

Status Standby::Recover() {
  if (!p_.env.FileExists(volume_path_)) return Status::Ok();
  if (!Synced()) {
    log::Warn(
        "standby {}: its first sync was interrupted; removing it (the next refresh syncs "
        "again)",
        resource_.name);
    p_.servers.StopServersOf(volume_path_, run_dir_, name_, &resource_);
    (void)p_.env.RemoveTree(run_dir_);
    return p_.store.DestroyVolume(name_);
  }
  return EnsureRunning();
}

Status Standby::StopServer() {
  runtime::ServerHandle handle;
  {
    std::lock_guard lock(mu_);
    handle = handle_;
    handle_ = {};
  }
  if (handle.empty()) return Status::Ok();
  return p_.servers.runtime().Stop(handle, volume_path_, SIGINT, Servers::kStopGrace);
}

Status Standby::Remove() {
  (void)StopServer();
  p_.servers.StopServersOf(volume_path_, run_dir_, name_, &resource_);
  Status dropped = Status::Ok();
  if (!bin_.empty() && p_.env.FileExists(volume_path_)) {
    if (!p_.env.FileExists(run_dir_)) ZDAP_RETURN_IF_ERROR(p_.servers.PrepareRunDir(run_dir_));
    const sb::Primary pr = primary();
    dropped = sb::WritePassfile(spec(), pr.passfile, pr.run_as);
    if (dropped.ok()) dropped = sb::DropSlot(bin_, pr);
  }
  // The slot first: a volume kept while its slot could not be dropped says there is a slot.
  if (!dropped.ok()) return dropped.Wrap("the standby stays until its slot is dropped");
  (void)p_.env.RemoveTree(run_dir_);
  if (p_.env.FileExists(volume_path_)) ZDAP_RETURN_IF_ERROR(p_.store.DestroyVolume(name_));
  log::Info("standby {}: removed (server, volume, slot {} on the primary)", resource_.name,
            spec().slot);
  return Status::Ok();
}

Status Standby::RemoveOrphan(const std::string& name, Env& env, storage::Driver& store,
                             Servers& servers) {
  std::string resource;
  if (!ParseName(name, &resource)) return InvalidArgument(name + " is not a standby volume");
  ZDAP_ASSIGN_OR_RETURN(storage::VolumeMeta meta, store.ReadMeta(storage::Area::kVolume, name));
  config::Resource res;
  res.name = resource;
  res.engine = "postgres";
  config::ReplicaSpec spec;
  if (meta.count("primary") != 0 && meta.count("slot") != 0) {
    ZDAP_ASSIGN_OR_RETURN(spec.primary, config::ParseConninfo(meta.at("primary")));
    spec.slot = meta.at("slot");
  }
  // The password file the standby used is in its run dir: the config's is gone.
  const std::string run_dir = servers.RunDir(name);
  const std::string passfile = run_dir + "/primary.pgpass";
  servers.StopServersOf(store.VolumePath(name), run_dir, name, nullptr);
  if (!spec.slot.empty()) {
    ZDAP_ASSIGN_OR_RETURN(std::string bin, engine::PostgresEngine::BinDir(""));
    sb::Primary pr;
    pr.spec = &spec;
    pr.passfile = env.FileExists(passfile) ? passfile : "";
    pr.run_as = servers.run_as().value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
    pr.cwd = env.FileExists(run_dir) ? run_dir : "/";
    ZDAP_RETURN_IF_ERROR(sb::DropSlot(bin, pr).Wrap(
        fmt::format("standby volume {} stays until slot {} is dropped", name, spec.slot)));
  }
  (void)env.RemoveTree(run_dir);
  ZDAP_RETURN_IF_ERROR(store.DestroyVolume(name));
  log::Warn(
      "standby {}: its resource is no longer a replica: removed its server, volume and "
      "slot {}",
      resource, spec.slot);
  return Status::Ok();
}

Result<std::string> Standby::Superuser() {
  {
    std::lock_guard lock(mu_);
    if (!superuser_.empty()) return superuser_;
  }
  ZDAP_ASSIGN_OR_RETURN(std::string name, sb::BootstrapSuperuser(socket(), spec().primary.user()));
  std::lock_guard lock(mu_);
  superuser_ = name;
  return name;
}

}  // namespace zdap::origin
