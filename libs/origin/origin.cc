#include "origin/origin.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <thread>

#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"
#include "core/random_secret.h"

namespace zdap::origin {
namespace {

using Clock = std::chrono::steady_clock;
using catalog::CloneRecord;
using catalog::CloneState;

constexpr auto kStartDeadline = std::chrono::seconds(120);
constexpr auto kStopGrace = std::chrono::seconds(30);

// Marks a clone id busy for the duration of one operation.
class BusyGuard {
 public:
  BusyGuard(std::mutex& mu, std::set<std::string>& busy, std::string id)
      : mu_(mu), busy_(busy), id_(std::move(id)) {
    std::lock_guard lock(mu_);
    acquired_ = busy_.insert(id_).second;
  }
  ~BusyGuard() {
    if (!acquired_) return;
    std::lock_guard lock(mu_);
    busy_.erase(id_);
  }
  bool acquired() const { return acquired_; }

 private:
  std::mutex& mu_;
  std::set<std::string>& busy_;
  std::string id_;
  bool acquired_ = false;
};

std::string RandomSuffix() {
  static thread_local std::mt19937 rng(std::random_device{}());
  return fmt::format("{:04x}", rng() & 0xffff);
}

}  // namespace

Origin::~Origin() {
  // A refresh in flight is waited for: its import server and volume are ours to clean up.
  std::lock_guard lock(job_threads_mu_);
  for (auto& [job, thread] : job_threads_) thread.join();
}

Result<std::unique_ptr<Origin>> Origin::Open(const config::DaemonConfig& config) {
  std::unique_ptr<Origin> o(new Origin());
  o->config_ = config;
  ZDAP_ASSIGN_OR_RETURN(o->resources_, config::LoadResources(config.config_dir));
  for (const auto& r : o->resources_) {
    if (o->engines_.count(r.engine) == 0) {
      ZDAP_ASSIGN_OR_RETURN(auto engine, engine::MakeEngine(r.engine));
      o->engines_[r.engine] = std::move(engine);
    }
  }
  ZDAP_RETURN_IF_ERROR(MakeDirs(config.data_dir, 0755));
  ZDAP_RETURN_IF_ERROR(MakeDirs(config.data_dir + "/run", 0755));
  ZDAP_RETURN_IF_ERROR(MakeDirs(config.data_dir + "/locks", 0700));
  ZDAP_RETURN_IF_ERROR(MakeDirs(config.data_dir + "/secrets", 0700));
  storage::StorageConfig sc;
  sc.driver = config.storage_driver;
  sc.path = config.StorePath();
  sc.dataset = config.storage_dataset;
  ZDAP_ASSIGN_OR_RETURN(o->store_, storage::OpenStore(sc));
  ZDAP_ASSIGN_OR_RETURN(o->run_as_, runtime::ResolveServerUser(config.runtime_user));
  if (config.runtime_driver == "docker") {
    runtime::DockerRuntimeOptions d;
    d.socket = config.docker_socket;
    d.origin = std::filesystem::absolute(config.data_dir).lexically_normal().string();
    d.run_as = o->run_as_;
    ZDAP_ASSIGN_OR_RETURN(o->runtime_, runtime::OpenDockerRuntime(d));
  } else if (config.runtime_driver == "process") {
    o->runtime_ = std::make_unique<runtime::ProcessRuntime>(o->run_as_);
  } else {
    return InvalidArgument(
        fmt::format("'{}' is not a runtime: use process or docker", config.runtime_driver));
  }
  ZDAP_ASSIGN_OR_RETURN(o->catalog_, catalog::Catalog::Open(config.data_dir + "/catalog"));
  o->ports_ = std::make_unique<catalog::PortAllocator>(config.clone_bind, config.clone_port_first,
                                                       config.clone_port_last);
  // The server user must be able to reach its data: every parent directory needs 'x' for it.
  if (o->run_as_) {
    std::string probe = std::filesystem::absolute(o->store_->root()).string();
    for (std::filesystem::path p(probe); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      struct stat st;
      if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0 &&
          st.st_uid != o->run_as_->uid) {
        return InvalidArgument(fmt::format(
            "database servers run as '{}', which cannot enter {} (mode {:o}): put data_dir "
            "somewhere world-traversable such as /var/lib/zdap",
            o->run_as_->name, p.string(), st.st_mode & 07777));
      }
    }
  }
  return o;
}

Result<const config::Resource*> Origin::FindResource(const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", name));
  for (const auto& r : resources_) {
    if (r.name == name) return &r;
  }
  return NotFound(fmt::format("resource '{}' not found", name));
}

