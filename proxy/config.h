// zdap-proxyd's configuration and how it is read (SPEC "Proxy (zdap-proxyd)").
//
// Sources, lowest precedence first: the YAML file (--config), the LISTEN_PORT and
// TARGET_ADDRESS environment variables, ZDAP_<FLAG> environment variables for every flag
// (ZDAP_CONNECT_TIMEOUT for --connect-timeout; lists comma-separated; the older names
// ZDAP_PROXY_CONFIG and ZDAP_ORIGINS still work), and command-line flags
// ("--flag value" or "--flag=value"). A repeatable flag given on the command line replaces the
// list from lower sources. Every error is a single line that names its source, and nothing is
// read without a bound: at most 256 arguments of at most 4096 bytes, at most 64 targets.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/result.h"
#include "proxy/address.h"

namespace zdap::proxy {

enum class Balance { kFirst, kRoundRobin, kLeastConn, kRandom };
enum class CheckKind { kNone, kTcp, kPostgres, kMysql };
// How a session moves bytes: read()/write() through a reused user-space buffer, or
// splice(2) through a pipe, which the data never leaves the kernel.
enum class Pump { kBuffered, kSplice };

std::string_view BalanceName(Balance b);
std::string_view CheckKindName(CheckKind k);

struct HealthCheckConfig {
  CheckKind kind = CheckKind::kTcp;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{1000};
  int rise = 2;  // consecutive passes before a down target is used again
  int fall = 3;  // consecutive failures before an up target is skipped
};

// Clone-following mode (--clone): the target is wherever zdapd says the clone lives, asked with
// GET /v1/clones/{id} from each origin in order, and asked again when connects fail (a clone
// reset or a clone recreated elsewhere).
struct CloneFollowConfig {
  std::string id;                    // clone name, ^[a-z0-9][a-z0-9-]{0,62}$
  std::vector<std::string> origins;  // zdapd base URLs, canonical ("http://db1:43210")
  std::string token;                 // Authorization: Bearer; never logged
  std::string user;                  // X-Zdap-User (zdapd's loopback mode without tokens)
  std::string ca_file;               // https origins: PEM CA trusted beside the system CAs
};

// One listening address and the targets behind it.
struct ListenerConfig {
  std::string name;  // for metrics labels; defaults to the listen address
  HostPort listen;
  std::vector<HostPort> targets;
  Balance balance = Balance::kFirst;
  HealthCheckConfig check;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds idle_timeout{0};  // 0 = no idle timeout
  int retries = 2;                            // further targets tried after a failed connect
  Pump pump = Pump::kBuffered;
  std::optional<CloneFollowConfig> clone;  // set: follow a clone; `targets` is empty
};

struct ProxyConfig {
  enum class Command { kRun, kHealthcheck, kHelp, kVersion };
  Command command = Command::kRun;
  std::vector<ListenerConfig> listeners;
  std::optional<HostPort> metrics;
  std::chrono::milliseconds drain_timeout{10000};
  int threads = 0;  // io_contexts; 0 = one per core
  log::Level log_level = log::Level::kInfo;
};

using EnvironmentVariables = std::map<std::string, std::string>;

// The process environment (only the variables zdap-proxyd reads).
EnvironmentVariables ProcessEnv();

// Parses argv[1..] (`args` excludes the program name) with `env`. Reads the YAML file when
// one is named. The result is complete and validated for its command.
Result<ProxyConfig> ParseCommandLine(const std::vector<std::string>& args,
                                     const EnvironmentVariables& env);

// Parses YAML text (the --config file's contents) into *config, on top of what is there.
// `source` names the file in messages.
Status ParseYamlConfig(std::string_view text, std::string_view source, ProxyConfig* config);

std::string Usage();

}  // namespace zdap::proxy
