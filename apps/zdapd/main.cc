// zdapd: the origin daemon. Thin: parses the command line, builds an Origin, and either
// serves the HTTP API or runs one host command (SPEC "Daemon").
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <iostream>

#include "api.h"
#include "audit_log.h"
#include "authenticator.h"
#include "config/daemon_config.h"
#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/time.h"
#include "core/version.h"
#include "dashboard_setup.h"
#include "host_client.h"
#include "http_server.h"
#include "metrics.h"
#include "origin/origin.h"
#include "origin_events.h"
#include "tokens_file.h"

namespace po = boost::program_options;
using namespace zdap;

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kUsage = R"(usage: zdapd COMMAND [options]

commands:
  serve                 run the daemon (HTTP API)
  refresh RESOURCE      import RESOURCE's source into a new snapshot (through the
                        running zdapd when one serves the data dir)
  destroy CLONE         destroy a clone (likewise)
  list resources|snapshots|clones
  check-config          load and validate the configuration, then exit
  replica drop RESOURCE stop RESOURCE's standby, remove its volume and drop its slot on
                        the primary (zdapd must not be serving; the next refresh syncs again)
  token add USER [--role admin|replicator] [--replace]
                        print a new token for USER (once); store only its sha256
  token list            users and roles of the tokens file
  token remove USER
  version               print the version (also --version)

options (also ZDAPD_<NAME> environment variables, e.g. ZDAPD_DATA_DIR):
)";

int Fail(const Status& st) {
  std::cerr << "zdapd: " << st.message() << "\n";
  return kExitFailure;
}

// <data_dir>/admin.token: a fresh random token that makes host commands the admin "zdapd"
// (from loopback only). Written 0600 at start, removed when serving ends.
class HostTokenFile {
 public:
  explicit HostTokenFile(std::string path) : path_(std::move(path)) {}
  ~HostTokenFile() {
    if (written_) ::unlink(path_.c_str());
  }
  Result<std::string> Write() {
    ZDAP_ASSIGN_OR_RETURN(std::string token, daemon::NewRandomToken());
    ZDAP_RETURN_IF_ERROR(WriteFileAtomic(path_, token + "\n", 0600));
    written_ = true;
    return token;
  }

 private:
  std::string path_;
  bool written_ = false;
};

int Serve(const config::DaemonConfig& cfg) {
  // A fresh data dir is made here as by the host commands (it holds the lock file).
  Status dirs = MakeDirs(cfg.data_dir, 0755);
  if (!dirs.ok()) return Fail(dirs);
  auto lock = FileLock::Acquire(cfg.data_dir + "/zdapd.lock", false,
                                fmt::format("another zdapd serves {}", cfg.data_dir));
  if (!lock.ok()) return Fail(lock.status());
  auto auth = daemon::Authenticator::Create(cfg.tokens_file);
  if (!auth.ok()) return Fail(auth.status());
  auto origin = origin::Origin::Open(cfg);
  if (!origin.ok()) return Fail(origin.status());
  origin::Origin& o = **origin;
  log::Info("zdapd {}: storage {} at {}, runtime {}, {} resource(s)", kVersion, o.store().name(),
            o.store().root(), o.runtime_driver(), o.resources().all().size());
  Status rec = o.Recover();
  if (!rec.ok()) return Fail(rec);

  HostTokenFile host_token(cfg.data_dir + "/admin.token");
  auto token = host_token.Write();
  if (!token.ok()) return Fail(token.status());
  (*auth)->SetHostToken(*token);
  daemon::Metrics metrics;
  // Issue 24: the event stream, its webhooks, the audit log and the dashboard's sessions.
  auto dashboard = daemon::Dashboard::Start(cfg, metrics, **auth);
  if (!dashboard.ok()) return Fail(dashboard.status());
  daemon::Api api(o, kVersion, **auth, metrics, (*dashboard)->parts());
  daemon::ServerOptions so;
  so.listen = cfg.listen;
  so.max_connections = cfg.max_connections;
  so.tls_cert = cfg.tls_cert;
  so.tls_key = cfg.tls_key;
  // SIGHUP: the server reloads its TLS certificate, then this reloads the tokens file (a
  // broken file keeps the tokens in force; Reload logs what it loaded).
  daemon::Authenticator& authenticator = **auth;
  so.on_reload = [&authenticator] {
    if (Status st = authenticator.Reload(); !st.ok()) log::Error("zdapd: {}", st.message());
  };
  daemon::HttpServer server(api, so);

  // Issue 24: what happens on the origin goes onto the event stream (and its webhooks).
  daemon::OriginEvents origin_events(o, **dashboard);
  o.SetObserver(&origin_events);
  // Cron refreshes, the expiry sweep, pool refills and idle expiry run beside the server and
  // stop with it.
  if (Status timed = o.StartTimedWork(); !timed.ok()) {
    o.SetObserver(nullptr);
    return Fail(timed);
  }
  const char* scheme = cfg.tls_cert.empty() ? "http" : "https";
  Status st = server.Run([&](const std::string& bound) {
    // Clone objects name the API by its real port (a configured :0 is chosen now).
    o.SetListenPort(std::atoi(bound.substr(bound.rfind(':') + 1).c_str()));
    log::Info("zdapd listening on {} ({})", bound, scheme);
  });
  o.StopTimedWork();
  o.SetObserver(nullptr);
  if (int n = server.AbandonedRequests(); n > 0) {
    // Requests outlived the drain deadline: exit without waiting for them (the server's
    // destructor would); the next start recovers their clones.
    log::Error("zdapd: {} request(s) still running at the drain deadline; exiting without them", n);
    std::_Exit(kExitFailure);
  }
  if (!st.ok()) return Fail(st);
  log::Info("zdapd stopped; clones keep running and are adopted on the next start");
  return 0;
}

