#include "clone_view.h"

#include "core/time.h"

namespace zdap::daemon {

api::Clone CloneView(const origin::Origin& origin, const catalog::CloneRecord& r) {
  origin::CloneAccess access = origin.AccessFor(r);
  api::Clone c;
  c.id = r.id;
  c.resource = r.resource;
  c.snapshot = r.snapshot;
  c.owner = r.owner;
  c.state = catalog::CloneStateName(r.state);
  c.host = access.host;
  c.port = r.port;
  c.database = access.database;
  c.user = access.user;
  c.password = access.password;
  c.uri = access.uri;
  c.created_at = FormatRfc3339(r.created_at);
  if (r.expires_at) c.expires_at = FormatRfc3339(*r.expires_at);
  c.is_protected = r.is_protected;
  c.pooled = r.pooled;
  c.origin = access.origin;
  c.engine = access.engine;
  c.error = r.error;
  return c;
}

}  // namespace zdap::daemon
