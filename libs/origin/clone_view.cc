#include "origin/clone_view.h"

#include "core/log.h"

namespace zdap::origin {

CloneView CloneViews::Of(const catalog::CloneRecord& r, const Caller& caller) const {
  CloneView v;
  v.id = r.id;
  v.resource = r.resource;
  v.snapshot = r.snapshot;
  v.owner = r.owner;
  v.state = catalog::CloneStateName(r.state);
  v.host = host_;
  v.port = r.port;
  v.created_at = r.created_at;
  v.expires_at = r.expires_at;
  v.is_protected = r.is_protected;
  v.pooled = r.pooled;
  v.origin = origin_url_;
  v.error = r.error;
  auto found = resources_.Find(r.resource);
  if (!found.ok()) return v;
  const config::Resource& res = **found;
  v.database = res.source.database;
  v.user = res.user;
  v.engine = res.engine;
  // A clone being created has no secret yet: do not look for one (a file read and a warning
  // per listed clone per request, during exactly the bursts when answers must stay fast).
  if (r.state == catalog::CloneState::kCreating) return v;
  // SPEC: a password is given only to its owner. An admin sees and acts on every clone, but
  // sees another's (and a pool clone, which nobody owns yet) without its password.
  const bool owner = !r.pooled && !r.owner.empty() && r.owner == caller.user;
  if (owner) {
    if (auto pw = secrets_.Password(r.id); pw.ok()) {
      v.password = std::move(pw).value();
    } else {
      // The resource's password does not open a clone: say so rather than hand it out.
      log::Warn("clone {}: no password file: {}", r.id, pw.status().message());
    }
  }
  if (auto uri = secrets_.CachedUri(r.id, r.port, v.password)) {
    v.uri = std::move(*uri);
    return v;
  }
  config::Resource as_clone = res;  // a full copy: made once per clone, port and password
  as_clone.password = v.password;
  v.uri = resources_.EngineFor(res).ConnectionUri(as_clone, host_, r.port);
  secrets_.RememberUri(r.id, r.port, v.password, v.uri);
  return v;
}

}  // namespace zdap::origin
