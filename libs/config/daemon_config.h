// zdapd's own settings (SPEC "Daemon"). Precedence: command-line flags > ZDAPD_* environment
// variables > config file > embedded defaults. The embedded default needs nothing but a
// config dir: loopback listener, storage auto under ./zdap-data, runtime process, no token.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace zdap::config {

inline constexpr const char* kDefaultDockerSocket = "/var/run/docker.sock";

// One of `webhooks:` (config file only): where to POST which events, signed with the secret in
// `secret_file` (apps/zdapd builds libs/events' WebhookTarget from it).
struct WebhookConfig {
  std::string url;                  // https://..., or http:// to a loopback receiver
  std::vector<std::string> events;  // patterns: clone.created, clone.*, *
  std::string secret_file;          // the HMAC key, first line; 0600 or stricter
  std::string ca;                   // optional: a CA bundle (PEM) that signed the receiver's cert
};

struct DaemonConfig {
  std::string config_dir = ".";
  std::string listen = "127.0.0.1:43210";
  std::string advertise;  // host given to clients; "" = derived from clone_bind/listen
  std::string data_dir = "./zdap-data";
  std::string storage_driver = "auto";
  std::string storage_path;     // "" = <data_dir>/store
  std::string storage_dataset;  // zfs only: the parent dataset, e.g. tank/zdap
  std::string runtime_driver = "process";
  std::string runtime_user;  // user the database servers run as; "" = postgres (if root)
  std::string docker_socket = kDefaultDockerSocket;  // runtime docker only
  int clone_port_first = 6000;
  int clone_port_last = 6999;
  std::string clone_bind = "127.0.0.1";
  std::string tls_cert;  // both set: the API speaks HTTPS only
  std::string tls_key;
  int max_connections = 1024;  // open API connections served at once; beyond: 503
  std::string tokens_file;
  std::string log_level = "info";
  // Per-user limits on clones and on protected clones (admins exempt); 0 = no limit. A
  // resource's own `quota` applies on top, to its clones.
  int quota_clones_per_user = 0;
  int quota_protected_per_user = 0;
  std::vector<WebhookConfig> webhooks;
  // clone.expiring is published this long before a clone's expires_at.
  int64_t expiry_warning_seconds = 3600;
  // Bytes per second a snapshot pull of this origin reads from upstream (a follower resource,
  // source.origin); 0 = as fast as the link and disks go.
  uint64_t replication_rate_limit = 0;

  std::string StorePath() const {
    return storage_path.empty() ? data_dir + "/store" : storage_path;
  }
  // Host name put into clone addresses.
  std::string AdvertisedHost() const;
};

// Settings as key -> value strings, as written in the file or the environment.
using SettingMap = std::map<std::string, std::string>;

// Reads a zdapd YAML config file into `settings` (keys: listen, storage.driver, ...).
Status ReadDaemonConfigFile(const std::string& file, SettingMap* settings);
// The same for the file's text; `file` names it in messages.
Status ParseDaemonConfigText(const std::string& file, const std::string& text,
                             SettingMap* settings);
// ZDAPD_LISTEN, ZDAPD_DATA_DIR, ZDAPD_STORAGE_DRIVER, ... into `settings`.
void ReadDaemonEnvironment(SettingMap* settings);
// Applies settings to `config`, validating each. `origin` names the source for messages.
Status ApplyDaemonSettings(const SettingMap& settings, const std::string& origin,
                           DaemonConfig* config);
// Cross-field checks: a non-loopback listener needs a tokens file, port range sane, and no
// setting that the chosen drivers would ignore (runtime.socket under the process runtime,
// storage.path under zfs): each is refused with what to do instead.
Status ValidateDaemonConfig(const DaemonConfig& config);

// Splits "host:port", "[v6]:port" or ":port" (host ""). InvalidArgument on anything else.
Status SplitHostPort(const std::string& text, std::string* host, int* port);

}  // namespace zdap::config
