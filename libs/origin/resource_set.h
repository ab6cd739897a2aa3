// ResourceSet: the resources this origin serves (<config_dir>/resources/*.yaml, loaded once at
// open) and the engine each one runs on, one engine object per engine name in use.
// Immutable after Load: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/resource.h"
#include "core/env.h"
#include "core/result.h"
#include "engine/engine.h"

namespace zdap::origin {

class ResourceSet {
 public:
  // Loads the resource files of `config_dir`; an engine name no engine knows is refused.
  static Result<std::unique_ptr<ResourceSet>> Load(const std::string& config_dir, Env& env);

  const std::vector<config::Resource>& all() const { return resources_; }
  // InvalidArgument for a malformed name, NotFound for one that is not configured.
  Result<const config::Resource*> Find(const std::string& name) const;
  engine::Engine& EngineFor(const config::Resource& resource) const;

 private:
  ResourceSet() = default;
  std::vector<config::Resource> resources_;
  std::map<std::string, std::unique_ptr<engine::Engine>> engines_;
};

}  // namespace zdap::origin