engine::Engine* Origin::EngineFor(const config::Resource& resource) const {
  return engines_.at(resource.engine).get();
}

Status Origin::ChownToServerUser(const std::string& path) const {
  if (!run_as_) return Status::Ok();
  if (::chown(path.c_str(), run_as_->uid, run_as_->gid) != 0) {
    return ErrnoError("chown " + path, errno);
  }
  return Status::Ok();
}

std::string Origin::RunDir(const std::string& name) const {
  return config_.data_dir + "/run/" + name;
}

std::string Origin::SecretPath(const std::string& clone) const {
  return config_.data_dir + "/secrets/" + clone;
}

Result<std::string> Origin::MakeClonePassword(const std::string& clone) const {
  // 24 bytes: 192 bits, 32 URL-safe characters.
  ZDAP_ASSIGN_OR_RETURN(std::string password, RandomUrlSafeSecret(24));
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(SecretPath(clone), password, 0600));
  std::lock_guard lock(secrets_mu_);
  secrets_[clone] = password;
  return password;
}

Result<std::string> Origin::ClonePassword(const std::string& clone) const {
  {
    std::lock_guard lock(secrets_mu_);
    if (auto it = secrets_.find(clone); it != secrets_.end()) return it->second;
  }
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadFile(SecretPath(clone), 4096));
  if (password.empty()) return NotFound(SecretPath(clone) + " is empty");
  std::lock_guard lock(secrets_mu_);
  secrets_[clone] = password;
  return password;
}

Status Origin::PrepareRunDir(const std::string& dir) const {
  ZDAP_RETURN_IF_ERROR(RemoveTree(dir));
  if (::mkdir(dir.c_str(), 0700) != 0) return ErrnoError("mkdir " + dir, errno);
  ZDAP_RETURN_IF_ERROR(ChownToServerUser(dir));
  // unix socket paths are limited to 107 bytes.
  if (dir.size() + 20 > 107) {
    return InvalidArgument(
        fmt::format("data_dir {} is too long for a unix socket path; use a "
                    "shorter data_dir",
                    config_.data_dir));
  }
  return Status::Ok();
}

Result<std::vector<SnapshotInfo>> Origin::Snapshots(const std::string& resource) const {
  ZDAP_RETURN_IF_ERROR(FindResource(resource).status());
  ZDAP_ASSIGN_OR_RETURN(auto names, store_->ListSnapshots());
  auto clones = catalog_->List();
  std::vector<SnapshotInfo> out;
  for (const auto& n : names) {
    SnapshotId id;
    if (!ParseSnapshotId(n, &id).ok() || id.resource != resource) continue;
    SnapshotInfo info;
    info.id = n;
    info.created_at = ParseCompactUtc(id.stamp).value();
    info.clones = static_cast<int>(std::count_if(
        clones.begin(), clones.end(), [&](const CloneRecord& c) { return c.snapshot == n; }));
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.id > b.id; });
  return out;
}

runtime::ServerHandle Origin::HandleOf(const CloneRecord& record) {
  runtime::ServerHandle h;
  h.pid = record.pid;
  h.container_id = record.container_id;
  return h;
}

void Origin::StopOrphanServer(const std::string& data_dir, const std::string& run_dir,
                              const config::Resource* resource) {
  // The record that knew the server is gone; the engine's pid file in the run dir names it.
  // Without the resource, ask each engine in use where its pid file would be.
  std::vector<const config::Resource*> candidates;
  if (resource != nullptr) {
    candidates.push_back(resource);
  } else {
    std::set<std::string> seen;
    for (const auto& r : resources_) {
      if (seen.insert(r.engine).second) candidates.push_back(&r);
    }
  }
  for (const config::Resource* r : candidates) {
    auto spec = EngineFor(*r)->ServerCommand(*r, data_dir, run_dir, "", 0);
    if (!spec.ok() || spec->pid_file.empty()) continue;
    auto pidtext = ReadFile(spec->pid_file, 4096);
    if (!pidtext.ok()) continue;
    runtime::ServerHandle h;
    h.pid = static_cast<pid_t>(std::atol(pidtext->c_str()));
    if (!runtime_->Owns(h, data_dir)) continue;
    log::Warn("recover: stopping {} server pid {} of {}", EngineFor(*r)->name(), h.pid, data_dir);
    (void)runtime_->Stop(h, data_dir, spec->stop_signal, std::chrono::seconds(10));
    return;
  }
}

