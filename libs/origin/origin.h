// Origin: one zdapd host, independent of HTTP. It opens and wires the parts, each of which has
// its own header stating its contract:
//   resource_set.h  the resources served and their engines
//   secret_store.h  each clone's own password (0600 files, cached) and connection URI
//   servers.h       starting a database server and waiting until it answers; stopping them
//   snapshots.h     the snapshots of each resource: listing, ids, deletion, retention
//   clone_service.h create, get, list, update, reset, branch, destroy, expiry
//   pools.h         ready pool clones, their maintenance, and the claim that hands one over
//   refresher.h     new snapshots from each resource's source (source.h, dump_import.h)
//   recovery.h      what a crash left half-done, finished or undone before serving
// and owns the timed work (cron refreshes, the expiry sweeps, pool maintenance), so that
// zdapd and the tests run the same wiring. Thread-safe: the HTTP layer calls the parts from
// worker threads.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "catalog/port_allocator.h"
#include "config/daemon_config.h"
#include "core/env.h"
#include "origin/busy.h"
#include "origin/caller.h"
#include "origin/clone_service.h"
#include "origin/clone_view.h"
#include "origin/journal.h"
#include "origin/lifecycle_rules.h"
#include "origin/observer.h"
#include "origin/pools.h"
#include "origin/quota.h"
#include "origin/refresher.h"
#include "origin/resource_set.h"
#include "origin/scheduler.h"
#include "origin/secret_store.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "runtime/runtime.h"
#include "storage/driver.h"

namespace zdap::origin {

class Origin {
 public:
  // Loads resources and opens the store, catalog and runtime. Touches no server: call
  // Recover() before serving. `env` (null = Env::Default()) must outlive the Origin.
  static Result<std::unique_ptr<Origin>> Open(const config::DaemonConfig& config,
                                              Env* env = nullptr);
  ~Origin();  // stops the timed work; waits for refreshes in flight

  Status Recover();
  // Cron refreshes (each resource's `refresh.cron`, local time), and once a second the expiry
  // sweep, idle expiry and pool maintenance, on a thread of their own; a claim that takes a
  // pool clone runs the maintenance at once. StopTimedWork waits for the pass in progress.
  Status StartTimedWork();
  void StopTimedWork();
  // How far the timed work has got (tests wait on it after moving a FakeClockEnv): passes
  // completed and the calendar time of the last one; zeros while it is not running.
  struct TimedProgress {
    uint64_t passes = 0;
    SystemTime last_pass{};
  };
  TimedProgress timed_progress() const;
  // When `resource`'s next cron refresh is due; none without a schedule or while the timed
  // work is not running.
  std::optional<SystemTime> NextRefresh(const std::string& resource) const;

  const config::DaemonConfig& config() const { return config_; }
  Env& env() const { return env_; }
  const ResourceSet& resources() const { return *resources_; }
  CloneService& clones() { return *clones_; }
  Pools& pools() { return *pools_; }
  Snapshots& snapshots() { return *snapshots_; }
  Refresher& refresher() { return *refresher_; }
  storage::Driver& store() { return *store_; }
  const char* runtime_driver() const { return runtime_->name(); }
  // The API's URL as clients reach it: scheme, advertised host (else the listen host), port.
  const std::string& advertised_url() const { return views_->origin_url(); }
  // Once the listener is bound (a configured port 0 becomes the real one).
  void SetListenPort(int port);
  // Who is told what happens (observer.h); set before serving, null = nobody. Outlives the
  // Origin or is reset to null first.
  void SetObserver(OriginObserver* observer) { observer_.Set(observer); }

 private:
  explicit Origin(Env& env) : env_(env) {}
  void KickTimedWork();

  config::DaemonConfig config_;
  Env& env_;
  ObserverSlot observer_;
  // In the order they are made; each refers only to those above it.
  std::unique_ptr<ResourceSet> resources_;
  std::unique_ptr<storage::Driver> store_;
  std::optional<RunAs> run_as_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<Journal> journal_;  // <data_dir>/journal
  std::unique_ptr<catalog::PortAllocator> ports_;
  std::unique_ptr<SecretStore> secrets_;
  std::unique_ptr<Servers> servers_;
  std::unique_ptr<Snapshots> snapshots_;
  std::unique_ptr<CloneViews> views_;
  std::unique_ptr<Quota> quota_;
  IdleTracker idle_;
  BusySet busy_;
  std::unique_ptr<CloneService> clones_;
  std::unique_ptr<Pools> pools_;
  std::unique_ptr<Refresher> refresher_;
  mutable std::mutex timed_mu_;
  std::unique_ptr<Scheduler> scheduler_;  // while the timed work runs
};

}  // namespace zdap::origin
