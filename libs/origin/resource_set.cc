#include "origin/resource_set.h"

#include <fmt/format.h>

#include "core/names.h"

namespace zdap::origin {

Result<std::unique_ptr<ResourceSet>> ResourceSet::Load(const std::string& config_dir, Env& env) {
  std::unique_ptr<ResourceSet> set(new ResourceSet());
  ZDAP_ASSIGN_OR_RETURN(set->resources_, config::LoadResources(config_dir));
  for (const auto& r : set->resources_) {
    if (set->engines_.count(r.engine) == 0) {
      ZDAP_ASSIGN_OR_RETURN(auto engine, engine::MakeEngine(r.engine, &env));
      set->engines_[r.engine] = std::move(engine);
    }
  }
  return set;
}

Result<const config::Resource*> ResourceSet::Find(const std::string& name) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", name));
  for (const auto& r : resources_) {
    if (r.name == name) return &r;
  }
  return NotFound(fmt::format("resource '{}' not found", name));
}

engine::Engine& ResourceSet::EngineFor(const config::Resource& resource) const {
  return *engines_.at(resource.engine);
}

}  // namespace zdap::origin
