// Origin: opening and wiring the parts, and the timed work.
#include "origin/origin.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/cron.h"
#include "core/local_host.h"
#include "core/log.h"
#include "origin/recovery.h"

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

// The server user must be able to reach its data: every parent directory of the store needs
// 'x' for it.
Status CheckTraversable(Env& env, const std::string& root, const RunAs& run_as) {
  std::string probe = std::filesystem::absolute(root).string();
  for (std::filesystem::path p(probe); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    auto st = env.Stat(p.string());
    if (st.ok() && (st->mode & S_IXOTH) == 0 && st->uid != run_as.uid) {
      return InvalidArgument(fmt::format(
          "database servers run as '{}', which cannot enter {} (mode {:o}): put data_dir "
          "somewhere world-traversable such as /var/lib/zdap",
          run_as.name, p.string(), st->mode & 07777));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Origin>> Origin::Open(const config::DaemonConfig& config, Env* env_arg) {
  Env& env = env_arg != nullptr ? *env_arg : *Env::Default();
  std::unique_ptr<Origin> o(new Origin(env));
  o->config_ = config;
  const std::string& data = config.data_dir;
  ZDAP_ASSIGN_OR_RETURN(o->resources_, ResourceSet::Load(config.config_dir, env));
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(data, 0755));
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(data + "/run", 0755));
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(data + "/locks", 0700));
  ZDAP_RETURN_IF_ERROR(env.MakeDirs(data + "/secrets", 0700));
  storage::StorageConfig sc;
  sc.driver = config.storage_driver;
  sc.path = config.StorePath();
  sc.dataset = config.storage_dataset;
  ZDAP_ASSIGN_OR_RETURN(o->store_, storage::OpenStore(sc));
  ZDAP_ASSIGN_OR_RETURN(o->run_as_, runtime::ResolveServerUser(config.runtime_user));
  if (config.runtime_driver == "docker") {
    runtime::DockerRuntimeOptions d;
    d.socket = config.docker_socket;
    d.origin = std::filesystem::absolute(data).lexically_normal().string();
    d.run_as = o->run_as_;
    ZDAP_ASSIGN_OR_RETURN(o->runtime_, runtime::OpenDockerRuntime(d));
  } else if (config.runtime_driver == "process") {
    o->runtime_ = std::make_unique<runtime::ProcessRuntime>(o->run_as_, o->store_->root());
  } else {
    return InvalidArgument(
        fmt::format("'{}' is not a runtime: use process or docker", config.runtime_driver));
  }
  ZDAP_ASSIGN_OR_RETURN(o->catalog_, catalog::Catalog::Open(data + "/catalog"));
  ZDAP_ASSIGN_OR_RETURN(o->journal_, Journal::Open(data + "/journal", env));
  o->ports_ = std::make_unique<catalog::PortAllocator>(config.clone_bind, config.clone_port_first,
                                                       config.clone_port_last);
  if (o->run_as_) ZDAP_RETURN_IF_ERROR(CheckTraversable(env, o->store_->root(), *o->run_as_));

  o->secrets_ = std::make_unique<SecretStore>(env, data + "/secrets");
  o->servers_ = std::make_unique<Servers>(env, *o->runtime_, *o->resources_, *o->store_,
                                          *o->secrets_, o->run_as_, data, config.clone_bind);
  o->snapshots_ =
      std::make_unique<Snapshots>(env, *o->resources_, *o->store_, *o->catalog_, &o->observer_);
  o->views_ = std::make_unique<CloneViews>(*o->resources_, *o->secrets_, config.AdvertisedHost());
  o->views_->SetOriginUrl(AdvertisedUrl(config, 0));
  o->quota_ = std::make_unique<Quota>(*o->catalog_, config.quota_clones_per_user,
                                      config.quota_protected_per_user);
  o->clones_ = std::make_unique<CloneService>(
      CloneServiceParts{env, *o->resources_, *o->store_, *o->catalog_, *o->ports_, *o->journal_,
                        *o->secrets_, *o->servers_, *o->snapshots_, *o->views_, *o->quota_,
                        o->idle_, o->busy_, config.clone_bind, &o->observer_});
  o->pools_ = std::make_unique<Pools>(PoolParts{
      env, *o->resources_, *o->store_, *o->catalog_, *o->journal_, *o->secrets_, *o->servers_,
      *o->snapshots_, *o->clones_, *o->views_, *o->quota_, o->idle_, o->busy_, &o->observer_});
  ZDAP_ASSIGN_OR_RETURN(
      o->refresher_,
      Refresher::Make(RefresherParts{env, *o->resources_, *o->store_, *o->journal_, *o->servers_,
                                     *o->snapshots_, data + "/locks", data + "/refreshes",
                                     MakeSource, &o->observer_, config.replication_rate_limit}));
  Origin* self = o.get();
  o->pools_->OnTaken([self] { self->KickTimedWork(); });
  return o;
}

Origin::~Origin() {
  StopTimedWork();
}

Status Origin::Recover() {
  Recovery recovery(RecoveryParts{env_, *resources_, *store_, *catalog_, *ports_, *journal_,
                                  *secrets_, *servers_, *snapshots_, *clones_, *refresher_,
                                  config_.clone_bind, config_.data_dir + "/run"});
  return recovery.Run();
}

void Origin::SetListenPort(int port) {
  views_->SetOriginUrl(AdvertisedUrl(config_, port));
}

Status Origin::StartTimedWork() {
  std::vector<ScheduledRefresh> scheduled;
  for (const auto& r : resources_->all()) {
    if (r.refresh_cron.empty()) continue;
    auto cron = CronSchedule::Parse(r.refresh_cron);  // validated at load
    if (!cron.ok()) return cron.status().Wrap("resource " + r.name);
    log::Info("refresh {}: scheduled '{}' (local time)", r.name, r.refresh_cron);
    scheduled.push_back({r.name, *cron});
  }
  SchedulerActions actions;
  actions.start_refresh = [this](const std::string& resource) {
    return refresher_->Start(resource).status();
  };
  actions.expire_clones = [this](SystemTime now) {
    clones_->ExpireClones(now);
    ObserverSlot::Of(&observer_)->ExpirySwept(now);
  };
  actions.maintain = [this](SystemTime now) {
    clones_->ExpireIdle(now);
    pools_->Maintain(now);
  };
  std::lock_guard lock(timed_mu_);
  if (scheduler_) return Conflict("the timed work runs already");
  scheduler_ = std::make_unique<Scheduler>(env_, std::move(scheduled), std::move(actions));
  scheduler_->Start();
  return Status::Ok();
}

void Origin::StopTimedWork() {
  std::unique_ptr<Scheduler> stopping;
  {
    std::lock_guard lock(timed_mu_);
    stopping = std::move(scheduler_);
  }
  if (stopping) stopping->Stop();
}

Origin::TimedProgress Origin::timed_progress() const {
  std::lock_guard lock(timed_mu_);
  if (!scheduler_) return {};
  return TimedProgress{scheduler_->passes(), scheduler_->last_pass()};
}

std::optional<SystemTime> Origin::NextRefresh(const std::string& resource) const {
  std::lock_guard lock(timed_mu_);
  if (!scheduler_) return std::nullopt;
  return scheduler_->NextRefresh(resource);
}

void Origin::KickTimedWork() {
  std::lock_guard lock(timed_mu_);
  if (scheduler_) scheduler_->Kick();
}

}  // namespace zdap::origin
