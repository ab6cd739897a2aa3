// zdapd: the origin daemon. Thin: parses the command line, builds an Origin, and either
// serves the HTTP API or runs one host command (SPEC "Daemon").
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "api.h"
#include "config/daemon_config.h"
#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/time.h"
#include "http_server.h"
#include "origin/origin.h"

namespace po = boost::program_options;
using namespace zdap;

namespace {

constexpr const char* kVersion = "0.1.0";
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kUsage = R"(usage: zdapd COMMAND [options]

commands:
  serve                 run the daemon (HTTP API)
  refresh RESOURCE      import RESOURCE's source into a new snapshot
  list resources|snapshots|clones
  check-config          load and validate the configuration, then exit
  version

options (also ZDAPD_<NAME> environment variables, e.g. ZDAPD_DATA_DIR):
)";

int Fail(const Status& st) {
  std::cerr << "zdapd: " << st.message() << "\n";
  return kExitFailure;
}

int Serve(const config::DaemonConfig& cfg) {
  // The embedded default (./zdap-data) must work on a first run.
  if (Status dirs = MakeDirs(cfg.data_dir, 0755); !dirs.ok()) return Fail(dirs);
  auto lock = FileLock::Acquire(cfg.data_dir + "/zdapd.lock", false,
                                fmt::format("another zdapd serves {}", cfg.data_dir));
  if (!lock.ok()) return Fail(lock.status());
  auto origin = origin::Origin::Open(cfg);
  if (!origin.ok()) return Fail(origin.status());
  origin::Origin& o = **origin;
  log::Info("zdapd {}: storage {} at {}, runtime {}, {} resource(s)", kVersion, o.storage_driver(),
            o.store().root(), o.runtime_driver(), o.resources().size());
  Status rec = o.Recover();
  if (!rec.ok()) return Fail(rec);

  daemon::Api api(o, kVersion);
  daemon::ServerOptions so;
  so.listen = cfg.listen;
  so.max_connections = cfg.max_connections;
  so.tls_cert = cfg.tls_cert;
  so.tls_key = cfg.tls_key;
  // Token files arrive with the Authenticator; until then SIGHUP reloads only TLS.
  so.on_reload = [] { log::Info("zdapd: reloaded"); };
  daemon::HttpServer server(api, so);

  // Expiry runs beside the server; it wakes once a second and stops with it.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread expiry([&] {
    std::unique_lock lk(mu);
    while (!cv.wait_for(lk, std::chrono::seconds(1), [&] { return stopping; })) {
      lk.unlock();
      o.ExpireClones(SystemNow());
      lk.lock();
    }
  });
  const char* scheme = cfg.tls_cert.empty() ? "http" : "https";
  Status st = server.Run(
      [&](const std::string& bound) { log::Info("zdapd listening on {} ({})", bound, scheme); });
  {
    std::lock_guard lk(mu);
    stopping = true;
  }
  cv.notify_all();
  expiry.join();
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
  origin::Caller admin{"zdapd", true};
  if (what == "resources") {
    for (const auto& r : o.resources()) {
      fmt::print("{}\t{}\t{}\n", r.name, r.engine, r.source.database);
    }
  } else if (what == "snapshots") {
    for (const auto& r : o.resources()) {
      auto snaps = o.Snapshots(r.name);
      if (!snaps.ok()) return Fail(snaps.status());
      for (const auto& s : *snaps)
        fmt::print("{}\t{}\t{} clone(s)\n", s.id, FormatRfc3339(s.created_at), s.clones);
    }
  } else if (what == "clones") {
    for (const auto& c : o.ListClones(admin, true)) {
      fmt::print("{}\t{}\t{}\t{}\t{}\n", c.id, c.snapshot, catalog::CloneStateName(c.state), c.port,
                 c.owner);
    }
  } else {
    std::cerr << "zdapd: list what? use: zdapd list resources|snapshots|clones\n";
    return kExitUsage;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description opts;
  opts.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                                 "daemon config file (YAML)")(
      "config-dir", po::value<std::string>(), "directory with resources/ (default .)")(
      "listen", po::value<std::string>(), "HTTP listen address (default 127.0.0.1:43210)")(
      "data-dir", po::value<std::string>(),
      "where snapshots, clones and the catalog live (default ./zdap-data)")(
      "storage", po::value<std::string>(), "storage driver: auto, btrfs, copy")(
      "runtime", po::value<std::string>(), "runtime driver: process, docker")(
      "runtime-user", po::value<std::string>(), "user the database servers run as")(
      "clone-ports", po::value<std::string>(), "clone port range, e.g. 6000-6999")(
      "clone-bind", po::value<std::string>(), "address clone servers listen on")(
      "advertise", po::value<std::string>(), "host name given to clients")(
      "max-connections", po::value<std::string>(), "open API connections served (default 1024)")(
      "log-level", po::value<std::string>(), "debug, info, warn, error");
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
  const std::pair<const char*, const char*> flag_keys[] = {{"config-dir", "config_dir"},
                                                           {"listen", "listen"},
                                                           {"data-dir", "data_dir"},
                                                           {"storage", "storage.driver"},
                                                           {"runtime", "runtime.driver"},
                                                           {"runtime-user", "runtime.user"},
                                                           {"clone-ports", "clone_ports"},
                                                           {"clone-bind", "clone_bind"},
                                                           {"advertise", "advertise"},
                                                           {"log-level", "log_level"},
                                                           {"max-connections", "max_connections"}};
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
    fmt::print("ok: {} resource(s) in {}; listen {}; data_dir {}\n", resources->size(),
               cfg.config_dir, cfg.listen, cfg.data_dir);
    return 0;
  }
  if (command == "refresh" || command == "list") {
    if (args.size() != 1) {
      std::cerr << fmt::format("zdapd: {} takes one argument (see zdapd --help)\n", command);
      return kExitUsage;
    }
    // Opening the store recovers interrupted operations, which must never race a serving
    // daemon's in-flight ones: host commands take the daemon's lock for their duration.
    Status dirs = MakeDirs(cfg.data_dir, 0755);
    if (!dirs.ok()) return Fail(dirs);
    auto lock = FileLock::Acquire(
        cfg.data_dir + "/zdapd.lock", false,
        fmt::format("zdapd is serving {}; stop it first, or use the API through the zdap CLI",
                    cfg.data_dir));
    if (!lock.ok()) return Fail(lock.status());
    auto origin = origin::Origin::Open(cfg);
    if (!origin.ok()) return Fail(origin.status());
    if (command == "list") return List(**origin, args[0]);
    auto id = (*origin)->Refresh(args[0]);
    if (!id.ok()) return Fail(id.status());
    fmt::print("{}\n", *id);
    return 0;
  }
  std::cerr << fmt::format("zdapd: unknown command '{}' (see zdapd --help)\n",
                           command.substr(0, 64));
  return kExitUsage;
}
