#include "config/resource.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "config/yaml_reader.h"
#include "core/cron.h"
#include "core/file_util.h"
#include "core/names.h"
#include "net/http_url.h"

namespace zdap::config {
namespace {

std::string Resolve(const std::string& config_dir, const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  return (std::filesystem::path(config_dir) / p).lexically_normal().string();
}

// The scheduler evaluates the expression; a bad one is refused here, at load, with its place.
Status ValidateCron(MapReader& r, const std::string& cron) {
  auto parsed = CronSchedule::Parse(cron);
  if (!parsed.ok()) return r.ErrorAt("cron", parsed.status().message());
  return Status::Ok();
}

// source.replica: the primary's conninfo, its password file, the slot, max_disconnect.
Result<ReplicaSpec> ParseReplica(MapReader& src, const std::string& resource,
                                 const std::string& config_dir) {
  ZDAP_ASSIGN_OR_RETURN(MapReader r, src.GetMap("replica"));
  ZDAP_RETURN_IF_ERROR(
      r.CheckNoUnknownKeys({"primary", "password_file", "slot", "max_disconnect"}));
  ReplicaSpec spec;
  std::string primary, password_file;
  ZDAP_RETURN_IF_ERROR(r.GetString("primary", &primary, true));
  auto conninfo = ParseConninfo(primary);
  if (!conninfo.ok()) return r.ErrorAt("primary", conninfo.status().message());
  spec.primary = std::move(conninfo).value();
  ZDAP_RETURN_IF_ERROR(r.GetString("password_file", &password_file));
  if (!password_file.empty()) {
    spec.password_file = Resolve(config_dir, password_file);
    // Checked here, read at each connection (a new password needs no restart).
    if (auto pw = ReadSecretLine(spec.password_file); !pw.ok()) {
      return r.ErrorAt("password_file", pw.status().message());
    }
  }
  ZDAP_RETURN_IF_ERROR(r.GetString("slot", &spec.slot));
  if (spec.slot.empty()) spec.slot = DefaultSlotName(resource);
  if (Status st = ValidateSlotName(spec.slot); !st.ok()) return r.ErrorAt("slot", st.message());
  std::optional<std::chrono::seconds> max_disconnect;
  ZDAP_RETURN_IF_ERROR(r.GetDuration("max_disconnect", &max_disconnect));
  if (max_disconnect) {
    if (max_disconnect->count() <= 0) return r.ErrorAt("max_disconnect", "must be above 0");
    spec.max_disconnect = *max_disconnect;
  }
  return spec;
}

// source.origin: the upstream origin's URL, its resource, the token file and an optional CA.
Result<UpstreamSpec> ParseUpstream(MapReader& src, const std::string& resource,
                                   const std::string& config_dir) {
  ZDAP_ASSIGN_OR_RETURN(MapReader r, src.GetMap("origin"));
  ZDAP_RETURN_IF_ERROR(r.CheckNoUnknownKeys({"url", "resource", "token_file", "ca"}));
  UpstreamSpec spec;
  std::string url, token_file, ca;
  ZDAP_RETURN_IF_ERROR(r.GetString("url", &url, true));
  auto parsed = net::ParseHttpUrl(url);
  if (!parsed.ok()) return r.ErrorAt("url", parsed.status().message());
  spec.url = parsed->ToString();
  ZDAP_RETURN_IF_ERROR(r.GetString("resource", &spec.resource));
  if (spec.resource.empty()) spec.resource = resource;
  // A pulled snapshot keeps upstream's id, <resource>@<stamp>, so that one id names the same
  // data on every origin: the follower's resource has upstream's name.
  if (spec.resource != resource) {
    return r.ErrorAt("resource",
                     fmt::format("is '{}', but a follower keeps upstream's snapshot ids "
                                 "(<resource>@<stamp>): name this resource '{}' too",
                                 spec.resource.substr(0, 64), spec.resource.substr(0, 64)));
  }
  ZDAP_RETURN_IF_ERROR(r.GetString("token_file", &token_file, true));
  spec.token_file = Resolve(config_dir, token_file);
  // Checked here, read at each pull (a new token needs no restart).
  if (auto tok = ReadSecretLine(spec.token_file); !tok.ok()) {
    return r.ErrorAt("token_file", tok.status().message());
  }
  ZDAP_RETURN_IF_ERROR(r.GetString("ca", &ca));
  if (!ca.empty()) {
    if (!parsed->tls()) return r.ErrorAt("ca", "is for an https:// url; this one is http://");
    spec.ca = Resolve(config_dir, ca);
    if (!PathExists(spec.ca)) {
      return r.ErrorAt("ca", fmt::format("{} does not exist", spec.ca.substr(0, 200)));
    }
  }
  return spec;
}

}  // namespace

Result<Resource> ParseResource(const std::string& file, const std::string& text,
                               const std::string& config_dir) {
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(file, text));
  if (!root.IsMap()) {
    return InvalidArgument(
        fmt::format("{}:1: a resource file is a mapping (name:, engine:, "
                    "source:, ...)",
                    file));
  }
  MapReader top(file, root);
  ZDAP_RETURN_IF_ERROR(top.CheckNoUnknownKeys({"name", "engine", "version", "source", "refresh",
                                               "clone", "pool", "quota", "credentials", "docker"}));
  Resource res;
  res.file = file;
  ZDAP_RETURN_IF_ERROR(top.GetString("name", &res.name, true));
  if (!IsValidName(res.name)) {
    return top.ErrorAt("name", ValidateName("resource", res.name).message());
  }
  ZDAP_RETURN_IF_ERROR(top.GetString("engine", &res.engine, true));
  if (res.engine != "postgres" && res.engine != "mariadb" && res.engine != "mysql") {
    return top.ErrorAt(
        "engine", fmt::format("'{}' is not an engine: use postgres, mariadb or mysql", res.engine));
  }
  ZDAP_RETURN_IF_ERROR(top.GetString("version", &res.version));
  if (res.version.find_first_not_of("0123456789.") != std::string::npos) {
    return top.ErrorAt("version", fmt::format("'{}' is not a version like \"15\"", res.version));
  }

