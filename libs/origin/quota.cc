#include "origin/quota.h"

#include <fmt/format.h>

#include "origin/lifecycle_rules.h"

namespace zdap::origin {

Status Quota::Check(const config::Resource& resource, const Caller& caller, bool wants_protected,
                    For what) const {
  if (caller.admin) return Status::Ok();
  const bool count_clones = what == For::kNewClone;
  QuotaCheck daemon{count_clones ? clones_per_user_ : 0, 0, protected_per_user_, 0, ""};
  QuotaCheck own{count_clones ? resource.quota_clones_per_user : 0, 0,
                 resource.quota_protected_per_user, 0, fmt::format("resource '{}'", resource.name)};
  for (const auto& r : catalog_.List()) {
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
