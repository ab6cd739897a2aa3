#include "compose/compose_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_util.h"

namespace zdap::compose {
namespace {

constexpr size_t kMaxComposeBytes = 4u << 20;

Result<YAML::Node> LoadMapping(const std::string& path) {
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxComposeBytes));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null())
      return InvalidArgument(fmt::format("{}: not valid YAML: {}", path, e.msg));
    return InvalidArgument(fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap())
    return InvalidArgument(fmt::format("{}: not a compose file (no mapping)", path));
  return root;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n == 0 || n > 65535) return std::nullopt;
  return static_cast<uint16_t>(n);
}

}  // namespace

std::optional<uint16_t> ContainerPortOf(const std::string& entry) {
  std::string_view s = entry;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) s = s.substr(0, slash);
  if (size_t colon = s.rfind(':'); colon != std::string_view::npos) s = s.substr(colon + 1);
  if (size_t dash = s.find('-'); dash != std::string_view::npos) s = s.substr(0, dash);
  return ParsePort(s);
}

Result<ComposeFile> ReadComposeFile(const std::string& path) {
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, LoadMapping(path));
  ComposeFile out;
  out.path = path;
  if (root["version"] && root["version"].IsScalar()) out.version = root["version"].Scalar();
  return out;
}

Result<BaseService> ReadBaseService(const std::string& path, const std::string& service) {
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, LoadMapping(path));
  BaseService out;
  YAML::Node services = root["services"];
  if (!services || !services.IsMap() || !services[service]) return out;
  YAML::Node s = services[service];
  out.defined = true;
  if (!s.IsMap()) return out;
  if (YAML::Node ports = s["ports"]; ports && ports.IsSequence()) {
    for (const auto& p : ports) {
      std::optional<uint16_t> port;
      if (p.IsScalar()) port = ContainerPortOf(p.Scalar());
      if (p.IsMap() && p["target"] && p["target"].IsScalar()) {
        port = ContainerPortOf(p["target"].Scalar());
      }
      if (port) {
        out.port = port;
        break;
      }
    }
  }
  if (!out.port) {
    if (YAML::Node expose = s["expose"]; expose && expose.IsSequence()) {
      for (const auto& p : expose) {
        if (!p.IsScalar()) continue;
        if (auto port = ContainerPortOf(p.Scalar())) {
          out.port = port;
          break;
        }
      }
    }
  }
  if (YAML::Node build = s["build"]; build && !build.IsNull()) {
    out.has_build = true;
    if (build.IsMap() && build["target"] && build["target"].IsScalar()) {
      out.build_target = build["target"].Scalar();
    }
  }
  return out;
}

}  // namespace zdap::compose
