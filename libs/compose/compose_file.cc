#include "compose/compose_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cctype>

#include "compose/proxy_service.h"
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

Status BadPort(const std::string& entry, const std::string& why) {
  return InvalidArgument(fmt::format("ports entry '{}': {}", entry.substr(0, 100), why));
}

bool IsProtocol(const std::string& p) {
  return p == "tcp" || p == "udp" || p == "sctp";
}

// Keys an override cannot remove from a service, and what to do instead.
struct Unremovable {
  const char* key;
  const char* instead;
};
constexpr Unremovable kUnremovable[] = {
    {"env_file", "list those variables under `environment:` instead"},
    {"secrets", "mount the secret with a bind volume instead"},
    {"configs", "mount the file with a bind volume instead"},
    {"devices", "remove the devices"},
    {"volumes_from", "name the volumes under `volumes:` instead"},
    {"extends", "copy the extended keys into the service"},
};

// The keys of an `environment`/`labels` value: a mapping, or a list of "K=V" / "K".
std::vector<std::string> KeysOf(const YAML::Node& node) {
  std::vector<std::string> keys;
  if (node.IsMap()) {
    for (const auto& kv : node) keys.push_back(kv.first.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (!item.IsScalar()) continue;
      const std::string& s = item.Scalar();
      keys.push_back(s.substr(0, s.find('=')));
    }
  }
  return keys;
}

// The container path of a `volumes` entry: "src:/target[:mode]", "/target", or {target: ...}.
std::optional<std::string> VolumeTarget(const YAML::Node& v) {
  if (v.IsMap()) {
    if (v["target"] && v["target"].IsScalar()) return v["target"].Scalar();
    return std::nullopt;
  }
  if (!v.IsScalar()) return std::nullopt;
  const std::string& s = v.Scalar();
  size_t first = s.find(':');
  if (first == std::string::npos) return s;
  size_t second = s.find(':', first + 1);
  return s.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

Result<PortEntry> ParseLongPort(const YAML::Node& p) {
  std::string shown = "{...}";
  PortEntry out;
  std::string yaml;
  auto add = [&](const std::string& key, const std::string& value) {
    yaml += (yaml.empty() ? "{" : ", ") + key + ": " + value;
  };
  for (const auto& kv : p) {
    std::string key = kv.first.Scalar();
    if (!kv.second.IsScalar()) return BadPort(shown, fmt::format("`{}` is not a scalar", key));
    std::string value = kv.second.Scalar();
    if (key == "target" || key == "published") {
      if (value.find('-') != std::string::npos) {
        return BadPort(shown, "port ranges are not supported; publish one port");
      }
      auto port = ParsePort(value);
      if (!port) return BadPort(shown, fmt::format("`{}: {}` is not a port", key, value));
      (key == "target" ? out.target : out.published) = *port;
      add(key, std::to_string(*port));
    } else if (key == "host_ip" || key == "mode") {
      if (key == "host_ip") out.host_ip = value;
      add(key, YamlQuote(value));
    } else if (key == "protocol") {
      if (!IsProtocol(value)) return BadPort(shown, fmt::format("unknown protocol '{}'", value));
      out.protocol = value;
      add(key, YamlQuote(value));
    } else {
      return BadPort(shown, fmt::format("unknown key `{}`", key));
    }
  }
  if (out.target == 0) return BadPort(shown, "the long form needs `target`");
  out.yaml = yaml + "}";
  return out;
}

}  // namespace

// `text` with each ${...} and $NAME replaced by "1", so that an interpolated published port or
// host address parses; compose interpolates base and override alike, so the entry copied
// verbatim still merges onto itself. Empty when a ${ is not closed.
std::string WithoutVariables(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i);
      if (close == std::string_view::npos) return "";
      out += '1';
      i = close;
    } else {
      while (i + 1 < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '_')) {
        ++i;
      }
      out += '1';
    }
  }
  return out;
}