Result<runtime::ServerHandle> Origin::StartAndWait(
    const config::Resource& resource, const std::string& data_dir, const std::string& run_dir,
    const std::string& bind, int port, const std::string& clone, const std::string& owner,
    const std::string& password) {
  engine::Engine* engine = EngineFor(resource);
  ZDAP_ASSIGN_OR_RETURN(engine::ServerSpec spec,
                        engine->ServerCommand(resource, data_dir, run_dir, bind, port));
  if (!password.empty()) {
    ZDAP_RETURN_IF_ERROR(engine->PrepareClone(resource, password, run_dir, run_as_, &spec));
  }
  // A server killed without a clean shutdown (or a snapshot taken from one) leaves files that
  // would stop this start; nothing runs from this data dir now, so they are stale.
  for (const auto& stale : spec.stale_files) ::unlink(stale.c_str());
  runtime::StartOptions where;
  where.resource = &resource;
  where.run_dir = run_dir;
  where.clone = clone;
  where.owner = owner;
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle handle, runtime_->Start(spec, where));
  engine::Endpoint socket_ep;
  socket_ep.port = port;
  socket_ep.socket_dir = run_dir;
  engine::Endpoint ep = socket_ep;
  if (!bind.empty()) {
    ep.socket_dir.clear();
    ep.host = (bind == "0.0.0.0" || bind == "*") ? "127.0.0.1" : (bind == "::" ? "::1" : bind);
  }
  auto until = Clock::now() + kStartDeadline;
  auto fail = [&](const std::string& why) -> Status {
    std::string tail = runtime_->LogTail(handle, spec, 12);
    (void)runtime_->Stop(handle, data_dir, SIGKILL, std::chrono::seconds(5));  // docker: rm
    for (const auto& f : spec.secret_files) ::unlink(f.c_str());
    return Unavailable(fmt::format("the {} server {}: {}", engine->name(), why, tail));
  };
  // Probes with a short, growing back-off: a connect on loopback costs microseconds, and a
  // fresh clone of a cleanly stopped server is usually up within tens of milliseconds.
  auto wait_ready = [&](const engine::Endpoint& where, const config::Resource& probe_as) {
    auto pause = std::chrono::microseconds(500);
    for (;;) {
      engine::ProbeResult last = engine->Probe(where, probe_as, std::chrono::seconds(2));
      if (last.readiness == engine::Readiness::kReady) return Status::Ok();
      if (!runtime_->IsRunning(handle)) return fail("exited during start-up");
      if (Clock::now() >= until) {
        return fail(fmt::format("did not become ready within {} s ({})", kStartDeadline.count(),
                                last.detail));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(10000));
    }
  };
  config::Resource probe_as = resource;
  if (bind.empty()) probe_as.source.database = engine->admin_database();  // import: no db yet
  if (!password.empty()) {
    probe_as.password = password;
    if (engine->activates_after_start()) {
      // TCP is refused until the password is set over the socket (the engine waits for the
      // socket itself); then readiness is TCP's.
      Status activated = engine->ActivateClone(
          resource, socket_ep, data_dir, password, run_as_,
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()),
          [&] { return runtime_->IsRunning(handle); });
      if (!activated.ok()) return fail(activated.message());
    }
  }
  ZDAP_RETURN_IF_ERROR(wait_ready(ep, probe_as));
  for (const auto& f : spec.secret_files) ::unlink(f.c_str());
  return handle;
}