  if (!top.Has("source")) return top.ErrorAt("", "key 'source' is required");
  ZDAP_ASSIGN_OR_RETURN(MapReader src, top.GetMap("source"));
  ZDAP_RETURN_IF_ERROR(src.CheckNoUnknownKeys({"dump", "script", "command", "url", "password_file",
                                               "replica", "origin", "database", "after"}));
  std::string dump, script, url, url_password_file;
  ZDAP_RETURN_IF_ERROR(src.GetString("dump", &dump));
  ZDAP_RETURN_IF_ERROR(src.GetString("script", &script));
  ZDAP_RETURN_IF_ERROR(src.GetString("url", &url));
  ZDAP_RETURN_IF_ERROR(src.GetString("password_file", &url_password_file));
  ZDAP_RETURN_IF_ERROR(src.GetStringList("command", &res.source.command));
  const bool replica = src.Has("replica");
  const bool upstream = src.Has("origin");
  int kinds = !dump.empty() + !script.empty() + !url.empty() + !res.source.command.empty() +
              replica + upstream;
  if (kinds != 1) {
    return src.ErrorAt("",
                       "exactly one of dump, script, command, url, replica or origin is required");
  }
  if (upstream) {
    ZDAP_ASSIGN_OR_RETURN(res.source.upstream, ParseUpstream(src, res.name, config_dir));
  }
  if (replica) {
    if (res.engine != "postgres") {
      return src.ErrorAt("replica", "a standby source is for PostgreSQL resources only");
    }
    ZDAP_ASSIGN_OR_RETURN(res.source.replica, ParseReplica(src, res.name, config_dir));
  }
  res.source.dump = Resolve(config_dir, dump);
  res.source.script = Resolve(config_dir, script);
  res.source.url = url;
  if (!url.empty()) {
    auto live = ParseSourceUrl(url);
    if (!live.ok()) return src.ErrorAt("url", live.status().message());
    const char* family = res.engine == "postgres" ? "postgres" : "mysql";
    if (live->family != family) {
      return src.ErrorAt("url", fmt::format("a {} resource dumps a {}:// server, not {}://",
                                            res.engine, family, live->family));
    }
    res.source.live = *live;
  }
  if (!url_password_file.empty()) {
    if (url.empty()) {
      return src.ErrorAt("password_file", "is the password of source.url; this source has none");
    }
    res.source.password_file = Resolve(config_dir, url_password_file);
    // Checked here, read at each refresh (a new password needs no restart).
    if (auto pw = ReadSecretLine(res.source.password_file); !pw.ok()) {
      return src.ErrorAt("password_file", pw.status().message());
    }
  }
  ZDAP_RETURN_IF_ERROR(src.GetString("database", &res.source.database, true));
  if (res.source.database.empty() || res.source.database.size() > 63 ||
      res.source.database.find_first_of("\"'`;\\/ \t\n") != std::string::npos) {
    return src.ErrorAt("database",
                       fmt::format("'{}' is not a usable database name", res.source.database));
  }
  if (!url.empty() && res.source.live.database.empty()) {
    res.source.live.database = res.source.database;
  }
  std::vector<std::string> after;
  ZDAP_RETURN_IF_ERROR(src.GetStringList("after", &after));
  if (upstream && !after.empty()) {
    // Refused rather than ignored: the SQL would never run.
    return src.ErrorAt("after",
                       "does not run on a follower: its snapshots are upstream's, whose own "
                       "`after` (masking) already ran; move it to the upstream origin's resource");
  }
  for (const auto& a : after) res.source.after.push_back(Resolve(config_dir, a));

