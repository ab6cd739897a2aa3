#include "zdap/cli.h"

#include <fmt/format.h>

#include <iostream>

#include "core/log.h"
#include "core/version.h"
#include "zdap/args.h"
#include "zdap/suggest.h"
#include "zdap/verbs.h"

namespace zdap::cli {
namespace {

int Usage(const std::string& message, const std::string& verb) {
  std::cerr << fmt::format("zdap: {} (see `zdap {}--help`)\n", message,
                           verb.empty() ? "" : verb + " ");
  return kExitUsage;
}

// No verb matched `args`: a group word alone ("zdap origin"), a wrong second word, or an
// unknown verb, each with what to type instead.
int NoVerb(const std::vector<std::string>& args) {
  const std::string& first = args[0];
  std::vector<std::string> subs = SecondWords(first);
  if (!subs.empty()) {
    std::string choices = fmt::format("{}", fmt::join(subs, ", "));
    if (args.size() < 2)
      return Usage(fmt::format("'zdap {}' needs one of: {}", first, choices), "");
    if (args[1] == "--help" || args[1] == "-h") {
      std::cout << fmt::format("'zdap {}' needs one of: {}\n", first, choices);
      return kExitOk;
    }
    std::string hint = DidYouMean(args[1], subs);
    return Usage(fmt::format("'{}' is not a verb of 'zdap {}'{}", args[1], first,
                             hint.empty() ? "; use one of: " + choices
                                          : fmt::format("{} (one of: {})", hint, choices)),
                 "");
  }
  return Usage(fmt::format("'{}' is not a zdap verb{}", first, DidYouMean(first, FirstWords())),
               "");
}

}  // namespace

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << GeneralHelp();
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    if (args.size() > 1 && first == "help") {
      std::vector<std::string> rest(args.begin() + 1, args.end());
      rest.push_back("--help");
      return Run(rest);
    }
    std::cout << GeneralHelp();
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

  auto match = MatchVerb(args);
  if (!match) return NoVerb(args);
  const Verb& verb = *match->verb;
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(match->words),
                                args.end());
  ParsedArgs parsed = ParseArgs(verb.name, verb.syntax, rest);
  switch (parsed.kind) {
    case ParsedArgs::kHelp:
      std::cout << HelpText(verb.name, verb.syntax);
      return kExitOk;
    case ParsedArgs::kUsageError:
      return Usage(parsed.usage_error, verb.name);
    case ParsedArgs::kArgs:
      break;
  }
  try {
    Status s = verb.handler(parsed.args);
    if (s.ok()) return kExitOk;
    if (!s.message().empty()) std::cerr << "zdap: error: " << s.message() << "\n";
    return kExitFailure;
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