Result<CloneRecord> Origin::CreateClone(const CreateCloneRequest& req, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, FindResource(req.resource));
  const config::Resource& resource = *res;
  std::string snapshot = req.snapshot;
  if (snapshot.empty()) {
    ZDAP_ASSIGN_OR_RETURN(auto snaps, Snapshots(resource.name));
    if (snaps.empty()) {
      return Conflict(
          fmt::format("resource '{}' has no snapshot yet: refresh it first (zdapd "
                      "refresh {})",
                      resource.name, resource.name));
    }
    snapshot = snaps.front().id;
  } else {
    SnapshotId sid;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(snapshot, &sid));
    if (sid.resource != resource.name || !PathExists(store_->SnapshotPath(snapshot))) {
      return NotFound(fmt::format("snapshot '{}' not found", snapshot));
    }
  }
  std::chrono::seconds ttl = req.ttl.value_or(resource.clone_ttl);
  if (resource.clone_max_ttl.count() > 0 && (ttl.count() == 0 || ttl > resource.clone_max_ttl)) {
    return InvalidArgument(fmt::format("ttl {} is longer than resource '{}' allows ({})",
                                       FormatDuration(ttl), resource.name,
                                       FormatDuration(resource.clone_max_ttl)));
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
  rec.owner = caller.user;
  rec.state = CloneState::kCreating;
  rec.port = port;
  rec.created_at = SystemNow();
  if (ttl.count() > 0) rec.expires_at = rec.created_at + ttl;
  rec.is_protected = req.is_protected;
  // The record goes to disk first: after a crash, Recover() finds it and undoes the rest.
  Status st = catalog_->Insert(rec);
  if (!st.ok()) {
    ports_->Release(port);
    return st;
  }
  auto started = Clock::now();
  auto body = [&]() -> Status {
    std::string run_dir = RunDir(id);
    ZDAP_RETURN_IF_ERROR(PrepareRunDir(run_dir));
    ZDAP_ASSIGN_OR_RETURN(std::string password, MakeClonePassword(id));
    ZDAP_ASSIGN_OR_RETURN(std::string path, store_->Clone(snapshot, id));
    ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle h,
                          StartAndWait(resource, path, run_dir, config_.clone_bind, port, id,
                                       rec.owner, password));
    rec.pid = h.pid;
    rec.container_id = h.container_id;
    rec.state = CloneState::kReady;
    // Kept with the clone's volume too, so the store alone says what it is.
    storage::VolumeMeta meta = {
        {"resource", rec.resource}, {"snapshot", rec.snapshot},
        {"owner", rec.owner},       {"port", std::to_string(rec.port)},
        {"state", "ready"},         {"created_at", FormatRfc3339(rec.created_at)}};
    if (rec.expires_at) meta["expires_at"] = FormatRfc3339(*rec.expires_at);
    ZDAP_RETURN_IF_ERROR(store_->WriteMeta(storage::Area::kClone, id, meta));
    return catalog_->Update(rec);
  };
  st = body();
  if (!st.ok()) {
    log::Error("clone {} of {} failed: {}", id, snapshot, st.message());
    Status undo = TearDown(rec);
    if (!undo.ok()) log::Error("clone {}: undo failed: {}", id, undo.message());
    return st.Wrap(fmt::format("clone {}", id));
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  log::Info("clone {} of {} ready on port {} in {} ms (owner {})", id, snapshot, port, ms,
            caller.user);
  return rec;
}

Status Origin::TearDown(const CloneRecord& record) {
  Status first;
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = s;
  };
  const config::Resource* res = nullptr;
  if (auto r = FindResource(record.resource); r.ok()) res = *r;
  std::string path = store_->ClonePath(record.id);
  runtime::ServerHandle handle = HandleOf(record);
  if (!handle.empty()) {
    int sig = SIGTERM;  // resource gone from the config: the generic polite request
    if (res != nullptr) {
      if (auto spec = EngineFor(*res)->ServerCommand(*res, path, RunDir(record.id), "", 0);
          spec.ok()) {
        sig = spec->stop_signal;
      }
    }
    note(runtime_->Stop(handle, path, sig, kStopGrace));
  } else {
    // A crash between the server's start and the record's update: its pid file names it.
    StopOrphanServer(path, RunDir(record.id), res);
  }
  if (PathExists(path)) note(store_->DestroyClone(record.id));
  note(RemoveTree(RunDir(record.id)));
  if (::unlink(SecretPath(record.id).c_str()) != 0 && errno != ENOENT) {
    note(ErrnoError("unlink " + SecretPath(record.id), errno));
  }
  {
    std::lock_guard lock(secrets_mu_);
    secrets_.erase(record.id);
  }
  if (first.ok()) {
    note(catalog_->Remove(record.id));
    ports_->Release(record.port);
  }
  return first;
}

Result<CloneRecord> Origin::GetClone(const std::string& id, const Caller& caller) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  auto rec = catalog_->Get(id);
  // Someone else's clone is reported as missing, not forbidden: ids are not to be probed.
  if (!rec || (!caller.admin && rec->owner != caller.user)) {
    return NotFound(fmt::format("clone '{}' not found", id));
  }
  return *rec;
}

std::vector<CloneRecord> Origin::ListClones(const Caller& caller, bool all) const {
  std::vector<CloneRecord> out;
  for (auto& r : catalog_->List()) {
    if ((all && caller.admin) || r.owner == caller.user) out.push_back(std::move(r));
  }
  return out;
}

Status Origin::DestroyClone(const std::string& id, const Caller& caller) {
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, GetClone(id, caller));
  BusyGuard busy(busy_mu_, busy_, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  rec.state = CloneState::kDeleting;
  ZDAP_RETURN_IF_ERROR(catalog_->Update(rec));
  Status st = TearDown(rec);
  if (!st.ok()) {
    rec.state = CloneState::kFailed;
    (void)catalog_->Update(rec);
    return st.Wrap(fmt::format("destroy {}", id));
  }
  log::Info("clone {} destroyed (by {})", id, caller.user);
  // The last clone of a snapshot past `refresh.keep` lets it go now.
  if (auto res = FindResource(rec.resource); res.ok()) PruneSnapshots(**res);
  return Status::Ok();
}