  ZDAP_ASSIGN_OR_RETURN(MapReader refresh, top.GetMap("refresh"));
  ZDAP_RETURN_IF_ERROR(refresh.CheckNoUnknownKeys({"cron", "keep"}));
  ZDAP_RETURN_IF_ERROR(refresh.GetString("cron", &res.refresh_cron));
  if (!res.refresh_cron.empty()) ZDAP_RETURN_IF_ERROR(ValidateCron(refresh, res.refresh_cron));
  int64_t keep = 3;
  ZDAP_RETURN_IF_ERROR(refresh.GetInt("keep", &keep, 1, 1000));
  res.keep = static_cast<int>(keep);

  ZDAP_ASSIGN_OR_RETURN(MapReader clone, top.GetMap("clone"));
  ZDAP_RETURN_IF_ERROR(clone.CheckNoUnknownKeys({"ttl", "max_ttl", "idle_timeout", "settings"}));
  std::optional<std::chrono::seconds> ttl, max_ttl;
  ZDAP_RETURN_IF_ERROR(clone.GetDuration("ttl", &ttl));
  ZDAP_RETURN_IF_ERROR(clone.GetDuration("max_ttl", &max_ttl));
  ZDAP_RETURN_IF_ERROR(clone.GetDuration("idle_timeout", &res.idle_timeout));
  if (res.idle_timeout && res.idle_timeout->count() == 0) res.idle_timeout.reset();
  res.clone_ttl = ttl.value_or(std::chrono::hours(8));
  res.clone_max_ttl = max_ttl.value_or(std::chrono::seconds(0));
  if (res.clone_max_ttl.count() > 0 &&
      (res.clone_ttl.count() == 0 || res.clone_ttl > res.clone_max_ttl)) {
    return clone.ErrorAt("ttl", "must be at most max_ttl (and not 0 when max_ttl is set)");
  }
  ZDAP_RETURN_IF_ERROR(clone.GetScalarMap("settings", &res.settings));
  for (const auto& [k, v] : res.settings) {
    bool ok_key = !k.empty() && k.size() < 64 && std::all_of(k.begin(), k.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    });
    if (!ok_key) return clone.ErrorAt("settings", fmt::format("'{}' is not a setting name", k));
    if (v.find_first_of("\n\r\0", 0, 3) != std::string::npos || v.size() > 1024) {
      return clone.ErrorAt("settings",
                           fmt::format("value of '{}' is not a plain one-line value", k));
    }
  }

  ZDAP_ASSIGN_OR_RETURN(MapReader pool, top.GetMap("pool"));
  ZDAP_RETURN_IF_ERROR(pool.CheckNoUnknownKeys({"min", "max"}));
  int64_t pmin = 0, pmax = 0;
  ZDAP_RETURN_IF_ERROR(pool.GetInt("min", &pmin, 0, 1000));
  ZDAP_RETURN_IF_ERROR(pool.GetInt("max", &pmax, 0, 1000));
  if (pmax != 0 && pmax < pmin) return pool.ErrorAt("max", "must be at least min");
  res.pool_min = static_cast<int>(pmin);
  res.pool_max = static_cast<int>(pmax == 0 ? pmin : pmax);

  ZDAP_ASSIGN_OR_RETURN(MapReader quota, top.GetMap("quota"));
  ZDAP_RETURN_IF_ERROR(quota.CheckNoUnknownKeys({"clones_per_user", "protected_per_user"}));
  int64_t qclones = 0, qprotected = 0;
  ZDAP_RETURN_IF_ERROR(quota.GetInt("clones_per_user", &qclones, 0, 100000));
  ZDAP_RETURN_IF_ERROR(quota.GetInt("protected_per_user", &qprotected, 0, 100000));
  res.quota_clones_per_user = static_cast<int>(qclones);
  res.quota_protected_per_user = static_cast<int>(qprotected);

  ZDAP_ASSIGN_OR_RETURN(MapReader cred, top.GetMap("credentials"));
  ZDAP_RETURN_IF_ERROR(cred.CheckNoUnknownKeys({"user", "password", "password_file"}));
  ZDAP_RETURN_IF_ERROR(cred.GetString("user", &res.user));
  if (res.user.empty()) res.user = res.engine == "postgres" ? "postgres" : "root";
  if (res.user.size() > 63 || res.user.find_first_of("\"'`;\\/ \t\n") != std::string::npos) {
    return cred.ErrorAt("user", "is not a usable user name");
  }
  std::string password_file;
  ZDAP_RETURN_IF_ERROR(cred.GetString("password", &res.password));
  ZDAP_RETURN_IF_ERROR(cred.GetString("password_file", &password_file));
  if (!res.password.empty() && !password_file.empty()) {
    return cred.ErrorAt("password_file", "give either password or password_file, not both");
  }
  if (!password_file.empty()) {
    auto pw = ReadFile(Resolve(config_dir, password_file), 4096);
    if (!pw.ok()) return cred.ErrorAt("password_file", pw.status().message());
    res.password = *pw;
    while (!res.password.empty() && (res.password.back() == '\n' || res.password.back() == '\r')) {
      res.password.pop_back();
    }
  }
  if (res.password.empty()) res.password = "zdap";
  if (res.password.find_first_of("\n\r", 0) != std::string::npos) {
    return cred.ErrorAt("password", "must be one line");
  }

  ZDAP_ASSIGN_OR_RETURN(MapReader docker, top.GetMap("docker"));
  ZDAP_RETURN_IF_ERROR(docker.CheckNoUnknownKeys({"image", "env", "shm"}));
  ZDAP_RETURN_IF_ERROR(docker.GetString("image", &res.docker_image));
  ZDAP_RETURN_IF_ERROR(docker.GetStringList("env", &res.docker_env));
  ZDAP_RETURN_IF_ERROR(docker.GetString("shm", &res.docker_shm));
  return res;
}

