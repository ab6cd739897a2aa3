#include "zdap/cli.h"

#include <fmt/format.h>

#include <functional>
#include <iostream>
#include <map>

#include "core/log.h"
#include "core/version.h"
#include "zdap/args.h"
#include "zdap/commands.h"

namespace zdap::cli {
namespace {

constexpr const char kHelp[] =
    R"(usage: zdap VERB [ARGS...]

zdap gives you your own full-size copy (a clone) of a database, on a server running zdapd
(an origin), and plugs it into your docker-compose project.

Origins and identity (stored in ~/.config/zdap/config.yaml, or $ZDAP_CONFIG, mode 0600):
  zdap origin add URL [--token T] [--ca FILE]  add an origin (also: zdap add origin URL)
  zdap origin remove URL               remove one (also: zdap remove origin URL)
  zdap origin list [-v] [-o FMT]       list them (-v: token set? healthy?)
  zdap user set NAME                   who you are (also: zdap set user NAME)

Compose projects:
  zdap init [--compose FILE] [--override FILE]   write .zdap.yaml beside the compose file
  zdap attach RESOURCE [--service S] [--snapshot ID] [--origin URL] [--ttl D]
                                       clone RESOURCE and make service S a proxy to it
  zdap detach SERVICE... [--keep]      remove the service again; destroy its clone unless --keep

Looking around:
  zdap list resources|snapshots|clones|origins [--all] [-o table|json|yaml]

Run `zdap VERB --help` for the options of a verb. Exit codes: 0 ok, 1 failure, 2 usage.
)";

using Handler = std::function<Status(const Args&)>;

Status ListOrigins(const Args& args) {
  return CmdOriginList(args);
}

// Two-word verbs: "origin add" and its alias "add origin", "list resources", ...
const std::map<std::string, Handler>& Verbs() {
  static const auto* verbs = new std::map<std::string, Handler>{
      {"origin add", CmdOriginAdd},
      {"add origin", CmdOriginAdd},
      {"origin remove", CmdOriginRemove},
      {"remove origin", CmdOriginRemove},
      {"origin list", CmdOriginList},
      {"list origins", ListOrigins},
      {"user set", CmdUserSet},
      {"set user", CmdUserSet},
      {"init", CmdInit},
      {"attach", CmdAttach},
      {"detach", CmdDetach},
      {"list resources", CmdListResources},
      {"list snapshots", CmdListSnapshots},
      {"list clones", CmdListClones},
      {"status", CmdStatus},
  };
  return *verbs;
}

int Usage(const std::string& message, const std::string& verb) {
  std::cerr << fmt::format("zdap: {} (see `zdap {}--help`)\n", message,
                           verb.empty() ? "" : verb + " ");
  return kExitUsage;
}

}  // namespace

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kHelp;
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    if (args.size() > 1 && first == "help") {
      std::vector<std::string> rest(args.begin() + 1, args.end());
      rest.push_back("--help");
      return Run(rest);
    }
    std::cout << kHelp;
    return kExitOk;
  }
  if (first == "--version" || first == "version") {
    std::cout << "zdap " ZDAP_VERSION "\n";
    return kExitOk;
  }
  if (first == "--debug") {
    log::SetLevel(log::Level::kDebug);
    return Run(std::vector<std::string>(args.begin() + 1, args.end()));
  }

  const auto& verbs = Verbs();
  std::string verb;
  size_t consumed = 0;
  if (args.size() >= 2 && verbs.count(first + " " + args[1])) {
    verb = first + " " + args[1];
    consumed = 2;
  } else if (verbs.count(first)) {
    verb = first;
    consumed = 1;
  } else {
    bool group = false;
    for (const auto& [name, h] : verbs) group = group || name.starts_with(first + " ");
    if (group) {
      std::vector<std::string> subs;
      for (const auto& [name, h] : verbs) {
        if (name.starts_with(first + " ")) subs.push_back(name.substr(first.size() + 1));
      }
      if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
        std::string message =
            fmt::format("'zdap {}' needs one of: {}", first, fmt::join(subs, ", "));
        if (args.size() >= 2) {
          std::cout << message << "\n";
          return kExitOk;
        }
        return Usage(message, "");
      }
      return Usage(fmt::format("'{}' is not a verb of 'zdap {}'; use one of: {}", args[1], first,
                               fmt::join(subs, ", ")),
                   "");
    }
    return Usage(fmt::format("'{}' is not a zdap verb", first), "");
  }
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(consumed), args.end());
  try {
    Status s = verbs.at(verb)(rest);
    if (s.ok()) return kExitOk;
    if (!s.message().empty()) std::cerr << "zdap: error: " << s.message() << "\n";
    return kExitFailure;
  } catch (const UsageError& e) {
    return Usage(e.what(), e.verb);
  } catch (const std::exception& e) {
    std::cerr << "zdap: error: " << e.what() << "\n";
    return kExitFailure;
  }
}

int Main(int argc, char** argv) {
  log::SetLevel(log::Level::kWarn);
  std::vector<std::string> args(argv + 1, argv + argc);
  return Run(args);
}

}  // namespace zdap::cli
