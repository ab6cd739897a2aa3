// CloneService: the life of a clone, from create to destroy (SPEC "Lifecycle rules"):
//   create   record first (journalled), then port, volume, secret, server; returned only once
//            the server answers its wire protocol with the clone's own password in force;
//   reset    fresh data under the same id, port, owner and password (clone_reset.cc);
//   branch   the clone's data saved as a new snapshot (clone_branch.cc);
//   update   extend (ttl from now, held to max_ttl) and protect (clone_update.cc);
//   destroy  journalled, then the one teardown (clone_teardown.cc);
//   expiry   the sweeps of clones past expires_at and of idle clones (clone_expiry.cc).
// Any failure midway undoes what was done; what a crash interrupts, Recovery finishes or
// undoes from the journal entry each operation writes first. One operation at a time per
// clone (BusySet). Answers are CloneViews for the caller: a user sees and touches only their
// own clones (another's is "not found"), an admin all of them. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/port_allocator.h"
#include "core/env.h"
#include "origin/busy.h"
#include "origin/caller.h"
#include "origin/clone_view.h"
#include "origin/journal.h"
#include "origin/lifecycle_rules.h"
#include "origin/observer.h"
#include "origin/quota.h"
#include "origin/resource_set.h"
#include "origin/secret_store.h"
#include "origin/servers.h"
#include "origin/snapshots.h"
#include "storage/driver.h"

namespace zdap::origin {

struct CreateCloneRequest {
  std::string resource;
  std::string snapshot;  // "" = newest
  std::string name;      // "" = generated <resource>-<4 hex>
  std::optional<std::chrono::seconds> ttl;
  bool is_protected = false;
  bool pooled = false;  // a pool clone: no owner, no expiry, outside quotas
  // The owner's choice (ValidateClonePassword, core/clone_password.h); "" = a random one.
  // Either way it is the clone's secret file and nothing else keeps it.
  std::string password;
};

// PATCH of a clone: what is absent stays as it is.
struct UpdateCloneRequest {
  std::optional<std::chrono::seconds> ttl;  // new expires_at = now + ttl; 0 = never
  std::optional<bool> is_protected;
};

// What the clone service works with; each part outlives it.
struct CloneServiceParts {
  Env& env;
  const ResourceSet& resources;
  storage::Driver& store;
  catalog::Catalog& catalog;
  catalog::PortAllocator& ports;
  Journal& journal;
  SecretStore& secrets;
  Servers& servers;
  Snapshots& snapshots;
  const CloneViews& views;
  const Quota& quota;
  IdleTracker& idle;
  BusySet& busy;
  std::string clone_bind;                  // where clone servers listen
  const ObserverSlot* observer = nullptr;  // told of creates, resets, updates and destroys
};

class CloneService {
 public:
  explicit CloneService(CloneServiceParts parts) : p_(std::move(parts)) {}

  Result<CloneView> Create(const CreateCloneRequest& request, const Caller& caller);
  Result<CloneView> Get(const std::string& id, const Caller& caller) const;
  // The caller's clones; with `all`, an admin's list has every clone, pool clones included.
  std::vector<CloneView> List(const Caller& caller, bool all) const;
  Status Destroy(const std::string& id, const Caller& caller);
  // A plain user cannot extend past the resource's max_ttl from now (Unprocessable naming
  // it); an admin can. Protecting is held to the protected-clones quota.
  Result<CloneView> Update(const std::string& id, const UpdateCloneRequest& request,
                           const Caller& caller);
  // From `snapshot` ("" = the newest). On failure the clone is left as it was (old volume,
  // server restarted) or, if even that fails, `failed` with the reason.
  Result<CloneView> Reset(const std::string& id, const std::string& snapshot, const Caller& caller);
  // The server is stopped cleanly for the copy and started again, so the image is a clean
  // shutdown's.
  Result<SnapshotInfo> Branch(const std::string& id, const Caller& caller);

  // Destroys clones past expires_at (unless protected); returns how many.
  int ExpireClones(SystemTime now);
  // Probes clones whose resource has `clone.idle_timeout` (the engine's own session count)
  // and destroys those without a client session for that long; returns how many.
  int ExpireIdle(SystemTime now);

  // For the pools and recovery, which hold the clone (BusyGuard) or run alone:
  // the one crash-safe way a clone goes: journalled, marked deleting, torn down; a failure
  // leaves the record `failed` and the journal entry for Recovery.
  Status DestroyHeld(catalog::CloneRecord record);
  // Stops the server and removes volume, run dir, secret, port and record. Idempotent; the
  // record goes only once all else has.
  Status TearDown(const catalog::CloneRecord& record);

 private:
  // The record of `id` if `caller` may see it: NotFound for another user's (ids are not to
  // be probed) and for pool clones, which belong to nobody until claimed.
  Result<catalog::CloneRecord> Visible(const std::string& id, const Caller& caller) const;
  // Records what a ready clone's volume is with the volume (storage VolumeMeta).
  Status WriteCloneMeta(const catalog::CloneRecord& record);
  void PruneAfter(const std::string& resource);
  // Destroy for `caller`, told with `reason`.
  Status DestroyFor(const std::string& id, const Caller& caller, DestroyReason reason);
  ObserverCall observer() const { return ObserverSlot::Of(p_.observer); }

  CloneServiceParts p_;
};

}  // namespace zdap::origin
