#include "clone_object.h"

#include <utility>

#include "core/time.h"

namespace zdap::daemon {

api::Clone ToApi(origin::CloneView v) {
  api::Clone c;
  c.id = std::move(v.id);
  c.resource = std::move(v.resource);
  c.snapshot = std::move(v.snapshot);
  c.owner = std::move(v.owner);
  c.state = std::move(v.state);
  c.host = std::move(v.host);
  c.port = v.port;
  c.database = std::move(v.database);
  c.user = std::move(v.user);
  c.password = std::move(v.password);
  c.uri = std::move(v.uri);
  c.created_at = FormatRfc3339(v.created_at);
  if (v.expires_at) c.expires_at = FormatRfc3339(*v.expires_at);
  c.is_protected = v.is_protected;
  c.pooled = v.pooled;
  c.origin = std::move(v.origin);
  c.engine = std::move(v.engine);
  c.error = std::move(v.error);
  return c;
}

}  // namespace zdap::daemon
