#include "proxy/config.h"

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "config/yaml_reader.h"
#include "core/names.h"
#include "core/time.h"
#include "net/http_url.h"

extern char** environ;

namespace zdap::proxy {
namespace {

constexpr size_t kMaxArgs = 256;
constexpr size_t kMaxArgLength = 4096;
constexpr size_t kMaxTargets = 64;
constexpr size_t kMaxListeners = 64;
constexpr size_t kMaxConfigBytes = 1 << 20;

// The flags zdap-proxyd knows. Each is also read from ZDAP_<NAME> (upper case, '-' -> '_').
struct Flag {
  std::string_view name;
  bool repeatable;
};
constexpr Flag kFlags[] = {
    {"listen", false},
    {"target", true},
    {"balance", false},
    {"check", false},
    {"check-interval", false},
    {"check-timeout", false},
    {"rise", false},
    {"fall", false},
    {"connect-timeout", false},
    {"idle-timeout", false},
    {"retries", false},
    {"metrics", false},
    {"drain-timeout", false},
    {"threads", false},
    {"log-level", false},
    {"config", false},
    {"clone", false},
    {"origin", true},
    {"token", false},
    {"token-file", false},
    {"user", false},
    {"pump", false},
    {"ca", false},
};
// Flags that make up the command-line listener (the others are global).
constexpr std::string_view kListenerFlags[] = {
    "listen", "target", "balance",         "check",        "check-interval", "check-timeout",
    "rise",   "fall",   "connect-timeout", "idle-timeout", "retries",        "clone",
    "origin", "pump"};
// Credentials of clone-following mode: applied to the command-line listener, ignored without
// --clone (a ZDAP_USER or ZDAP_TOKEN set for the CLI must not break a static-target proxy).
constexpr std::string_view kCloneCredentialFlags[] = {"token", "token-file", "user", "ca"};
constexpr size_t kMaxTokenBytes = 4096;

bool IsCloneCredentialFlag(std::string_view name) {
  for (std::string_view f : kCloneCredentialFlags) {
    if (f == name) return true;
  }
  return false;
}

const Flag* FindFlag(std::string_view name) {
  for (const Flag& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// ZDAP_<FLAG>: every flag's name in the environment, but --config's: ZDAP_CONFIG names the zdap
// CLI's own file (SPEC "CLI"), which a shell that runs both exports, so the proxy never reads it.
std::string EnvName(std::string_view flag) {
  if (flag == "config") return "ZDAP_PROXY_CONFIG";
  std::string out = "ZDAP_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

// The older name a flag was documented with, still read.
std::string_view OlderEnvName(std::string_view flag) {
  if (flag == "origin") return "ZDAP_ORIGINS";
  return "";
}

// Which variable sets `flag`: ZDAP_<FLAG> or its older name; "" when neither is set. When both
// are set they must agree.
Result<std::string> FlagEnvName(std::string_view flag, const EnvironmentVariables& env) {
  std::string name = EnvName(flag);
  std::string older(OlderEnvName(flag));
  auto current = env.find(name);
  auto old = older.empty() ? env.end() : env.find(older);
  if (old == env.end()) return current == env.end() ? "" : name;
  if (current == env.end()) return older;
  if (current->second != old->second) {
    return InvalidArgument(fmt::format("env {} and env {} disagree: set one of them", name, older));
  }
  return name;
}

// A flag's value(s) and where they came from ("--target", "env TARGET_ADDRESS").
struct Raw {
  std::string source;
  std::vector<std::string> values;
};
using RawMap = std::map<std::string, Raw, std::less<>>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status SplitList(std::string_view text, std::string_view source, std::vector<std::string>* out) {
  out->clear();
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = Trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) return InvalidArgument(fmt::format("{}: empty item in the list", source));
    if (out->size() == kMaxTargets) {
      return InvalidArgument(fmt::format("{}: more than {} items", source, kMaxTargets));
    }
    out->emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Result<int> ParseInt(std::string_view text, int lo, int hi, std::string_view source) {
  if (text.empty() || text.size() > 6) {
    return InvalidArgument(
        fmt::format("{} {}: want a number from {} to {}", source, Quote(text), lo, hi));
  }
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return InvalidArgument(
          fmt::format("{} {}: want a number from {} to {}", source, Quote(text), lo, hi));
    }
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) {
    return InvalidArgument(
        fmt::format("{} {}: want a number from {} to {}", source, Quote(text), lo, hi));
  }
  return v;
}

Result<Balance> ParseBalance(std::string_view text, std::string_view source) {
  if (text == "first") return Balance::kFirst;
  if (text == "roundrobin") return Balance::kRoundRobin;
  if (text == "leastconn") return Balance::kLeastConn;
  if (text == "random") return Balance::kRandom;
  return InvalidArgument(
      fmt::format("{} {}: want first, roundrobin, leastconn or random", source, Quote(text)));
}

Result<CheckKind> ParseCheck(std::string_view text, std::string_view source) {
  if (text == "none") return CheckKind::kNone;
  if (text == "tcp") return CheckKind::kTcp;
  if (text == "postgres") return CheckKind::kPostgres;
  if (text == "mysql" || text == "mariadb") return CheckKind::kMysql;
  return InvalidArgument(
      fmt::format("{} {}: want none, tcp, postgres or mysql", source, Quote(text)));
}

Result<std::chrono::milliseconds> ParseDurationFrom(std::string_view text, std::string_view source,
                                                    bool allow_zero) {
  auto d = ParseDuration(text, kTimeoutDuration);
  if (!d.ok()) return d.status().Wrap(source);
  if (!allow_zero && d->count() == 0) {
    return InvalidArgument(fmt::format("{} {}: must be more than 0", source, Quote(text)));
  }
  return *d;
}

CloneFollowConfig* FollowOf(ListenerConfig* l) {
  if (!l->clone) l->clone.emplace();
  return &*l->clone;
}

// The first line of a token file (a secret: its contents never appear in messages).
Result<std::string> ReadTokenFile(const std::string& path, std::string_view source) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("{} {}: cannot be read", source, Quote(path)));
  std::string text(kMaxTokenBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (size_t nl = text.find_first_of("\r\n"); nl != std::string::npos) text.resize(nl);
  if (text.empty() || text.size() > kMaxTokenBytes) {
    return InvalidArgument(fmt::format("{} {}: want one line of at most {} bytes", source,
                                       Quote(path), kMaxTokenBytes));
  }
  return text;
}

// Clone-following settings are complete, and exclusive with targets.
Status ValidateFollow(const ListenerConfig& l, std::string_view where) {
  if (!l.clone) return Status::Ok();
  if (l.clone->id.empty()) {
    return InvalidArgument(fmt::format("{}--origin needs --clone ID", where));
  }
  if (!l.targets.empty()) {
    return InvalidArgument(fmt::format("{}--clone and --target exclude each other", where));
  }
  if (l.clone->origins.empty()) {
    return InvalidArgument(fmt::format("{}--clone needs --origin URL (or ZDAP_ORIGINS)", where));
  }
  return Status::Ok();
}

// Applies one listener-level setting to *l. `name` is the flag name.
Status ApplyListenerSetting(std::string_view name, const std::vector<std::string>& values,
                            std::string_view source, ListenerConfig* l) {
  const std::string& v = values.back();
  if (name == "listen") {
    auto a = ParseListen(v);
    if (!a.ok()) return a.status().Wrap(source);
    l->listen = *a;
  } else if (name == "target") {
    if (values.size() > kMaxTargets) {
      return InvalidArgument(fmt::format("{}: more than {} targets", source, kMaxTargets));
    }
    l->targets.clear();
    for (const std::string& t : values) {
      auto a = ParseTarget(t);
      if (!a.ok()) return a.status().Wrap(source);
      l->targets.push_back(*a);
    }
  } else if (name == "balance") {
    ZDAP_ASSIGN_OR_RETURN(l->balance, ParseBalance(v, source));
  } else if (name == "check") {
    ZDAP_ASSIGN_OR_RETURN(l->check.kind, ParseCheck(v, source));
  } else if (name == "check-interval") {
    ZDAP_ASSIGN_OR_RETURN(l->check.interval, ParseDurationFrom(v, source, false));
  } else if (name == "check-timeout") {
    ZDAP_ASSIGN_OR_RETURN(l->check.timeout, ParseDurationFrom(v, source, false));
  } else if (name == "rise") {
    ZDAP_ASSIGN_OR_RETURN(l->check.rise, ParseInt(v, 1, 100, source));
  } else if (name == "fall") {
    ZDAP_ASSIGN_OR_RETURN(l->check.fall, ParseInt(v, 1, 100, source));
  } else if (name == "connect-timeout") {
    ZDAP_ASSIGN_OR_RETURN(l->connect_timeout, ParseDurationFrom(v, source, false));
  } else if (name == "idle-timeout") {
    ZDAP_ASSIGN_OR_RETURN(l->idle_timeout, ParseDurationFrom(v, source, true));
  } else if (name == "retries") {
    ZDAP_ASSIGN_OR_RETURN(l->retries, ParseInt(v, 0, 64, source));
  } else if (name == "pump") {
    if (v == "buffered") {
      l->pump = Pump::kBuffered;
    } else if (v == "splice") {
      l->pump = Pump::kSplice;
    } else {
      return InvalidArgument(fmt::format("{} {}: want buffered or splice", source, Quote(v)));
    }
  } else if (name == "clone") {
    if (!IsValidName(v)) {
      return InvalidArgument(
          fmt::format("{} {}: not a clone name (lower-case letters, digits and '-', at most 63)",
                      source, Quote(v)));
    }
    FollowOf(l)->id = v;
  } else if (name == "origin") {
    FollowOf(l)->origins.clear();
    for (const std::string& o : values) {
      auto url = net::ParseHttpUrl(o);
      if (!url.ok()) return url.status().Wrap(fmt::format("{} {}", source, Quote(o)));
      FollowOf(l)->origins.push_back(url->ToString());
    }
  } else if (name == "token") {
    if (v.empty() || v.find_first_of("\r\n") != std::string::npos) {
      return InvalidArgument(fmt::format("{}: the token must be one non-empty line", source));
    }
    FollowOf(l)->token = v;
  } else if (name == "token-file") {
    ZDAP_ASSIGN_OR_RETURN(FollowOf(l)->token, ReadTokenFile(v, source));
  } else if (name == "user") {
    if (!IsValidName(v)) {
      return InvalidArgument(fmt::format("{} {}: not a valid user name", source, Quote(v)));
    }
    FollowOf(l)->user = v;
  } else if (name == "ca") {
    if (v.empty() || ::access(v.c_str(), R_OK) != 0) {
      return InvalidArgument(
          fmt::format("{} {}: cannot read the file (a PEM CA certificate)", source, Quote(v)));
    }
    FollowOf(l)->ca_file = v;
  } else {
    return Internal(fmt::format("unknown listener setting {}", name));
  }
  return Status::Ok();
}

Status ApplyGlobalSetting(std::string_view name, const std::string& v, std::string_view source,
                          ProxyConfig* c) {
  if (name == "metrics") {
    auto a = ParseListen(v);
    if (!a.ok()) return a.status().Wrap(source);
    c->metrics = *a;
  } else if (name == "drain-timeout") {
    ZDAP_ASSIGN_OR_RETURN(c->drain_timeout, ParseDurationFrom(v, source, true));
  } else if (name == "threads") {
    ZDAP_ASSIGN_OR_RETURN(c->threads, ParseInt(v, 0, 256, source));
  } else if (name == "log-level") {
    if (!log::ParseLevel(v, &c->log_level)) {
      return InvalidArgument(
          fmt::format("{} {}: want debug, info, warn, error or off", source, Quote(v)));
    }
  } else {
    return Internal(fmt::format("unknown setting {}", name));
  }
  return Status::Ok();
}

bool IsListenerFlag(std::string_view name) {
  for (std::string_view f : kListenerFlags) {
    if (f == name) return true;
  }
  return false;
}

// ---- YAML (config::MapReader: file, line and key in every error) ----

// The keys of the file's top level that are global settings rather than a listener's.
bool IsGlobalKey(std::string_view key) {
  return key == "metrics" || key == "drain_timeout" || key == "threads" || key == "log_level";
}

// YAML key (snake_case) -> flag name (kebab-case).
std::string FlagName(std::string_view key) {
  std::string out(key);
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  if (out == "targets") out = "target";
  if (out == "origins") out = "origin";
  return out;
}

Status UnknownKey(const config::MapReader& m, const std::string& key) {
  return m.ErrorAt(key, "not a known key (the keys are the flags of --help, in snake_case)");
}

// check: {kind, interval, timeout, rise, fall}, the --check* flags.
Status ParseYamlCheck(config::MapReader& check, ListenerConfig* l) {
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> keys, check.Keys());
  for (const std::string& key : keys) {
    if (key != "kind" && key != "rise" && key != "fall" && key != "interval" && key != "timeout") {
      return UnknownKey(check, key);
    }
    std::string value;
    ZDAP_RETURN_IF_ERROR(check.GetString(key, &value, true));
    std::string flag = key == "kind"                    ? "check"
                       : key == "rise" || key == "fall" ? key
                                                        : "check-" + key;
    ZDAP_RETURN_IF_ERROR(ApplyListenerSetting(flag, {value}, check.Where(key), l));
  }
  return Status::Ok();
}

// One listener: a `listeners` item, or the file's top level (`skip_globals`).
Status ParseYamlListener(config::MapReader& m, bool skip_globals, ListenerConfig* l) {
  ZDAP_RETURN_IF_ERROR(m.CheckIsMap());
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> keys, m.Keys());
  for (const std::string& key : keys) {
    if (skip_globals && (IsGlobalKey(key) || key == "listeners")) continue;
    if (key == "name") {
      ZDAP_RETURN_IF_ERROR(m.GetString(key, &l->name, true));
      continue;
    }
    if (key == "check" && m.IsMap(key)) {
      ZDAP_ASSIGN_OR_RETURN(config::MapReader check, m.GetMap(key));
      ZDAP_RETURN_IF_ERROR(ParseYamlCheck(check, l));
      continue;
    }
    std::string flag = FlagName(key);
    if (!(IsListenerFlag(flag) || IsCloneCredentialFlag(flag)) ||
        key.find('-') != std::string::npos) {
      return UnknownKey(m, key);
    }
    std::vector<std::string> values;
    const bool is_list = flag == "target" || flag == "origin";
    if (is_list && m.IsList(key)) {
      ZDAP_RETURN_IF_ERROR(m.GetStringList(key, &values));
      if (values.size() > kMaxTargets) {
        return m.ErrorAt(key, fmt::format("more than {} targets", kMaxTargets));
      }
      if (values.empty()) return m.ErrorAt(key, "empty list");
    } else {
      std::string value;
      ZDAP_RETURN_IF_ERROR(m.GetString(key, &value, true));
      if (is_list) {
        ZDAP_RETURN_IF_ERROR(SplitList(value, m.Where(key), &values));
      } else {
        values.push_back(std::move(value));
      }
    }
    ZDAP_RETURN_IF_ERROR(ApplyListenerSetting(flag, values, m.Where(key), l));
  }
  if (!m.Has("listen")) return m.ErrorAt("", "a listener needs 'listen'");
  if (l->targets.empty() && !l->clone) {
    return m.ErrorAt("", "a listener needs 'targets' (or 'clone' and 'origins')");
  }
  ZDAP_RETURN_IF_ERROR(ValidateFollow(*l, m.Where("") + ": "));
  if (l->clone) l->check.kind = CheckKind::kNone;
  if (l->name.empty()) l->name = l->listen.ToString();
  return Status::Ok();
}

