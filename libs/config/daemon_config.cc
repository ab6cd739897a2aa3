#include "config/daemon_config.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <initializer_list>

#include "config/yaml_reader.h"
#include "core/file_util.h"
#include "core/human_bytes.h"
#include "core/local_host.h"
#include "core/log.h"
#include "core/time.h"

namespace zdap::config {
namespace {

struct Key {
  const char* name;  // dotted, as in the file
  const char* env;   // ZDAPD_...
};
constexpr Key kKeys[] = {
    {"config_dir", "ZDAPD_CONFIG_DIR"},
    {"listen", "ZDAPD_LISTEN"},
    {"advertise", "ZDAPD_ADVERTISE"},
    {"data_dir", "ZDAPD_DATA_DIR"},
    {"storage.driver", "ZDAPD_STORAGE_DRIVER"},
    {"storage.path", "ZDAPD_STORAGE_PATH"},
    {"storage.dataset", "ZDAPD_STORAGE_DATASET"},
    {"runtime.driver", "ZDAPD_RUNTIME_DRIVER"},
    {"runtime.user", "ZDAPD_RUNTIME_USER"},
    {"runtime.socket", "ZDAPD_RUNTIME_SOCKET"},
    {"clone_ports", "ZDAPD_CLONE_PORTS"},
    {"clone_bind", "ZDAPD_CLONE_BIND"},
    {"tls.cert", "ZDAPD_TLS_CERT"},
    {"tls.key", "ZDAPD_TLS_KEY"},
    {"tokens_file", "ZDAPD_TOKENS_FILE"},
    {"max_connections", "ZDAPD_MAX_CONNECTIONS"},
    {"log_level", "ZDAPD_LOG_LEVEL"},
    {"quota.clones_per_user", "ZDAPD_QUOTA_CLONES_PER_USER"},
    {"quota.protected_per_user", "ZDAPD_QUOTA_PROTECTED_PER_USER"},
    {"expiry_warning", "ZDAPD_EXPIRY_WARNING"},
    {"replication.rate_limit", "ZDAPD_REPLICATION_RATE_LIMIT"},
};

constexpr size_t kMaxWebhooks = 32;

bool ParsePort(const std::string& s, int* port) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  int p = std::stoi(s);
  if (p < 1 || p > 65535) return false;
  *port = p;
  return true;
}

}  // namespace

std::string DaemonConfig::AdvertisedHost() const {
  if (!advertise.empty()) return advertise;
  return LocalConnectHost(clone_bind);
}

Status SplitHostPort(const std::string& text, std::string* host, int* port) {
  auto bad = [&] {
    return InvalidArgument(fmt::format("'{}' is not an address: use host:port, [v6]:port or :port",
                                       text.substr(0, 100)));
  };
  if (text.size() > 300) return bad();
  size_t colon;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad();
    *host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) return bad();
    *host = text.substr(0, colon);
    if (host->find(':') != std::string::npos) return bad();
  }
  if (!ParsePort(text.substr(colon + 1), port)) return bad();
  return Status::Ok();
}

Status ReadDaemonConfigFile(const std::string& file, SettingMap* settings) {
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(file, 1u << 20));
  return ParseDaemonConfigText(file, text, settings);
}

