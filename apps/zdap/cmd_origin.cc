// zdap origin add|remove|list, zdap user set.
#include <fmt/format.h>

#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <iostream>

#include "core/names.h"
#include "net/http_url.h"
#include "zdap/args.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/user_config.h"

namespace zdap::cli {
namespace {

Result<std::pair<std::string, UserConfig>> LoadConfig() {
  ZDAP_ASSIGN_OR_RETURN(std::string path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(path));
  return std::make_pair(path, std::move(config));
}

}  // namespace

Status CmdOriginAdd(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(a.positional[0]));
  std::string ca;
  if (a.Has("ca")) {
    if (!url.tls()) {
      return InvalidArgument(
          fmt::format("--ca is for https:// origins; {} is plain HTTP", url.ToString()));
    }
    std::error_code ec;
    ca = std::filesystem::absolute(a.Get("ca"), ec).lexically_normal().string();
    if (ec || ::access(ca.c_str(), R_OK) != 0) {
      return InvalidArgument(
          fmt::format("--ca {}: cannot read the file (a PEM CA certificate)", a.Get("ca")));
    }
  }
  ZDAP_ASSIGN_OR_RETURN(auto loaded, LoadConfig());
  auto& [path, config] = loaded;
  std::string canonical = url.ToString();
  bool updated = false;
  for (auto& o : config.origins) {
    if (o.url == canonical) {
      if (a.Has("token")) o.token = a.Get("token");
      if (a.Has("ca")) o.ca = ca;
      updated = true;
    }
  }
  if (!updated) config.origins.push_back({canonical, a.Get("token"), ca});
  ZDAP_RETURN_IF_ERROR(SaveUserConfig(path, config));
  std::cout << fmt::format("{} origin {}{}{}\n", updated ? "updated" : "added", canonical,
                           a.Has("token") ? " (with token)" : "",
                           a.Has("ca") ? " (CA " + ca + ")" : "");
  return Status::Ok();
}

Status CmdOriginRemove(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url, net::ParseHttpUrl(a.positional[0]));
  ZDAP_ASSIGN_OR_RETURN(auto loaded, LoadConfig());
  auto& [path, config] = loaded;
  std::string canonical = url.ToString();
  size_t before = config.origins.size();
  std::erase_if(config.origins, [&](const OriginEntry& o) { return o.url == canonical; });
  if (config.origins.size() == before) {
    return NotFound(fmt::format("origin {} is not configured; see `zdap origin list`", canonical));
  }
  ZDAP_RETURN_IF_ERROR(SaveUserConfig(path, config));
  std::cout << "removed origin " << canonical << "\n";
  return Status::Ok();
}

Status CmdOriginList(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(auto loaded, LoadConfig());
  auto& [path, config] = loaded;
  if (a.Has("output")) {
    if (a.Has("verbose")) return InvalidArgument("-v and -o do not go together");
    ZDAP_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(a.Get("output")));
    // Whether a token is set, never the token.
    boost::json::array all;
    std::vector<std::vector<std::string>> rows;
    for (const auto& o : config.origins) {
      all.push_back(
          boost::json::object{{"url", o.url}, {"token_set", !o.token.empty()}, {"ca", o.ca}});
      rows.push_back({o.url, o.token.empty() ? "none" : "set", o.ca.empty() ? "-" : o.ca});
    }
    return PrintListing(format, boost::json::serialize(boost::json::object{{"origins", all}}),
                        RenderTable({"ORIGIN", "TOKEN", "CA"}, rows));
  }
  for (const auto& o : config.origins) {
    if (!a.Has("verbose")) {
      std::cout << o.url << "\n";
      continue;
    }
    std::string health;
    auto api = OriginFor(config, o.url);
    if (!api.ok()) {
      health = api.status().message();
    } else {
      auto version = api->Health();
      health = version.ok() ? "ok, version " + *version : version.status().message();
    }
    std::cout << fmt::format("{}  token: {}  health: {}\n", o.url, o.token.empty() ? "none" : "set",
                             health);
  }
  if (a.Has("verbose"))
    std::cout << fmt::format("(config: {}, user: {}{})\n", path,
                             config.user.empty() ? "not set" : config.user,
                             config.user_from_login ? " (login name)" : "");
  return Status::Ok();
}

Status CmdUserSet(const VerbArgs& a) {
  ZDAP_RETURN_IF_ERROR(ValidateName("user", a.positional[0]));
  ZDAP_ASSIGN_OR_RETURN(auto loaded, LoadConfig());
  auto& [path, config] = loaded;
  config.user = a.positional[0];
  config.user_from_login = false;
  ZDAP_RETURN_IF_ERROR(SaveUserConfig(path, config));
  std::cout << "user set to " << config.user << "\n";
  return Status::Ok();
}

}  // namespace zdap::cli
