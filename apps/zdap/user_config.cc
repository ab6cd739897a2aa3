#include "zdap/user_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/file_util.h"
#include "core/names.h"

namespace zdap::cli {

const OriginEntry* UserConfig::FindOrigin(const std::string& canonical_url) const {
  for (const auto& o : origins) {
    if (o.url == canonical_url) return &o;
  }
  return nullptr;
}

Result<std::string> UserConfigPath() {
  if (const char* p = std::getenv("ZDAP_CONFIG"); p && *p) return std::string(p);
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
    return std::string(x) + "/zdap/config.yaml";
  }
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.config/zdap/config.yaml";
  return InvalidArgument("cannot find the zdap config: set HOME, XDG_CONFIG_HOME or ZDAP_CONFIG");
}

namespace {

Result<UserConfig> ReadUserConfigFile(const std::string& path) {
  auto text = ReadFile(path, 1u << 20);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return UserConfig{};
    return text.status();
  }
  UserConfig out;
  try {
    YAML::Node root = YAML::Load(*text);
    if (root.IsNull()) return out;
    if (!root.IsMap()) return InvalidArgument(fmt::format("{}: not a mapping", path));
    for (auto it = root.begin(); it != root.end(); ++it) {
      std::string key = it->first.Scalar();
      YAML::Node v = it->second;
      auto where = [&](const YAML::Node& n) {
        return fmt::format("{}:{}", path, n.Mark().line + 1);
      };
      if (key == "user") {
        if (!v.IsScalar())
          return InvalidArgument(fmt::format("{}: 'user' must be a name", where(v)));
        out.user = v.Scalar();
      } else if (key == "origins") {
        if (v.IsNull()) continue;
        if (!v.IsSequence()) {
          return InvalidArgument(fmt::format("{}: 'origins' must be a list", where(v)));
        }
        for (const auto& o : v) {
          if (!o.IsMap() || !o["url"] || !o["url"].IsScalar()) {
            return InvalidArgument(fmt::format("{}: each origin needs a 'url'", where(o)));
          }
          OriginEntry e;
          e.url = o["url"].Scalar();
          if (o["token"] && o["token"].IsScalar()) e.token = o["token"].Scalar();
          if (o["ca"] && o["ca"].IsScalar()) e.ca = o["ca"].Scalar();
          out.origins.push_back(std::move(e));
        }
      } else {
        return InvalidArgument(fmt::format("{}: key '{}' is not known", where(it->first), key));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg));
  }
  return out;
}

}  // namespace

Result<UserConfig> LoadUserConfig(const std::string& path) {
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, ReadUserConfigFile(path));
  if (config.user.empty()) {
    config.user = LoginName();
    config.user_from_login = !config.user.empty();
  }
  return config;
}

std::string LoginName() {
  const char* env = std::getenv("USER");
  std::string name = env != nullptr ? env : "";
  if (name.empty()) {
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_name != nullptr) {
      name = pw->pw_name;
    }
  }
  return IsValidName(name) ? name : "";
}

Status SaveUserConfig(const std::string& path, const UserConfig& config) {
  YAML::Emitter em;
  em << YAML::BeginMap;
  if (!config.user.empty() && !config.user_from_login)
    em << YAML::Key << "user" << YAML::Value << config.user;
  em << YAML::Key << "origins" << YAML::Value << YAML::BeginSeq;
  for (const auto& o : config.origins) {
    em << YAML::BeginMap << YAML::Key << "url" << YAML::Value << o.url;
    if (!o.token.empty())
      em << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted << o.token;
    if (!o.ca.empty()) em << YAML::Key << "ca" << YAML::Value << YAML::DoubleQuoted << o.ca;
    em << YAML::EndMap;
  }
  em << YAML::EndSeq << YAML::EndMap;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) ZDAP_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return WriteFileAtomic(
      path, std::string("# zdap user config (holds tokens: keep it 0600)\n") + em.c_str() + "\n",
      0600);
}

}  // namespace zdap::cli
