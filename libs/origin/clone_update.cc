// CloneService::Update: extend a clone's life and protect or unprotect it (PATCH).
#include <fmt/format.h>

#include "core/log.h"
#include "origin/clone_service.h"

namespace zdap::origin {

using catalog::CloneRecord;
using catalog::CloneState;

Result<CloneView> CloneService::Update(const std::string& id, const UpdateCloneRequest& req,
                                       const Caller& caller) {
  if (!req.ttl && !req.is_protected) {
    return InvalidArgument("nothing to change: give ttl and/or protected");
  }
  ZDAP_ASSIGN_OR_RETURN(CloneRecord rec, Visible(id, caller));
  ZDAP_ASSIGN_OR_RETURN(const config::Resource* res, p_.resources.Find(rec.resource));
  if (req.ttl) {
    std::chrono::seconds max = res->clone_max_ttl;
    // ttl 0 is "never expires": past any max_ttl.
    if (!caller.admin && max.count() > 0 && (req.ttl->count() == 0 || *req.ttl > max)) {
      return Unprocessable(
          fmt::format("ttl {} is past max_ttl {} of resource '{}' (from now); ask an "
                      "admin, or protect the clone",
                      req.ttl->count() == 0 ? "0 (never)" : FormatDuration(*req.ttl),
                      FormatDuration(max), res->name));
    }
  }
  BusyGuard busy(p_.busy, id);
  if (!busy.acquired()) {
    return Conflict(fmt::format("clone '{}' is busy with another operation; try again", id));
  }
  // Re-read under the guard: a reset or destroy may have finished meanwhile.
  ZDAP_ASSIGN_OR_RETURN(rec, Visible(id, caller));
  if (rec.state == CloneState::kDeleting) {
    return Conflict(fmt::format("clone '{}' is being deleted", id));
  }
  if (req.ttl) {
    if (req.ttl->count() == 0) {
      rec.expires_at.reset();
    } else {
      rec.expires_at = p_.env.Now() + *req.ttl;
    }
  }
  if (req.is_protected && *req.is_protected && !rec.is_protected) {
    // Protected clones never expire: one user must not pin every free port with them.
    ZDAP_RETURN_IF_ERROR(p_.quota.Check(*res, caller, true, Quota::For::kProtectHeld));
  }
  if (req.is_protected) rec.is_protected = *req.is_protected;
  ZDAP_RETURN_IF_ERROR(p_.catalog.Update(rec));
  log::Info("clone {}: expires {}, {} (by {})", id,
            rec.expires_at ? FormatRfc3339(*rec.expires_at) : "never",
            rec.is_protected ? "protected" : "not protected", caller.user);
  observer()->CloneUpdated(rec, caller.user);
  return p_.views.Of(rec, caller);
}

}  // namespace zdap::origin
