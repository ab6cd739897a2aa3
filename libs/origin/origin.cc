// Origin's wiring: opening the store, runtime, catalog and engines from the daemon config, and
// the small helpers every operation shares (resources, run dirs, secrets, snapshot listing).
#include "origin/origin.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "core/file_util.h"
#include "core/local_host.h"
#include "core/names.h"
#include "core/random_secret.h"
#include "storage/store_layout.h"

namespace zdap::origin {
namespace {

// scheme://host:port of the API: `advertise` if set, else the listen host unless it is a
// wildcard, else the host clone addresses use.
std::string AdvertisedUrl(const config::DaemonConfig& c, int port) {
  std::string host;
  int listen_port = 0;
  if (!config::SplitHostPort(c.listen, &host, &listen_port).ok()) listen_port = 0;
  if (port <= 0) port = listen_port;
  if (!c.advertise.empty()) {
    host = c.advertise;
  } else if (IsWildcardHost(host)) {
    host = c.AdvertisedHost();
  }
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return fmt::format("{}://{}:{}", c.tls_cert.empty() ? "http" : "https", host, port);
}

}  // namespace

using catalog::CloneRecord;

Origin::~Origin() {
  // A refresh in flight is waited for: its import server and volume are ours to clean up.
  std::lock_guard lock(job_threads_mu_);
  for (auto& [job, thread] : job_threads_) thread.join();
}

Result<std::unique_ptr<Origin>> Origin::Open(const config::DaemonConfig& config, Env* env) {
  std::unique_ptr<Origin> o(new Origin());
  o->config_ = config;
  o->advertised_url_ = AdvertisedUrl(config, 0);
  o->env_ = env != nullptr ? env : Env::Default();
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
    o->runtime_ = std::make_unique<runtime::ProcessRuntime>(o->run_as_, o->store_->root());
  } else {
    return InvalidArgument(
        fmt::format("'{}' is not a runtime: use process or docker", config.runtime_driver));
  }
  ZDAP_ASSIGN_OR_RETURN(o->catalog_, catalog::Catalog::Open(config.data_dir + "/catalog"));
  ZDAP_ASSIGN_OR_RETURN(o->journal_, Journal::Open(config.data_dir + "/journal"));
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

void Origin::SetListenPort(int port) {
  advertised_url_ = AdvertisedUrl(config_, port);
}

std::string Origin::NewSnapshotId(const config::Resource& resource) {
  // Ids have one-second resolution; wait out a collision rather than failing.
  std::string id;
  for (int i = 0; i < 3; ++i) {
    id = resource.name + "@" + FormatCompactUtc(env_->Now());
    if (!PathExists(store_->SnapshotPath(id)) && !PathExists(store_->VolumePath(id))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  }
  return id;
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

Result<std::string> Origin::MakeClonePassword(const std::string& clone,
                                              const std::string& chosen) const {
  ZDAP_ASSIGN_OR_RETURN(std::string password, NewClonePassword(chosen));
  ZDAP_RETURN_IF_ERROR(StoreClonePassword(clone, password));
  return password;
}

Result<std::string> Origin::NewClonePassword(const std::string& chosen) {
  if (!chosen.empty()) return chosen;
  // 24 bytes: 192 bits, 32 URL-safe characters.
  return RandomUrlSafeSecret(24);
}

Status Origin::StoreClonePassword(const std::string& clone, const std::string& password) const {
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(SecretPath(clone), password, 0600));
  RememberClonePassword(clone, password);
  return Status::Ok();
}

Status Origin::StageClonePassword(const std::string& clone, const std::string& password) const {
  ZDAP_RETURN_IF_ERROR(ReplaceFile(SecretPath(clone), password, 0600));
  RememberClonePassword(clone, password);
  return Status::Ok();
}

Status Origin::SyncClonePassword(const std::string& clone) const {
  ZDAP_RETURN_IF_ERROR(SyncFile(SecretPath(clone)));
  return SyncDir(config_.data_dir + "/secrets");
}

void Origin::RememberClonePassword(const std::string& clone, const std::string& password) const {
  std::lock_guard lock(secrets_mu_);
  secrets_[clone] = password;
}

Result<std::string> Origin::ClonePassword(const std::string& clone) const {
  {
    std::lock_guard lock(secrets_mu_);
    if (auto it = secrets_.find(clone); it != secrets_.end()) return it->second;
  }
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadFile(SecretPath(clone), 4096));
  if (password.empty()) return NotFound(SecretPath(clone) + " is empty");
  RememberClonePassword(clone, password);
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

}  // namespace zdap::origin