Status ParseYamlRoot(config::MapReader& root, ProxyConfig* config) {
  ZDAP_RETURN_IF_ERROR(root.CheckIsMap());
  ZDAP_ASSIGN_OR_RETURN(std::vector<std::string> keys, root.Keys());
  bool has_top_listener = false;
  for (const std::string& key : keys) {
    if (key == "listeners") {
      ZDAP_ASSIGN_OR_RETURN(std::vector<config::MapReader> items, root.GetMapList(key));
      for (config::MapReader& item : items) {
        if (config->listeners.size() == kMaxListeners) {
          return root.ErrorAt(key, fmt::format("more than {} listeners", kMaxListeners));
        }
        ListenerConfig l;
        ZDAP_RETURN_IF_ERROR(ParseYamlListener(item, false, &l));
        config->listeners.push_back(std::move(l));
      }
      continue;
    }
    if (IsGlobalKey(key)) {
      std::string value;
      ZDAP_RETURN_IF_ERROR(root.GetString(key, &value, true));
      ZDAP_RETURN_IF_ERROR(ApplyGlobalSetting(FlagName(key), value, root.Where(key), config));
      continue;
    }
    std::string flag = FlagName(key);
    if (key.find('-') == std::string::npos &&
        (IsListenerFlag(flag) || IsCloneCredentialFlag(flag) || key == "name" || key == "check")) {
      has_top_listener = true;  // the top level is also one listener, parsed below
      continue;
    }
    return UnknownKey(root, key);
  }
  if (has_top_listener) {
    ListenerConfig top;
    ZDAP_RETURN_IF_ERROR(ParseYamlListener(root, true, &top));
    config->listeners.insert(config->listeners.begin(), std::move(top));
  }
  return Status::Ok();
}

}  // namespace

