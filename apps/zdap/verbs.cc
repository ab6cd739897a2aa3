#include "zdap/verbs.h"

#include <fmt/format.h>

#include <algorithm>

#include "zdap/commands.h"
#include "zdap/text_wrap.h"

namespace zdap::cli {
namespace {

constexpr const char kOrigins[] =
    "Origins and identity (~/.config/zdap/config.yaml or "
    "$ZDAP_CONFIG, mode 0600)";
constexpr const char kCompose[] = "Compose projects";
constexpr const char kClones[] =
    "Clones without compose (ID: a clone id, looked up on every "
    "origin)";
constexpr const char kLooking[] = "Looking around and operating";
constexpr const char kShell[] = "Shell";

std::vector<Verb> MakeVerbs() {
  return {
      {"origin add",
       {"add origin"},
       kOrigins,
       "add an origin, or change its token or CA",
       Operand::kNone,
       CmdOriginAdd},
      {"origin remove",
       {"remove origin"},
       kOrigins,
       "remove an origin",
       Operand::kOrigin,
       CmdOriginRemove},
      {"origin list",
       {"list origins"},
       kOrigins,
       "list the origins",
       Operand::kNone,
       CmdOriginList},
      {"user set",
       {"set user"},
       kOrigins,
       "who you are on the origins (default: your login name)",
       Operand::kNone,
       CmdUserSet},
      {"init", {}, kCompose, "write .zdap.yaml beside the compose file", Operand::kNone, CmdInit},
      {"attach",
       {},
       kCompose,
       "clone RESOURCE and make a compose service a proxy to it",
       Operand::kResource,
       CmdAttach},
      {"detach",
       {},
       kCompose,
       "remove the service again; destroy its clone unless --keep",
       Operand::kService,
       CmdDetach},
      {"clone",
       {},
       kClones,
       "a clone of RESOURCE; prints host, port, user, password, URI",
       Operand::kResource,
       CmdClone},
      {"destroy", {}, kClones, "destroy clones", Operand::kClone, CmdDestroy},
      {"reset",
       {},
       kClones,
       "fresh data in a clone (same id, port and password)",
       Operand::kClone,
       CmdReset},
      {"extend", {}, kClones, "give a clone a new lifetime from now", Operand::kClone, CmdExtend},
      {"protect", {}, kClones, "a protected clone never expires", Operand::kClone, CmdProtect},
      {"unprotect", {}, kClones, "let a clone expire again", Operand::kClone, CmdUnprotect},
      {"list resources",
       {},
       kLooking,
       "resources of every origin",
       Operand::kNone,
       CmdListResources},
      {"list snapshots",
       {},
       kLooking,
       "snapshots of every resource",
       Operand::kNone,
       CmdListSnapshots},
      {"list clones",
       {},
       kLooking,
       "your clones (--all: everyone's, for admins)",
       Operand::kNone,
       CmdListClones},
      {"refresh",
       {},
       kLooking,
       "make a new snapshot of RESOURCE (admins)",
       Operand::kResource,
       CmdRefresh},
      {"status",
       {},
       kLooking,
       "every origin: reachable, version, drivers, capacity, clones, pools",
       Operand::kNone,
       CmdStatus},
      {"events",
       {},
       kLooking,
       "follow the origin's events as they happen (-o json for scripts)",
       Operand::kNone,
       CmdEvents},
      {"completion",
       {},
       kShell,
       "print the completion script for bash, zsh or fish",
       Operand::kShell,
       CmdCompletion},
      {"__complete",
       {},
       kShell,
       "candidates for the completion scripts",
       Operand::kNone,
       CmdComplete,
       /*hidden=*/true},
  };
}

std::vector<std::string> Split(const std::string& name) {
  auto space = name.find(' ');
  if (space == std::string::npos) return {name};
  return {name.substr(0, space), name.substr(space + 1)};
}

template <typename F>
void ForEachName(F f) {
  for (const auto& v : AllVerbs()) {
    if (v.hidden) continue;
    f(v, v.name);
    for (const auto& a : v.aliases) f(v, a);
  }
}

void AddOnce(std::vector<std::string>* words, const std::string& w) {
  if (std::find(words->begin(), words->end(), w) == words->end()) words->push_back(w);
}

}  // namespace

const std::vector<Verb>& AllVerbs() {
  static const auto* verbs = new std::vector<Verb>(MakeVerbs());
  return *verbs;
}

std::optional<VerbMatch> MatchVerb(const std::vector<std::string>& args) {
  if (args.empty()) return std::nullopt;
  for (size_t words : {size_t{2}, size_t{1}}) {
    if (args.size() < words) continue;
    std::string name = words == 2 ? args[0] + " " + args[1] : args[0];
    for (const auto& v : AllVerbs()) {
      bool hit = v.name == name;
      for (const auto& a : v.aliases) hit = hit || a == name;
      if (hit) return VerbMatch{&v, words};
    }
  }
  return std::nullopt;
}

std::vector<std::string> FirstWords() {
  std::vector<std::string> out;
  ForEachName([&](const Verb&, const std::string& name) { AddOnce(&out, Split(name)[0]); });
  return out;
}

std::vector<std::string> SecondWords(const std::string& first) {
  std::vector<std::string> out;
  ForEachName([&](const Verb&, const std::string& name) {
    auto words = Split(name);
    if (words.size() == 2 && words[0] == first) AddOnce(&out, words[1]);
  });
  return out;
}

Result<VerbHelp> DescribeVerb(const Verb& verb) {
  VerbHelp help;
  DescribeScope scope(&help);
  try {
    Status s = verb.handler({});
    (void)s;
  } catch (const VerbDescribed&) {
    return help;
  }
  return Internal(fmt::format("verb '{}' did not declare its options first", verb.name));
}

std::string GeneralHelp() {
  std::string out = "usage: zdap VERB [ARGS...]\n\n" +
                    WrapWords(
                        "zdap gives you your own full-size copy (a clone) of a database, "
                        "on a server running zdapd (an origin), and plugs it into your "
                        "docker-compose project.",
                        kHelpColumns, 0, 0) +
                    "\n";
  std::string section;
  for (const auto& v : AllVerbs()) {
    if (v.hidden) continue;
    if (v.section != section) {
      section = v.section;
      out += "\n" + section + ":\n";
    }
    auto help = DescribeVerb(v);
    std::string usage = help.ok() ? help->usage : "zdap " + v.name;
    std::string summary = v.summary;
    if (!v.aliases.empty()) {
      std::vector<std::string> also;
      for (const auto& a : v.aliases) also.push_back("zdap " + a);
      summary += fmt::format(" (also: {})", fmt::join(also, ", "));
    }
    // Usage from column 2 (continued at 6), the summary from column 46, all within 80.
    constexpr size_t kColumn = 46;
    if (usage.size() + 4 <= kColumn) {
      out += fmt::format("  {:<{}}", usage, kColumn - 2);
    } else {
      out += "  " + WrapWords(usage, kHelpColumns, 6, 2) + "\n" + std::string(kColumn, ' ');
    }
    out += WrapWords(summary, kHelpColumns, kColumn, kColumn) + "\n";
  }
  out += "\n" +
         WrapWords(
             "Run `zdap VERB --help` for the options of a verb. Exit codes: 0 ok, 1 "
             "failure, 2 usage.",
             kHelpColumns, 0, 0) +
         "\n";
  return out;
}

}  // namespace zdap::cli
