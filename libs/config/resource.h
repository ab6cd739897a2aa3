// A resource: a named template database (SPEC "Resource file"). Loaded from
// <config-dir>/resources/<name>.yaml (or *.resource.yml) and validated strictly.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/replica_source.h"
#include "config/source_url.h"
#include "core/result.h"

namespace zdap::config {

// `source.origin`: this resource follows the same resource on another origin; a refresh pulls
// the newest snapshot upstream has and this origin lacks (origin/origin_pull.h).
struct UpstreamSpec {
  std::string url;         // the upstream origin, canonical (net::HttpUrl::ToString)
  std::string resource;    // upstream's resource: this resource's name (ids are kept)
  std::string token_file;  // absolute, 0600: a token of role replicator (or admin) there
  std::string ca;          // absolute PEM file trusted for upstream's certificate; "" = system CAs
};

struct ResourceSource {
  std::string dump;                      // absolute path (resolved against the config dir)
  std::string script;                    // absolute path
  std::vector<std::string> command;      // argv
  std::string url;                       // as written; `live` is what it says
  SourceUrl live;                        // source.url parsed; live.database defaults to `database`
  std::string password_file;             // source.url's password (absolute path, 0600); "" = none
  std::optional<ReplicaSpec> replica;    // source.replica: a standby of a live primary
  std::optional<UpstreamSpec> upstream;  // source.origin: another origin's snapshots
  std::string database;                  // the database clients connect to
  std::vector<std::string> after;        // absolute paths of SQL files
};

struct Resource {
  std::string name;
  std::string engine;   // postgres | mariadb | mysql
  std::string version;  // "" = newest installed
  ResourceSource source;
  std::string refresh_cron;  // "" = on demand only
  int keep = 3;
  std::chrono::seconds clone_ttl{0};  // 0 = no expiry
  std::chrono::seconds clone_max_ttl{0};
  std::optional<std::chrono::seconds> idle_timeout;  // unset (or 0 in the file) = never idle out
  std::map<std::string, std::string> settings;
  int pool_min = 0;               // ready unowned clones kept of the newest snapshot
  int pool_max = 0;               // pool clones at most, those being made included (file's 0 = min)
  int quota_clones_per_user = 0;  // this resource's clones per user; 0 = no limit
  int quota_protected_per_user = 0;
  std::string user;
  std::string password;  // secret: never logged
  std::string docker_image;
  std::vector<std::string> docker_env;
  std::string docker_shm;
  std::string file;  // where it was loaded from, for messages

  int DefaultPort() const { return engine == "postgres" ? 5432 : 3306; }
};

// Parses one resource file. `config_dir` anchors relative paths. `name_from_file` is the
// name implied by the file name; the `name` key must match it when both are given.
Result<Resource> ParseResource(const std::string& file, const std::string& text,
                               const std::string& config_dir);
Result<Resource> LoadResourceFile(const std::string& file, const std::string& config_dir);
// All resources in <config_dir>/resources, sorted by name. Duplicate names are an error.
Result<std::vector<Resource>> LoadResources(const std::string& config_dir);

// One line per thing a user should know before relying on a resource (zdapd check-config
// prints them): `engine: mysql` runs MariaDB's server and SQL, not a MySQL 8 server.
std::vector<std::string> ResourceWarnings(const std::vector<Resource>& resources);

}  // namespace zdap::config
