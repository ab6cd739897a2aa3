#include "zdap/placement.h"

#include <fmt/format.h>

#include "core/log.h"

namespace zdap::cli {

Result<OriginApi> OriginFor(const UserConfig& config, const std::string& url) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl parsed, net::ParseHttpUrl(url));
  const OriginEntry* entry = config.FindOrigin(parsed.ToString());
  if (entry == nullptr) return OriginApi(parsed, "", config.user);
  return OriginApi(parsed, entry->token, config.user, entry->ca);
}

Result<OriginApi> ChooseOrigin(const UserConfig& config, const std::string& forced) {
  if (!forced.empty()) return OriginFor(config, forced);
  if (config.origins.empty()) {
    return NotFound("no origin configured; add one with `zdap origin add URL [--token T]`");
  }
  std::string reasons;
  for (const auto& o : config.origins) {
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, o.url));
    auto health = api.Health();
    if (health.ok()) return api;
    log::Debug("origin {} skipped: {}", o.url, health.status().message());
    reasons += (reasons.empty() ? "" : "; ") + health.status().message();
  }
  return Unavailable(
      fmt::format("no configured origin answers ({}); start zdapd or check "
                  "`zdap origin list -v`",
                  reasons));
}

}  // namespace zdap::cli