Status ParseDaemonConfigText(const std::string& file, const std::string& text,
                             SettingMap* settings) {
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(file, text));
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap())
    return InvalidArgument(fmt::format("{}:1: expected a mapping of settings", file));
  MapReader top(file, root);
  ZDAP_RETURN_IF_ERROR(
      top.CheckNoUnknownKeys({"config_dir", "listen", "advertise", "data_dir", "storage", "runtime",
                              "clone_ports", "clone_bind", "tls", "tokens_file", "max_connections",
                              "log_level", "quota", "webhooks", "expiry_warning", "replication"}));
  for (const char* k :
       {"config_dir", "listen", "advertise", "data_dir", "clone_ports", "clone_bind", "tokens_file",
        "max_connections", "log_level", "expiry_warning"}) {
    std::string v;
    ZDAP_RETURN_IF_ERROR(top.GetString(k, &v));
    if (top.Has(k)) (*settings)[k] = v;
  }
  struct Sub {
    const char* name;
    std::initializer_list<const char*> keys;
  };
  for (const Sub& sub :
       {Sub{"storage", {"driver", "path", "dataset"}}, Sub{"runtime", {"driver", "socket", "user"}},
        Sub{"tls", {"cert", "key"}}, Sub{"quota", {"clones_per_user", "protected_per_user"}},
        Sub{"replication", {"rate_limit"}}}) {
    ZDAP_ASSIGN_OR_RETURN(MapReader m, top.GetMap(sub.name));
    ZDAP_RETURN_IF_ERROR(m.CheckNoUnknownKeys(sub.keys));
    for (const char* k : sub.keys) {
      std::string v;
      ZDAP_RETURN_IF_ERROR(m.GetString(k, &v));
      if (m.Has(k)) (*settings)[std::string(sub.name) + "." + k] = v;
    }
  }
  // webhooks: [{url, events: [...], secret_file, ca?}] -> webhooks.N.<key>, events joined by ','.
  if (YAML::Node hooks = root["webhooks"]; hooks && !hooks.IsNull()) {
    if (!hooks.IsSequence()) {
      return top.ErrorAt("webhooks", "expected a list of {url, events, secret_file}");
    }
    if (hooks.size() > kMaxWebhooks) {
      return top.ErrorAt("webhooks", fmt::format("at most {} webhooks", kMaxWebhooks));
    }
    for (size_t i = 0; i < hooks.size(); ++i) {
      std::string path = fmt::format("webhooks[{}]", i);
      MapReader h(file, hooks[i], path);
      ZDAP_RETURN_IF_ERROR(h.CheckIsMap());
      std::string url, secret_file, ca;
      std::vector<std::string> events;
      ZDAP_RETURN_IF_ERROR(h.GetString("url", &url, /*required=*/true));
      ZDAP_RETURN_IF_ERROR(h.GetStringList("events", &events));
      if (!h.Has("events") || events.empty()) {
        return h.ErrorAt("events", "list the events to send, e.g. [clone.*, refresh.failed]");
      }
      for (const auto& e : events) {
        if (e.empty() || e.find(',') != std::string::npos) {
          return h.ErrorAt("events", fmt::format("'{}' is not an event pattern", e));
        }
      }
      ZDAP_RETURN_IF_ERROR(h.GetString("secret_file", &secret_file, /*required=*/true));
      ZDAP_RETURN_IF_ERROR(h.GetString("ca", &ca));
      ZDAP_RETURN_IF_ERROR(h.CheckNoUnknownKeys({"url", "events", "secret_file", "ca"}));
      std::string prefix = fmt::format("webhooks.{}.", i);
      (*settings)[prefix + "url"] = url;
      std::string joined;
      for (const auto& e : events) joined += (joined.empty() ? "" : ",") + e;
      (*settings)[prefix + "events"] = joined;
      (*settings)[prefix + "secret_file"] = secret_file;
      if (h.Has("ca")) (*settings)[prefix + "ca"] = ca;
    }
  }
  return Status::Ok();
}

void ReadDaemonEnvironment(SettingMap* settings) {
  for (const Key& k : kKeys) {
    if (const char* v = std::getenv(k.env); v != nullptr && *v != '\0') (*settings)[k.name] = v;
  }
}