int List(origin::Origin& o, const std::string& what) {
  if (what == "resources") {
    for (const auto& r : o.resources().all()) {
      fmt::print("{}\t{}\t{}\n", r.name, r.engine, r.source.database);
    }
  } else if (what == "snapshots") {
    for (const auto& r : o.resources().all()) {
      auto snaps = o.snapshots().List(r.name);
      if (!snaps.ok()) return Fail(snaps.status());
      for (const auto& s : *snaps)
        fmt::print("{}\t{}\t{} clone(s)\n", s.id, FormatRfc3339(s.created_at), s.clones);
    }
  } else if (what == "clones") {
    for (const auto& c : o.clones().List(origin::DaemonCaller(), true)) {
      fmt::print("{}\t{}\t{}\t{}\t{}\n", c.id, c.snapshot, c.state, c.port, c.owner);
    }
  } else {
    std::cerr << "zdapd: list what? use: zdapd list resources|snapshots|clones\n";
    return kExitUsage;
  }
  return 0;
}

int Token(const config::DaemonConfig& cfg, const std::vector<std::string>& args,
          const std::string& role, bool replace) {
  if (cfg.tokens_file.empty()) {
    std::cerr << "zdapd: token: no tokens file; set tokens_file in the config, "
                 "ZDAPD_TOKENS_FILE or --tokens-file\n";
    return kExitUsage;
  }
  std::string verb = args.empty() ? "" : args[0];
  if (verb == "add" && args.size() == 2) {
    daemon::TokenRole parsed;
    if (!daemon::ParseTokenRole(role, &parsed)) {
      std::cerr << "zdapd: token add: --role is admin, user or replicator\n";
      return kExitUsage;
    }
    auto token = daemon::AddToken(cfg.tokens_file, args[1], parsed, replace);
    if (!token.ok()) return Fail(token.status());
    fmt::print("{}\n", *token);
    std::cerr << fmt::format(
        "zdapd: token for {} ({}) stored as its sha256 in {}; this is the "
        "only time it is shown\n",
        args[1], role, cfg.tokens_file);
    return 0;
  }
  if (verb == "list" && args.size() == 1) {
    auto entries = daemon::LoadTokensFile(cfg.tokens_file);
    if (!entries.ok()) return Fail(entries.status());
    for (const auto& e : *entries) fmt::print("{}\t{}\n", e.user, daemon::TokenRoleName(e.role));
    return 0;
  }
  if (verb == "remove" && args.size() == 2) {
    Status st = daemon::RemoveToken(cfg.tokens_file, args[1]);
    if (!st.ok()) return Fail(st);
    return 0;
  }
  std::cerr
      << "zdapd: usage: zdapd token add USER [--role admin|replicator] [--replace] | token list | "
         "token remove USER\n";
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // A GET /v1/clones answer with hundreds of clones is ~100 KB built and freed per request:
  // by default glibc gives that memory back to the kernel (madvise, munmap) after a request
  // and faults it in again on the next, about a tenth of the request's CPU time.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  po::options_description opts;
  opts.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "config", po::value<std::string>(), "daemon config file (YAML)")(
      "config-dir", po::value<std::string>(), "directory with resources/ (default .)")(
      "listen", po::value<std::string>(), "HTTP listen address (default 127.0.0.1:43210)")(
      "data-dir", po::value<std::string>(),
      "where snapshots, clones and the catalog live (default ./zdap-data)")(
      "storage", po::value<std::string>(),
      "storage driver: auto, btrfs, reflink, overlay, zfs, copy")(
      "runtime", po::value<std::string>(), "runtime driver: process, docker")(
      "runtime-user", po::value<std::string>(), "user the database servers run as")(
      "clone-ports", po::value<std::string>(), "clone port range, e.g. 6000-6999")(
      "clone-bind", po::value<std::string>(), "address clone servers listen on")(
      "advertise", po::value<std::string>(), "host name given to clients")(
      "log-level", po::value<std::string>(), "debug, info, warn, error")(
      "max-connections", po::value<std::string>(), "open API connections served (default 1024)")(
      "tokens-file", po::value<std::string>(), "tokens file (sha256 of each token -> user, role)")(
      "role", po::value<std::string>()->default_value("user"),
      "token add: user, admin or replicator")("replace",
                                              "token add: give a user that has a token a new one");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("args",
                                                            po::value<std::vector<std::string>>());
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "zdapd: " << e.what() << " (see zdapd --help)\n";
    return kExitUsage;
  }
  if (vm.count("version")) {
    fmt::print("zdapd {}\n", kVersion);
    return 0;
  }
  if (vm.count("help") || !vm.count("command")) {
    std::cerr << kUsage << opts;
    return vm.count("help") ? 0 : kExitUsage;
  }
  std::string command = vm["command"].as<std::string>();
  std::vector<std::string> args;
  if (vm.count("args")) args = vm["args"].as<std::vector<std::string>>();
  if (command == "version") {
    fmt::print("zdapd {}\n", kVersion);
    return 0;
  }

  // Defaults < config file < environment < flags.
  config::DaemonConfig cfg;
  config::SettingMap file_settings, env_settings, flag_settings;
  std::string config_file;
  if (vm.count("config"))
    config_file = vm["config"].as<std::string>();
  else if (const char* e = std::getenv("ZDAPD_CONFIG"); e && *e)
    config_file = e;
  if (!config_file.empty()) {
    Status st = config::ReadDaemonConfigFile(config_file, &file_settings);
    if (!st.ok()) return Fail(st);
  }
  config::ReadDaemonEnvironment(&env_settings);
  const std::pair<const char*, const char*> flag_keys[] = {
      {"config-dir", "config_dir"},   {"listen", "listen"},
      {"data-dir", "data_dir"},       {"storage", "storage.driver"},
      {"runtime", "runtime.driver"},  {"runtime-user", "runtime.user"},
      {"clone-ports", "clone_ports"}, {"clone-bind", "clone_bind"},
      {"advertise", "advertise"},     {"log-level", "log_level"},
      {"tokens-file", "tokens_file"}, {"max-connections", "max_connections"}};
  for (const auto& [flag, key] : flag_keys) {
    if (vm.count(flag)) flag_settings[key] = vm[flag].as<std::string>();
  }
  for (const auto& [settings, origin] : {std::pair{&file_settings, config_file},
                                         std::pair{&env_settings, std::string("environment")},
                                         std::pair{&flag_settings, std::string("command line")}}) {
    Status st = config::ApplyDaemonSettings(*settings, origin, &cfg);
    if (!st.ok()) {
      std::cerr << "zdapd: " << st.message() << "\n";
      return kExitUsage;
    }
  }
  // Token commands edit the tokens file, which need not exist yet.
  if (command == "token") {
    return Token(cfg, args, vm["role"].as<std::string>(), vm.count("replace") > 0);
  }
  if (Status st = config::ValidateDaemonConfig(cfg); !st.ok()) return Fail(st);
  log::Level level;
  log::ParseLevel(cfg.log_level, &level);
  log::SetLevel(level);

  if (command == "serve") {
    if (!args.empty()) {
      std::cerr << "zdapd: serve takes no arguments\n";
      return kExitUsage;
    }
    return Serve(cfg);
  }
  if (command == "check-config") {
    auto resources = config::LoadResources(cfg.config_dir);
    if (!resources.ok()) return Fail(resources.status());
    for (const std::string& w : config::ResourceWarnings(*resources)) {
      std::cerr << "zdapd: warning: " << w << "\n";
    }
    if (auto auth = daemon::Authenticator::Create(cfg.tokens_file); !auth.ok()) {
      return Fail(auth.status());
    }
    fmt::print("ok: {} resource(s) in {}; listen {}; data_dir {}\n", resources->size(),
               cfg.config_dir, cfg.listen, cfg.data_dir);
    return 0;
  }
  // replica drop RES: the same host-command path as refresh, with the verb's own argument.
  const bool replica_drop = command == "replica" && !args.empty() && args[0] == "drop";
  if (command == "replica") {
    if (!replica_drop || args.size() != 2) {
      std::cerr << "zdapd: usage: zdapd replica drop RESOURCE\n";
      return kExitUsage;
    }
    args.erase(args.begin());
  }
  if (command == "refresh" || command == "list" || command == "destroy" || replica_drop) {
    if (args.size() != 1) {
      std::cerr << fmt::format("zdapd: {} takes one argument (see zdapd --help)\n", command);
      return kExitUsage;
    }
    // Opening the store recovers interrupted operations, which must never race a serving
    // daemon's in-flight ones: host commands take the daemon's lock for their duration, or
    // (refresh, destroy) ask the daemon that holds it.
    Status dirs = MakeDirs(cfg.data_dir, 0755);
    if (!dirs.ok()) return Fail(dirs);
    auto lock = FileLock::Acquire(
        cfg.data_dir + "/zdapd.lock", false,
        fmt::format("zdapd is serving {}; stop it first, or use the API through the zdap CLI",
                    cfg.data_dir));
    if (!lock.ok() && lock.status().code() == Code::kConflict) {
      if (command == "refresh") return daemon::RefreshThroughDaemon(cfg, args[0]);
      if (command == "destroy") return daemon::DestroyThroughDaemon(cfg, args[0]);
    }
    if (!lock.ok()) return Fail(lock.status());
    auto origin = origin::Origin::Open(cfg);
    if (!origin.ok()) return Fail(origin.status());
    if (command == "list") return List(**origin, args[0]);
    if (replica_drop) {
      auto res = (*origin)->resources().Find(args[0]);
      if (!res.ok()) return Fail(res.status());
      if (!(*res)->source.replica) {
        return Fail(InvalidArgument(
            fmt::format("resource {} has no standby (its source is not replica)", args[0])));
      }
      Status st = (*origin)->refresher().SourceOf(**res).Stop(/*remove=*/true);
      if (!st.ok()) return Fail(st);
      fmt::print("dropped the standby of {} (slot {})\n", args[0], (*res)->source.replica->slot);
      return 0;
    }
    if (command == "destroy") {
      Status st = (*origin)->clones().Destroy(args[0], origin::DaemonCaller());
      if (!st.ok()) return Fail(st);
      return 0;
    }
    auto id = (*origin)->refresher().Refresh(args[0]);
    if (!id.ok()) return Fail(id.status());
    fmt::print("{}\n", *id);
    return 0;
  }
  std::cerr << fmt::format("zdapd: unknown command '{}' (see zdapd --help)\n",
                           command.substr(0, 64));
  return kExitUsage;
}
