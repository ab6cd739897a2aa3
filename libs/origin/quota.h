// Quota: how many clones (and protected clones) one user may hold, daemon-wide (zdapd's
// quota settings) and per resource (its `quota:`), counted from the catalog. Pool clones
// belong to nobody and count for no one; admins are exempt. Thread-safe.
#pragma once

#include "catalog/catalog.h"
#include "config/resource.h"
#include "core/result.h"
#include "origin/caller.h"

namespace zdap::origin {

class Quota {
 public:
  // The daemon-wide limits (0 = none).
  Quota(const catalog::Catalog& catalog, int clones_per_user, int protected_per_user)
      : catalog_(catalog),
        clones_per_user_(clones_per_user),
        protected_per_user_(protected_per_user) {}

  // kNewClone: one more clone (protected if `wants_protected`). kProtectHeld: a clone the
  // caller holds already becomes protected, so only the protected count is judged.
  enum class For { kNewClone, kProtectHeld };
  // PermissionDenied naming the limit and the count if `caller` may not.
  Status Check(const config::Resource& resource, const Caller& caller, bool wants_protected,
               For what = For::kNewClone) const;

 private:
  const catalog::Catalog& catalog_;
  const int clones_per_user_;
  const int protected_per_user_;
};

}  // namespace zdap::origin
