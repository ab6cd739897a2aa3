#include "events/expiry_notices.h"

#include <set>

namespace zdap::events {

std::vector<api::Event> ExpiryNotices::Due(const std::vector<ExpiringClone>& clones,
                                           SystemTime now) {
  std::vector<api::Event> out;
  if (warning_.count() <= 0) return out;
  std::set<std::string> present;
  for (const ExpiringClone& c : clones) {
    present.insert(c.clone);
    if (c.is_protected || !c.expires_at) continue;
    if (now < *c.expires_at - warning_ || now >= *c.expires_at) continue;
    auto it = announced_.find(c.clone);
    if (it != announced_.end() && it->second == *c.expires_at) continue;
    announced_[c.clone] = *c.expires_at;
    api::Event e;
    e.type = std::string(api::event_type::kCloneExpiring);
    e.clone = c.clone;
    e.owner = c.owner;
    e.resource = c.resource;
    e.snapshot = c.snapshot;
    e.expires_at = FormatRfc3339(*c.expires_at);
    out.push_back(std::move(e));
  }
  // Forget clones that are gone, so that the map does not grow with every clone ever made.
  for (auto it = announced_.begin(); it != announced_.end();) {
    it = present.count(it->first) ? std::next(it) : announced_.erase(it);
  }
  return out;
}

}  // namespace zdap::events
