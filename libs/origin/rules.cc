#include "origin/rules.h"

#include <fmt/format.h>

namespace zdap::origin {

bool ExpiredAt(const catalog::CloneRecord& clone, SystemTime now) {
  return !clone.is_protected && clone.expires_at && *clone.expires_at <= now &&
         (clone.state == catalog::CloneState::kReady ||
          clone.state == catalog::CloneState::kFailed);
}

Result<std::chrono::seconds> CloneTtl(const config::Resource& resource,
                                      std::optional<std::chrono::seconds> requested) {
  std::chrono::seconds ttl = requested.value_or(resource.clone_ttl);
  if (resource.clone_max_ttl.count() > 0 && (ttl.count() == 0 || ttl > resource.clone_max_ttl)) {
    return InvalidArgument(fmt::format("ttl {} is longer than resource '{}' allows ({})",
                                       FormatDuration(ttl), resource.name,
                                       FormatDuration(resource.clone_max_ttl)));
  }
  return ttl;
}

}  // namespace zdap::origin