Status ApplyDaemonSettings(const SettingMap& settings, const std::string& origin, DaemonConfig* c) {
  for (const auto& [key, value] : settings) {
    // clang 14 cannot capture a structured binding: name it for the lambda.
    const std::string& setting = key;
    auto err = [&](const std::string& why) {
      return InvalidArgument(fmt::format("{}: {}: {}", origin, setting, why));
    };
    if (key == "config_dir")
      c->config_dir = value;
    else if (key == "listen") {
      std::string h;
      int p;
      ZDAP_RETURN_IF_ERROR(SplitHostPort(value, &h, &p).Wrap(origin + ": listen"));
      c->listen = value;
    } else if (key == "advertise")
      c->advertise = value;
    else if (key == "data_dir")
      c->data_dir = value;
    else if (key == "storage.driver") {
      if (value != "auto" && value != "btrfs" && value != "copy" && value != "reflink" &&
          value != "overlay" && value != "zfs") {
        return err(
            fmt::format("'{}' is not a storage driver: use auto, btrfs, reflink, overlay, "
                        "zfs or copy",
                        value));
      }
      c->storage_driver = value;
    } else if (key == "storage.path")
      c->storage_path = value;
    else if (key == "storage.dataset")
      c->storage_dataset = value;
    else if (key == "runtime.driver") {
      if (value != "process" && value != "docker") {
        return err(fmt::format("'{}' is not a runtime: use process or docker", value));
      }
      c->runtime_driver = value;
    } else if (key == "runtime.user")
      c->runtime_user = value;
    else if (key == "runtime.socket")
      c->docker_socket = value;
    else if (key == "clone_ports") {
      auto dash = value.find('-');
      int a, b;
      if (dash == std::string::npos || !ParsePort(value.substr(0, dash), &a) ||
          !ParsePort(value.substr(dash + 1), &b) || a > b) {
        return err(fmt::format("'{}' is not a port range like 6000-6999", value));
      }
      c->clone_port_first = a;
      c->clone_port_last = b;
    } else if (key == "clone_bind")
      c->clone_bind = value;
    else if (key == "tls.cert")
      c->tls_cert = value;
    else if (key == "tls.key")
      c->tls_key = value;
    else if (key == "tokens_file")
      c->tokens_file = value;
    else if (key == "max_connections") {
      constexpr int kMaxConnectionsLimit = 1000000;
      if (value.empty() || value.size() > 7 ||
          value.find_first_not_of("0123456789") != std::string::npos || std::stoi(value) < 1 ||
          std::stoi(value) > kMaxConnectionsLimit) {
        return err(fmt::format("'{}' is not a connection count: use a whole number from 1 to {}",
                               value.substr(0, 40), kMaxConnectionsLimit));
      }
      c->max_connections = std::stoi(value);
    } else if (key == "quota.clones_per_user" || key == "quota.protected_per_user") {
      constexpr int kQuotaLimit = 100000;
      if (value.empty() || value.size() > 6 ||
          value.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(value) > kQuotaLimit) {
        return err(
            fmt::format("'{}' is not a clone count: use a whole number from 0 (no limit) "
                        "to {}",
                        value.substr(0, 40), kQuotaLimit));
      }
      (key == "quota.clones_per_user" ? c->quota_clones_per_user : c->quota_protected_per_user) =
          std::stoi(value);
    } else if (key == "replication.rate_limit") {
      auto rate = ParseByteSize(value);
      if (!rate.ok()) return err(rate.status().message() + " per second; 0 = no limit");
      // Below this a pull of any real database takes days: a typo, not a policy.
      constexpr uint64_t kMinRate = 64 * 1024;
      if (*rate != 0 && *rate < kMinRate) {
        return err(
            fmt::format("{} bytes/s is below the least useful rate, 64KiB; 0 = no limit", *rate));
      }
      c->replication_rate_limit = *rate;
    } else if (key == "expiry_warning") {
      auto d = ParseDuration(value);
      if (!d.ok() || d->count() > 30 * 86400) {
        return err(fmt::format("'{}' is not a duration up to 30d, like 1h or 30m (0 = never warn)",
                               value.substr(0, 40)));
      }
      c->expiry_warning_seconds = d->count();
    } else if (key.rfind("webhooks.", 0) == 0) {
      // webhooks.N.<url|events|secret_file|ca>, as ParseDaemonConfigText writes them.
      size_t dot = key.find('.', 9);
      std::string index = key.substr(9, dot == std::string::npos ? 0 : dot - 9);
      std::string field = dot == std::string::npos ? "" : key.substr(dot + 1);
      if (index.empty() || index.size() > 2 ||
          index.find_first_not_of("0123456789") != std::string::npos) {
        return err("unknown setting");
      }
      size_t n = std::stoul(index);
      if (n >= kMaxWebhooks) return err(fmt::format("at most {} webhooks", kMaxWebhooks));
      if (c->webhooks.size() <= n) c->webhooks.resize(n + 1);
      WebhookConfig& w = c->webhooks[n];
      if (field == "url") {
        w.url = value;
      } else if (field == "events") {
        w.events.clear();
        for (size_t at = 0; at <= value.size();) {
          size_t comma = value.find(',', at);
          if (comma == std::string::npos) comma = value.size();
          w.events.push_back(value.substr(at, comma - at));
          at = comma + 1;
        }
      } else if (field == "secret_file") {
        w.secret_file = value;
      } else if (field == "ca") {
        w.ca = value;
      } else {
        return err("unknown setting");
      }
    } else if (key == "log_level") {
      log::Level l;
      if (!log::ParseLevel(value, &l)) return err("use debug, info, warn, error or off");
      c->log_level = value;
    } else {
      return err("unknown setting");
    }
  }
  return Status::Ok();
}