Result<Resource> LoadResourceFile(const std::string& file, const std::string& config_dir) {
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(file, 1u << 20));
  ZDAP_ASSIGN_OR_RETURN(Resource res, ParseResource(file, text, config_dir));
  std::string base = std::filesystem::path(file).filename().string();
  for (const char* suffix : {".resource.yml", ".yaml", ".yml"}) {
    std::string s(suffix);
    if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
      std::string stem = base.substr(0, base.size() - s.size());
      if (stem != res.name && std::string(suffix) != ".resource.yml") {
        return InvalidArgument(
            fmt::format("{}:1: name: '{}' does not match the file name; rename the file to {}.yaml",
                        file, res.name, res.name));
      }
      break;
    }
  }
  return res;
}

Result<std::vector<Resource>> LoadResources(const std::string& config_dir) {
  std::vector<Resource> out;
  std::string dir = config_dir + "/resources";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound(
        fmt::format("{}: no resources directory; create it and put one "
                    "<name>.yaml file per resource in it",
                    dir));
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string f = entry.path().filename().string();
    auto ends = [&](const std::string& s) {
      return f.size() > s.size() && f.compare(f.size() - s.size(), s.size(), s) == 0;
    };
    if (f[0] == '.') continue;
    if (ends(".yaml") || ends(".yml")) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    ZDAP_ASSIGN_OR_RETURN(Resource r, LoadResourceFile(f, config_dir));
    for (const auto& other : out) {
      if (other.name == r.name) {
        return InvalidArgument(
            fmt::format("{}: resource '{}' is also defined in {}", f, r.name, other.file));
      }
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(),
            [](const Resource& a, const Resource& b) { return a.name < b.name; });
  return out;
}

std::vector<std::string> ResourceWarnings(const std::vector<Resource>& resources) {
  std::vector<std::string> out;
  for (const Resource& r : resources) {
    // zdap has only ever run mariadbd: MySQL 8 wants caching_sha2_password and its own
    // account SQL, not MariaDB's `IDENTIFIED VIA mysql_native_password`.
    if (r.engine == "mysql") {
      out.push_back(fmt::format(
          "{}: resource '{}' has engine mysql, which runs MariaDB (mariadbd and its account "
          "SQL); MySQL 8 servers (caching_sha2_password) are not supported: write engine: "
          "mariadb to name what runs",
          r.file, r.name));
    }
  }
  return out;
}

}  // namespace zdap::config