Result<PortEntry> ParsePortEntry(const std::string& entry) {
  PortEntry out;
  out.yaml = YamlQuote(entry);
  if (entry.empty() || entry.size() > 100) return BadPort(entry, "empty or too long");
  std::string literal = entry;
  if (entry.find('$') != std::string::npos) {
    std::string_view container = std::string_view(entry).substr(0, entry.find('/'));
    container = container.substr(
        container.rfind(':') == std::string_view::npos ? 0 : container.rfind(':') + 1);
    if (container.find_first_of("${}") != std::string_view::npos) {
      return BadPort(entry, "the container port must be a number, not a variable");
    }
    literal = WithoutVariables(entry);
    if (literal.empty()) return BadPort(entry, "unclosed ${");
  }
  std::string_view s = literal;
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    out.protocol = std::string(s.substr(slash + 1));
    if (!IsProtocol(out.protocol)) {
      return BadPort(entry, fmt::format("unknown protocol '{}' (tcp, udp or sctp)", out.protocol));
    }
    s = s.substr(0, slash);
  }
  if (s.starts_with('[')) {  // [v6]:published:target
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return BadPort(entry, "an IPv6 host address needs the form [addr]:published:target");
    }
    out.host_ip = std::string(s.substr(1, close - 1));
    s = s.substr(close + 2);
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = s.find(':', start);
    parts.push_back(s.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3 || (parts.size() == 3 && !out.host_ip.empty())) {
    return BadPort(entry, "use [[host_ip:]published:]target[/protocol]");
  }
  for (std::string_view part : parts) {
    if (part.find('-') != std::string_view::npos) {
      return BadPort(entry, "port ranges are not supported; publish one port, e.g. \"5432:5432\"");
    }
  }
  if (parts.size() == 3) {
    if (parts[0].empty()) return BadPort(entry, "empty host address");
    out.host_ip = std::string(parts[0]);
  }
  auto target = ParsePort(parts.back());
  if (!target) return BadPort(entry, fmt::format("'{}' is not a port (1-65535)", parts.back()));
  out.target = *target;
  if (parts.size() >= 2 && !parts[parts.size() - 2].empty()) {
    auto published = ParsePort(parts[parts.size() - 2]);
    if (!published) {
      return BadPort(entry, fmt::format("'{}' is not a port (1-65535)", parts[parts.size() - 2]));
    }
    out.published = *published;
  }
  return out;
}

void NeutraliseBaseKeys(const BaseService& base, ProxyService* service) {
  service->ports.clear();
  for (const auto& p : base.ports) service->ports.push_back(p.yaml);
  service->blank_environment = base.environment_keys;
  service->blank_labels = base.label_keys;
  service->tmpfs_targets = base.volume_targets;
}

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
  auto refuse = [&](const std::string& why) {
    return InvalidArgument(fmt::format("{}: service '{}': {}", path, service, why));
  };
  for (const Unremovable& u : kUnremovable) {
    if (s[u.key]) {
      return refuse(fmt::format(
          "`{}` cannot be taken away from zdap's proxy by an override file (docker-compose "
          "merges it); {}, then attach again",
          u.key, u.instead));
    }
  }
  if (YAML::Node ports = s["ports"]; ports) {
    if (!ports.IsSequence()) return refuse("`ports` is not a list");
    for (const auto& p : ports) {
      Result<PortEntry> entry = BadPort("?", "neither a string nor a mapping");
      if (p.IsScalar()) entry = ParsePortEntry(p.Scalar());
      if (p.IsMap()) entry = ParseLongPort(p);
      if (!entry.ok()) return refuse(entry.status().message());
      if (!out.port && entry->protocol == "tcp") out.port = entry->target;
      out.ports.push_back(std::move(*entry));
    }
  }
  if (YAML::Node env = s["environment"]; env) out.environment_keys = KeysOf(env);
  if (YAML::Node labels = s["labels"]; labels) out.label_keys = KeysOf(labels);
  if (YAML::Node volumes = s["volumes"]; volumes && volumes.IsSequence()) {
    for (const auto& v : volumes) {
      auto target = VolumeTarget(v);
      if (!target || target->empty() || (*target)[0] != '/') {
        return refuse("a `volumes` entry has no absolute container path");
      }
      out.volume_targets.push_back(*target);
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
