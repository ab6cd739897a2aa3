#include "zdap/compose_services.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_util.h"

namespace zdap::cli {

Result<std::vector<std::string>> ComposeServiceNames(const std::string& path) {
  constexpr size_t kMaxComposeBytes = 4u << 20;  // as compose/compose_file.cc
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxComposeBytes));
  std::vector<std::string> names;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return InvalidArgument(fmt::format("{}: not a compose file", path));
    YAML::Node services = root["services"];
    if (!services || !services.IsMap()) return names;
    for (const auto& kv : services) {
      if (kv.first.IsScalar()) names.push_back(kv.first.Scalar());
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("{}: not valid YAML: {}", path, e.msg));
  }
  return names;
}

}  // namespace zdap::cli