int Origin::ExpireClones(SystemTime now) {
  int n = 0;
  for (const auto& r : catalog_->List()) {
    if (r.is_protected || !r.expires_at || *r.expires_at > now || r.state != CloneState::kReady) {
      continue;
    }
    log::Info("clone {} expired at {}; destroying it", r.id, FormatRfc3339(*r.expires_at));
    if (DestroyClone(r.id, Caller{"zdapd", true}).ok()) ++n;
  }
  return n;
}

CloneAccess Origin::AccessFor(const CloneRecord& record) const {
  CloneAccess a;
  a.host = config_.AdvertisedHost();
  a.origin = "";
  if (auto r = FindResource(record.resource); r.ok()) {
    const config::Resource& res = **r;
    a.database = res.source.database;
    a.user = res.user;
    a.engine = res.engine;
    config::Resource as_clone = res;
    if (auto pw = ClonePassword(record.id); pw.ok()) {
      as_clone.password = *pw;
    } else {
      // The resource's password does not open a clone: say so rather than hand it out.
      as_clone.password.clear();
      log::Warn("clone {}: no password file: {}", record.id, pw.status().message());
    }
    a.password = as_clone.password;
    a.uri = EngineFor(res)->ConnectionUri(as_clone, a.host, record.port);
  }
  return a;
}

Status Origin::Recover() {
  // 1. Clones in the catalog: keep what is whole, undo what is half-done.
  for (auto rec : catalog_->List()) {
    std::string path = store_->ClonePath(rec.id);
    if (rec.state == CloneState::kReady) {
      ports_->Hold(rec.port);
      if (runtime_->Owns(HandleOf(rec), path)) {
        log::Info("recover: clone {} is running ({} {}), adopted", rec.id, runtime_->name(),
                  rec.container_id.empty() ? std::to_string(rec.pid) : rec.container_id);
        continue;
      }
      // Whatever is left of the old server (docker: a stopped container) goes first.
      (void)runtime_->Stop(HandleOf(rec), path, SIGKILL, std::chrono::seconds(10));
      auto res = FindResource(rec.resource);
      if (res.ok() && PathExists(path)) {
        // The clone keeps its password; one made before clones had their own gets one now.
        auto password = ReadFile(SecretPath(rec.id), 4096);
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
      }
      rec.state = CloneState::kFailed;
      (void)catalog_->Update(rec);
      continue;
    }
    log::Info("recover: clone {} was left {}; undoing it", rec.id,
              catalog::CloneStateName(rec.state));
    ports_->Hold(rec.port);
    Status st = TearDown(rec);
    if (!st.ok()) log::Error("recover: clone {}: {}", rec.id, st.message());
  }
  // 2. Servers the runtime finds by itself (docker: labels) that no record owns: clones
  // destroyed while the daemon was down, a crash between a start and its record's update,
  // imports of refreshes that are not running any more.
  if (auto found = runtime_->ListServers(); found.ok()) {
    for (const auto& f : *found) {
      if (f.clone.rfind("import-", 0) == 0) {
        auto lock =
            FileLock::Acquire(config_.data_dir + "/locks/refresh-" + f.clone.substr(7), false, "");
        if (!lock.ok()) continue;  // a refresh is running right now
      } else if (auto rec = catalog_->Get(f.clone); rec && !f.handle.container_id.empty() &&
                                                    rec->container_id == f.handle.container_id) {
        continue;
      }
      log::Warn("recover: removing {} server {} of '{}': no clone owns it", runtime_->name(),
                f.handle.container_id, f.clone);
      (void)runtime_->Stop(f.handle, "", SIGKILL, std::chrono::seconds(10));
    }
  } else {
    log::Error("recover: cannot list {} servers: {}", runtime_->name(), found.status().message());
  }
  // 3. Clone volumes and run dirs that no record owns (a crash between steps).
  if (auto clones = store_->ListClones(); clones.ok()) {
    for (const auto& name : *clones) {
      if (catalog_->Get(name)) continue;
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
    StopOrphanServer(store_->ClonePath(name), e.path().string(), nullptr);
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
      StopOrphanServer(store_->VolumePath(v), run_dir, res.ok() ? *res : nullptr);
      (void)RemoveTree(run_dir);
      (void)store_->DestroyVolume(v);
    }
  }
  return Status::Ok();
}

}  // namespace zdap::origin
