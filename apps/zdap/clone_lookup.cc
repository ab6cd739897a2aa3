#include "zdap/clone_lookup.h"

#include <fmt/format.h>

#include "core/names.h"
#include "zdap/placement.h"
#include "zdap/suggest.h"

namespace zdap::cli {

Result<UserConfig> LoadConfigWithOrigins() {
  ZDAP_ASSIGN_OR_RETURN(std::string path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(path));
  if (config.origins.empty()) {
    return NotFound("no origin configured; add one with `zdap origin add URL [--token T]`");
  }
  return config;
}

Result<FoundClone> FindClone(const UserConfig& config, const std::string& id) {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  std::vector<std::string> unreachable;
  std::vector<std::string> known;
  for (const auto& o : config.origins) {
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, o.url));
    auto clone = api.GetClone(id);
    if (clone.ok()) return FoundClone{std::move(api), std::move(*clone)};
    if (clone.status().code() != Code::kNotFound) {
      unreachable.push_back(clone.status().message());
      continue;
    }
    if (auto mine = api.ListClones(); mine.ok()) {
      for (const auto& c : *mine) known.push_back(c.id);
    }
  }
  std::string hint = DidYouMean(id, known);
  std::string message = fmt::format("clone '{}' not found on any origin{}", id, hint);
  if (!unreachable.empty()) {
    message += fmt::format(" that answered ({})", fmt::join(unreachable, "; "));
    return Unavailable(message);
  }
  return NotFound(hint.empty() ? message + "; see `zdap list clones`" : message);
}

Status WithResourceHint(const OriginApi& api, Status status, const std::string& resource) {
  if (status.code() != Code::kNotFound) return status;
  auto resources = api.ListResources();
  if (!resources.ok()) return status;
  std::vector<std::string> names;
  for (const auto& r : *resources) {
    if (r.name == resource) return status;  // the resource exists; something else was missing
    names.push_back(r.name);
  }
  std::string hint = DidYouMean(resource, names);
  return Status(status.code(), fmt::format("{}{}{}", status.message(), hint,
                                           hint.empty() ? "; see `zdap list resources`" : ""));
}

}  // namespace zdap::cli