std::string_view BalanceName(Balance b) {
  switch (b) {
    case Balance::kFirst:
      return "first";
    case Balance::kRoundRobin:
      return "roundrobin";
    case Balance::kLeastConn:
      return "leastconn";
    case Balance::kRandom:
      return "random";
  }
  return "?";
}

std::string_view CheckKindName(CheckKind k) {
  switch (k) {
    case CheckKind::kNone:
      return "none";
    case CheckKind::kTcp:
      return "tcp";
    case CheckKind::kPostgres:
      return "postgres";
    case CheckKind::kMysql:
      return "mysql";
  }
  return "?";
}

EnvironmentVariables ProcessEnv() {
  EnvironmentVariables env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view k = kv.substr(0, eq);
    if (k == "LISTEN_PORT" || k == "TARGET_ADDRESS" || k.substr(0, 5) == "ZDAP_") {
      env.emplace(k, kv.substr(eq + 1));
    }
  }
  return env;
}

Status ParseYamlConfig(std::string_view text, std::string_view source, ProxyConfig* config) {
  if (text.size() > kMaxConfigBytes) {
    return InvalidArgument(fmt::format("{}: larger than {} bytes", source, kMaxConfigBytes));
  }
  const std::string file(source);
  ZDAP_ASSIGN_OR_RETURN(YAML::Node node, config::ParseYaml(file, std::string(text)));
  if (node.IsNull()) return Status::Ok();
  config::MapReader root(file, node);
  try {
    return ParseYamlRoot(root, config);
  } catch (const YAML::Exception& e) {  // yaml-cpp throws on some malformed documents
    return InvalidArgument(fmt::format("{}:{}: {}", source, e.mark.line + 1, Printable(e.msg)));
  }
}

