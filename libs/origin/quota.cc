// Quotas: how many clones (and protected clones) one user may hold, daemon-wide and per
// resource. Pool clones belong to nobody and count for no one.
#include <fmt/format.h>

#include "origin/origin.h"

namespace zdap::origin {

Status Origin::CheckQuota(const config::Resource& resource, const Caller& caller,
                          bool wants_protected, QuotaFor what) const {
  if (caller.admin) return Status::Ok();
  const bool count_clones = what == QuotaFor::kNewClone;
  QuotaCheck daemon{count_clones ? config_.quota_clones_per_user : 0, 0,
                    config_.quota_protected_per_user, 0, ""};
  QuotaCheck own{count_clones ? resource.quota_clones_per_user : 0, 0,
                 resource.quota_protected_per_user, 0, fmt::format("resource '{}'", resource.name)};
  for (const auto& r : catalog_->List()) {
    if (r.pooled || r.owner != caller.user) continue;
    ++daemon.clones_held;
    if (r.is_protected) ++daemon.protected_held;
    if (r.resource == resource.name) {
      ++own.clones_held;
      if (r.is_protected) ++own.protected_held;
    }
  }
  ZDAP_RETURN_IF_ERROR(QuotaAllows(daemon, caller.user, caller.admin, wants_protected));
  return QuotaAllows(own, caller.user, caller.admin, wants_protected);
}

}  // namespace zdap::origin
