// Recovery: after a restart (or a crash, kill -9 included) keep what is whole and undo what is
// half-done, before anything is served (SPEC: no volume, process, container or port leaks).
//   0. The journal, oldest first: each operation a crash interrupted (create, destroy,
//      refresh, reset, claim, branch) is finished or undone by its `op`, then its entry goes.
//   1. The catalog: ready clones are adopted (their server runs) or started again with their
//      secret file's password; failed ones are kept for their owner, without a server;
//      creating or deleting ones are torn down.
//   2. Servers the runtime finds that no record owns are stopped.
//   3. Clone volumes, secret files and run dirs that no record owns are removed.
//   4. Import volumes of refreshes that are not running any more are removed, and standbys
//      whose resource is no longer a replica (with their slot on the primary).
//   5. Each source adopts what it keeps running (a standby).
#pragma once

#include "catalog/catalog.h"
#include "catalog/port_allocator.h"
#include "core/env.h"
#include "core/result.h"
#include "origin/clone_service.h"
#include "origin/journal.h"
#include "origin/refresher.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "storage/driver.h"

namespace zdap::origin {

// What recovery works with; each part outlives it.
struct RecoveryParts {
  Env& env;
  const ResourceSet& resources;
  storage::Driver& store;
  catalog::Catalog& catalog;
  catalog::PortAllocator& ports;
  Journal& journal;
  SecretStore& secrets;
  Servers& servers;
  Snapshots& snapshots;
  CloneService& clones;
  Refresher& refresher;
  std::string clone_bind;
  std::string run_root;  // <data_dir>/run
};

class Recovery {
 public:
  explicit Recovery(RecoveryParts parts) : p_(std::move(parts)) {}
  // Each step logs what it did; a step that fails for one item goes on with the next.
  Status Run();

 private:
  // Finishes or undoes one journal entry; Ok = the entry can go.
  Status RecoverEntry(const JournalEntry& entry);
  Status RecoverRefresh(const JournalEntry& entry);
  Status RecoverReset(const JournalEntry& entry);
  Status RecoverClaim(const JournalEntry& entry);
  Status RecoverBranch(const JournalEntry& entry);
  void RecoverClones();
  void StopUnownedServers();
  void RemoveUnowned();
  const config::Resource* ResourceOrNull(const std::string& name) const;
  // True if `name` (a volume, run dir or server label) is the standby of a configured
  // replica resource (standby.h): its source adopts it; anything else named so is removed.
  bool IsLiveStandby(const std::string& name) const;

  RecoveryParts p_;
};

}  // namespace zdap::origin