Result<ProxyConfig> ParseCommandLine(const std::vector<std::string>& args,
                                     const EnvironmentVariables& env) {
  ProxyConfig config;
  if (args.size() > kMaxArgs) {
    return InvalidArgument(fmt::format("more than {} arguments", kMaxArgs));
  }
  size_t i = 0;
  if (!args.empty() && args[0] == "healthcheck") {
    config.command = ProxyConfig::Command::kHealthcheck;
    i = 1;
  }

  // 1. Environment, lowest first: LISTEN_PORT/TARGET_ADDRESS, then ZDAP_*.
  RawMap raw;
  for (const auto& [key, value] : env) {
    if (value.size() > kMaxArgLength) {
      return InvalidArgument(fmt::format("env {}: longer than {} bytes", key, kMaxArgLength));
    }
  }
  if (auto it = env.find("LISTEN_PORT"); it != env.end()) {
    raw["listen"] = Raw{"env LISTEN_PORT", {it->second}};
  }
  if (auto it = env.find("TARGET_ADDRESS"); it != env.end()) {
    Raw r{"env TARGET_ADDRESS", {}};
    ZDAP_RETURN_IF_ERROR(SplitList(it->second, r.source, &r.values));
    raw["target"] = std::move(r);
  }
  for (const Flag& f : kFlags) {
    ZDAP_ASSIGN_OR_RETURN(std::string name, FlagEnvName(f.name, env));
    if (name.empty()) continue;
    auto it = env.find(name);
    Raw r{"env " + name, {}};
    if (f.repeatable) {
      ZDAP_RETURN_IF_ERROR(SplitList(it->second, r.source, &r.values));
    } else {
      r.values.push_back(it->second);
    }
    raw[std::string(f.name)] = std::move(r);
  }

  // 2. Flags.
  std::map<std::string, bool, std::less<>> seen_on_command_line;
  for (; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.size() > kMaxArgLength) {
      return InvalidArgument(
          fmt::format("argument {} is longer than {} bytes", i + 1, kMaxArgLength));
    }
    if (arg == "-h" || arg == "--help") {
      config.command = ProxyConfig::Command::kHelp;
      return config;
    }
    if (arg == "--version") {
      config.command = ProxyConfig::Command::kVersion;
      return config;
    }
    if (arg.substr(0, 2) != "--") {
      return InvalidArgument(fmt::format("unexpected argument {} (see --help)", Quote(arg)));
    }
    std::string_view name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = std::string(name.substr(eq + 1));
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) {
      return InvalidArgument(fmt::format("unknown flag {} (see --help)", Quote(arg)));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return InvalidArgument(fmt::format("--{} needs a value", flag->name));
      }
      value = args[++i];
      if (value.size() > kMaxArgLength) {
        return InvalidArgument(
            fmt::format("--{}: value longer than {} bytes", flag->name, kMaxArgLength));
      }
    }
    Raw& r = raw[std::string(flag->name)];
    if (!seen_on_command_line[std::string(flag->name)]) {
      seen_on_command_line[std::string(flag->name)] = true;
      r = Raw{fmt::format("--{}", flag->name), {}};
    } else if (!flag->repeatable) {
      return InvalidArgument(fmt::format("--{} given more than once", flag->name));
    }
    if (r.values.size() == kMaxTargets) {
      return InvalidArgument(
          fmt::format("--{}: given more than {} times", flag->name, kMaxTargets));
    }
    r.values.push_back(std::move(value));
  }

  // 3. The YAML file, then everything else on top of it.
  if (auto it = raw.find("config"); it != raw.end()) {
    const std::string& path = it->second.values.back();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return InvalidArgument(fmt::format("{} {}: cannot be read", it->second.source, Quote(path)));
    }
    std::string text;
    text.resize(kMaxConfigBytes + 1);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    ZDAP_RETURN_IF_ERROR(ParseYamlConfig(text, Printable(path), &config));
  }
  for (const auto& [name, r] : raw) {
    if (name == "config" || IsListenerFlag(name) || IsCloneCredentialFlag(name)) continue;
    ZDAP_RETURN_IF_ERROR(ApplyGlobalSetting(name, r.values.back(), r.source, &config));
  }
  bool has_listener_flags = raw.count("listen") || raw.count("target") || raw.count("clone");
  if (has_listener_flags) {
    ListenerConfig l;
    bool has_listen = false;
    for (const auto& [name, r] : raw) {
      if (!IsListenerFlag(name)) continue;
      if (name == "listen") has_listen = true;
      ZDAP_RETURN_IF_ERROR(ApplyListenerSetting(name, r.values, r.source, &l));
    }
    if (!has_listen) return InvalidArgument("missing --listen (or LISTEN_PORT)");
    if (l.clone) {
      for (const auto& [name, r] : raw) {
        if (IsCloneCredentialFlag(name)) {
          ZDAP_RETURN_IF_ERROR(ApplyListenerSetting(name, r.values, r.source, &l));
        }
      }
      ZDAP_RETURN_IF_ERROR(ValidateFollow(l, ""));
      // zdapd is asked again after failed connects; an active check has no fixed address.
      l.check.kind = CheckKind::kNone;
    }
    if (l.targets.empty() && !l.clone && config.command == ProxyConfig::Command::kRun) {
      return InvalidArgument("missing --target HOST:PORT (or TARGET_ADDRESS, or --clone ID)");
    }
    l.name = l.listen.ToString();
    config.listeners.insert(config.listeners.begin(), std::move(l));
  } else {
    for (const auto& [name, r] : raw) {
      if (IsListenerFlag(name)) {
        return InvalidArgument(fmt::format(
            "{} needs --listen and --target; with --config, set it in the file", r.source));
      }
    }
  }

  if (config.command == ProxyConfig::Command::kRun) {
    if (config.listeners.empty()) {
      return InvalidArgument("missing --listen ADDR and --target HOST:PORT (see --help)");
    }
    for (size_t a = 0; a < config.listeners.size(); ++a) {
      for (size_t b = a + 1; b < config.listeners.size(); ++b) {
        const HostPort& x = config.listeners[a].listen;
        const HostPort& y = config.listeners[b].listen;
        if (x.port != 0 && x.port == y.port &&
            (x.host == y.host || x.host.empty() || y.host.empty())) {
          return InvalidArgument(fmt::format("two listeners on {}", x.ToString()));
        }
      }
    }
  } else if (config.command == ProxyConfig::Command::kHealthcheck) {
    if (config.listeners.empty() && !config.metrics) {
      return InvalidArgument("healthcheck needs --listen ADDR or --metrics ADDR");
    }
  }
  return config;
}