Status ValidateDaemonConfig(const DaemonConfig& c) {
  std::string host;
  int port;
  ZDAP_RETURN_IF_ERROR(SplitHostPort(c.listen, &host, &port).Wrap("listen"));
  if (!IsLoopbackHost(host) && c.tokens_file.empty()) {
    return InvalidArgument(fmt::format(
        "listen {} is reachable from other hosts and needs a tokens file: set tokens_file "
        "(or listen on 127.0.0.1)",
        c.listen));
  }
  // zdapd parses the tokens file itself when it starts (apps/zdapd/tokens_file.h).
  if (!c.tokens_file.empty() && !PathExists(c.tokens_file)) {
    return InvalidArgument(fmt::format(
        "tokens_file {} does not exist; create it with `zdapd token add USER`", c.tokens_file));
  }
  // Clone servers on other addresses hand out databases: only to callers with a token.
  if (!IsLoopbackHost(c.clone_bind) && c.tokens_file.empty()) {
    return InvalidArgument(fmt::format(
        "clone_bind {} makes clones reachable from other hosts and needs a tokens file: set "
        "tokens_file (or clone_bind: 127.0.0.1)",
        c.clone_bind));
  }
  if (c.storage_driver == "zfs" && c.storage_dataset.empty()) {
    return InvalidArgument(
        "storage driver zfs needs storage.dataset naming its parent dataset, like tank/zdap");
  }
  if (c.storage_driver != "zfs" && !c.storage_dataset.empty()) {
    return InvalidArgument(fmt::format(
        "storage.dataset is for driver zfs only; driver {} keeps its store in storage.path",
        c.storage_driver));
  }
  // Settings the chosen drivers would ignore are refused: the operator meant something.
  if (c.storage_driver == "zfs" && !c.storage_path.empty()) {
    return InvalidArgument(fmt::format(
        "storage.path {} is not used by driver zfs, which keeps volumes in datasets under "
        "storage.dataset ({}) at that dataset's mountpoint: remove storage.path (or set the "
        "dataset's mountpoint with zfs set mountpoint=...)",
        c.storage_path, c.storage_dataset));
  }
  // (The default socket is no setting: only another path is refused.)
  if (c.runtime_driver != "docker" && c.docker_socket != kDefaultDockerSocket) {
    return InvalidArgument(fmt::format(
        "runtime.socket {} is for runtime docker only; this origin runs database servers as "
        "processes (runtime.driver: {}): remove runtime.socket, or set runtime.driver: docker",
        c.docker_socket, c.runtime_driver));
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return InvalidArgument("tls needs both cert and key");
  }
  for (size_t i = 0; i < c.webhooks.size(); ++i) {
    const WebhookConfig& w = c.webhooks[i];
    std::string name = fmt::format("webhooks[{}]", i);
    if (w.url.empty() || w.secret_file.empty() || w.events.empty()) {
      return InvalidArgument(fmt::format("{}: needs url, events and secret_file", name));
    }
    // Payloads name clones and owners, and the signature is only as private as the channel:
    // HTTPS, or plain HTTP to a receiver on this host.
    std::string lower = w.url;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.rfind("http://", 0) == 0) {
      std::string rest = lower.substr(7);
      std::string host = rest.substr(0, rest.find_first_of(":/"));
      if (!rest.empty() && rest[0] == '[') host = rest.substr(1, rest.find(']') - 1);
      if (!IsLoopbackHost(host)) {
        return InvalidArgument(fmt::format(
            "{}: {} is plain HTTP to another host: use https:// (http:// only reaches a receiver "
            "on this host)",
            name, w.url.substr(0, 200)));
      }
    } else if (lower.rfind("https://", 0) != 0) {
      return InvalidArgument(
          fmt::format("{}: url '{}' is not an https:// URL", name, w.url.substr(0, 200)));
    }
    if (!PathExists(w.secret_file)) {
      return InvalidArgument(fmt::format(
          "{}: secret_file {} does not exist; put the webhook's shared secret in it (chmod 600)",
          name, w.secret_file));
    }
    if (!w.ca.empty() && !PathExists(w.ca)) {
      return InvalidArgument(fmt::format("{}: ca {} does not exist", name, w.ca));
    }
  }
  return Status::Ok();
}

}  // namespace zdap::config