std::string Usage() {
  return R"(usage: zdap-proxyd --listen ADDR --target HOST:PORT [--target HOST:PORT ...] [options]
       zdap-proxyd healthcheck [--listen ADDR] [--metrics ADDR]
A TCP proxy for database connections: balancing, health checks and failover over targets.

  --listen ADDR            address to listen on: :5432, 127.0.0.1:5432, [::1]:5432 (env LISTEN_PORT)
  --target HOST:PORT       a target; repeat for several (env TARGET_ADDRESS=a:1,b:2)
  --balance RULE           first (failover order, default), roundrobin, leastconn, random
  --check KIND             health check: tcp (default), postgres, mysql, none
  --check-interval D       time between checks (default 1s)
  --check-timeout D        time a check may take (default 1s)
  --rise N, --fall N       passes to mark up (default 2), failures to mark down (default 3)
  --connect-timeout D      time a connect to a target may take (default 2s)
  --retries N              further targets tried when a connect fails (default 2)
  --idle-timeout D         close connections idle this long (default 0: never)
  --pump KIND              buffered (read/write, default) or splice (splice(2) via a pipe)
  --drain-timeout D        on SIGTERM, time open connections get to finish (default 10s)
  --metrics ADDR           serve Prometheus metrics at http://ADDR/metrics
  --threads N              event loops (default 0: one per core)
  --log-level LEVEL        debug, info, warn, error, off (default info)
  --config FILE            YAML file; may declare several listeners (env ZDAP_PROXY_CONFIG;
                           ZDAP_CONFIG is the zdap CLI's file, never read here)
Clone-following mode, instead of --target: the target is where zdapd says the clone lives
(GET /v1/clones/ID), asked again when connects fail (clone reset, clone moved).
  --clone ID               the clone to follow
  --origin URL             a zdapd origin, http(s)://host:port; repeat for several, tried in
                           order (env ZDAP_ORIGIN=url1,url2; ZDAP_ORIGINS works too)
  --token-file FILE        API token, first line of FILE (or env ZDAP_TOKEN; --token T works
                           too but shows the token in the process list)
  --user NAME              X-Zdap-User for zdapd without tokens (loopback)
  --ca FILE                PEM CA that signed https origins' certificates (beside the
                           system CAs; env ZDAP_CA)
Every other flag can also be set as ZDAP_<FLAG>, e.g. ZDAP_CONNECT_TIMEOUT=500ms.
Durations: 500ms, 2s, 1m, 0.
)";
}

}  // namespace zdap::proxy
