#include "zdap/verbs.h"

#include <fmt/format.h>

#include <algorithm>

#include "zdap/commands.h"
#include "zdap/placement.h"  // kStatusDeadline
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

// Options several verbs share.
OptionSpec Output(std::vector<std::string> formats, std::string help) {
  std::string value = fmt::format("{}", fmt::join(formats, "|"));
  return {.name = "output",
          .short_name = 'o',
          .value = value,
          .help = std::move(help),
          .complete = Complete::kChoices,
          .choices = std::move(formats)};
}
OptionSpec ListOutput() {
  return Output({"table", "json", "yaml"}, "table (the default), json or yaml");
}
OptionSpec OriginOption(std::string help) {
  return {.name = "origin", .value = "URL", .help = std::move(help), .complete = Complete::kOrigin};
}
OptionSpec SnapshotOption(std::string help) {
  return {
      .name = "snapshot", .value = "ID", .help = std::move(help), .complete = Complete::kSnapshot};
}
OptionSpec TtlOption(std::string help) {
  return {.name = "ttl", .value = "D", .help = std::move(help)};
}
// -C: in --help, not in the usage line (the project is usually the current directory).
OptionSpec ProjectDirOption(std::string help) {
  return {.name = "project-dir",
          .short_name = 'C',
          .value = "DIR",
          .help = std::move(help),
          .in_usage = false};
}
OptionSpec QuietOption(std::string help) {
  return {.name = "quiet", .short_name = 'q', .help = std::move(help)};
}
OptionSpec Flag(std::string name, std::string help) {
  return {.name = std::move(name), .help = std::move(help)};
}
OperandSpec CloneIds(int max) {
  return {.text = max == 1 ? "ID" : "ID...", .min = 1, .max = max, .complete = Complete::kClone};
}
OperandSpec One(std::string text, Complete complete = Complete::kNothing) {
  return {.text = std::move(text), .min = 1, .max = 1, .complete = complete};
}

std::vector<Verb> MakeVerbs() {
  return {
      {.name = "origin add",
       .aliases = {"add origin"},
       .section = kOrigins,
       .summary = "add an origin, or change its token or CA",
       .syntax = {.about = "Adds a zdapd origin (http://HOST:PORT or https://HOST:PORT) to the "
                           "user config, or changes its token or CA.",
                  .operands = One("URL"),
                  .options = {{.name = "token",
                               .value = "T",
                               .help = "bearer token for this origin (stored in the user "
                                       "config, mode 0600)"},
                              {.name = "ca",
                               .value = "FILE",
                               .help = "PEM file of the CA that signed an https origin's "
                                       "certificate (trusted beside the system CAs for this "
                                       "origin)"}}},
       .handler = CmdOriginAdd},
      {.name = "origin remove",
       .aliases = {"remove origin"},
       .section = kOrigins,
       .summary = "remove an origin",
       .syntax = {.about = "Removes an origin (and its token) from the user config.",
                  .operands = One("URL", Complete::kOrigin)},
       .handler = CmdOriginRemove},
      {.name = "origin list",
       .aliases = {"list origins"},
       .section = kOrigins,
       .summary = "list the origins",
       .syntax = {.about = "Lists the configured origins.",
                  .options = {{.name = "verbose",
                               .short_name = 'v',
                               .help = "also show whether a token is set and ask each origin's "
                                       "health"},
                              Output({"table", "json", "yaml"},
                                     "table, json or yaml (default: one URL a line)")}},
       .handler = CmdOriginList},
      {.name = "user set",
       .aliases = {"set user"},
       .section = kOrigins,
       .summary = "who you are on the origins (default: your login name)",
       .syntax = {.about = "Sets the user name sent to origins (X-Zdap-User).",
                  .operands = One("NAME")},
       .handler = CmdUserSet},
      {.name = "init",
       .section = kCompose,
       .summary = "write .zdap.yaml beside the compose file",
       .syntax = {.about = "Makes a compose project a zdap project: writes .zdap.yaml beside the "
                           "compose file, naming the compose and override files.",
                  .options = {{.name = "compose",
                               .value = "FILE",
                               .help = "the project's compose file (default: docker-compose.yml, "
                                       "docker-compose.yaml, compose.yaml or compose.yml in the "
                                       "project directory)"},
                              {.name = "override",
                               .value = "FILE",
                               .help = "the override file zdap edits (default: "
                                       "docker-compose.override.yml beside it)"},
                              ProjectDirOption("directory to look in (default: current)")}},
       .handler = CmdInit},
      {.name = "attach",
       .section = kCompose,
       .summary = "clone RESOURCE and make a compose service a proxy to it",
       .syntax =
           {.about = "Creates a clone of RESOURCE and plugs it into the compose project: service "
                     "S in the override file becomes zdap-proxyd, listening on the service's "
                     "usual port and forwarding to the clone. Without --origin the origin with "
                     "the most free capacity is chosen. On a terminal a spinner shows the step it "
                     "is on.",
            .operands = One("RESOURCE", Complete::kResource),
            .options = {{.name = "service",
                         .value = "S",
                         .help = "compose service to stand in for (default: the resource name)",
                         .complete = Complete::kComposeService},
                        SnapshotOption("snapshot id (default: the newest)"),
                        OriginOption("origin URL (default: the one with the most free capacity)"),
                        Flag("claim",
                             "take a ready pool clone when an origin has one (else a new clone)"),
                        TtlOption("lifetime of the clone, e.g. 8h (default: the resource's)"),
                        {.name = "replicas",
                         .value = "N",
                         .help = "N clones on N distinct origins behind the one proxy, all with "
                                 "the first one's password (default 1)"},
                        {.name = "balance",
                         .value = "first|roundrobin|leastconn",
                         .help = "first (fail over in order, the default), roundrobin or "
                                 "leastconn",
                         .complete = Complete::kChoices,
                         .choices = {"first", "roundrobin", "leastconn"}},
                        QuietOption("no spinner; print only the clone id (one a line with "
                                    "--replicas)"),
                        ProjectDirOption("directory with .zdap.yaml (default: current)")},
            .check = CheckAttach},
       .handler = CmdAttach},
      {.name = "detach",
       .section = kCompose,
       .summary = "remove the service again; destroy its clone unless --keep",
       .syntax = {.about = "Removes zdap's service from the override file, exactly as it was "
                           "added, and destroys its clone unless --keep. On a terminal a spinner "
                           "shows the step it is on.",
                  .operands = {.text = "SERVICE...",
                               .min = 1,
                               .max = -1,
                               .complete = Complete::kAttachedService},
                  .options = {Flag("keep",
                                   "keep the clone (only remove the service from the "
                                   "override file)"),
                              QuietOption("no spinner and no result lines; only errors and "
                                          "warnings"),
                              ProjectDirOption("directory with .zdap.yaml (default: current)")}},
       .handler = CmdDetach},
      {.name = "clone",
       .section = kClones,
       .summary = "a clone of RESOURCE; prints host, port, user, password, URI",
       .syntax = {.about = "Creates a clone of RESOURCE, without a compose project, and prints "
                           "how to connect: host, port, user, password and URI. `-o env` prints "
                           "PG*/MYSQL_* variables for `eval`.",
                  .operands = One("RESOURCE", Complete::kResource),
                  .options = {SnapshotOption("snapshot id (default: the newest)"),
                              TtlOption("lifetime, e.g. 8h (default: the resource's)"),
                              {.name = "name",
                               .value = "N",
                               .help = "the clone's id (default: chosen by the origin)"},
                              OriginOption("origin URL (default: chosen by placement)"),
                              Output({"table", "json", "yaml", "env"},
                                     "table (the default), json, yaml, or env (shell variables "
                                     "to eval)")}},
       .handler = CmdClone},
      {.name = "destroy",
       .section = kClones,
       .summary = "destroy clones",
       .syntax = {.about = "Destroys clones: their server stops and their data is gone.",
                  .operands = CloneIds(-1)},
       .handler = CmdDestroy},
      {.name = "reset",
       .section = kClones,
       .summary = "fresh data in a clone (same id, port and password)",
       .syntax = {.about = "Throws away a clone's changes: fresh data from a snapshot, with the "
                           "same id, port and password.",
                  .operands = CloneIds(1),
                  .options = {SnapshotOption(
                      "snapshot to take the data from (default: the resource's newest)")}},
       .handler = CmdReset},
      {.name = "extend",
       .section = kClones,
       .summary = "give a clone a new lifetime from now",
       .syntax = {.about = "Sets when a clone expires: D from now.",
                  .operands = CloneIds(1),
                  .options = {{.name = "ttl",
                               .value = "D",
                               .help = "new lifetime from now, e.g. 8h, 2d",
                               .required = true}}},
       .handler = CmdExtend},
      {.name = "protect",
       .section = kClones,
       .summary = "a protected clone never expires",
       .syntax = {.about = "Protects clones: a protected clone never expires.",
                  .operands = CloneIds(-1)},
       .handler = CmdProtect},
      {.name = "unprotect",
       .section = kClones,
       .summary = "let a clone expire again",
       .syntax = {.about = "Lets protected clones expire again (at their expires_at).",
                  .operands = CloneIds(-1)},
       .handler = CmdUnprotect},
      // Resources and snapshots are the same for every user: their lists take no --all.
      {.name = "list resources",
       .section = kLooking,
       .summary = "resources of every origin",
       .syntax = {.about = "Lists the resources of every configured origin. They are the same "
                           "for every user; CLONES counts your own clones.",
                  .options = {ListOutput()}},
       .handler = CmdListResources},
      {.name = "list snapshots",
       .section = kLooking,
       .summary = "snapshots of every resource",
       .syntax = {.about = "Lists the snapshots of every resource on every origin. They are the "
                           "same for every user.",
                  .options = {ListOutput()}},
       .handler = CmdListSnapshots},
      {.name = "list clones",
       .section = kLooking,
       .summary = "your clones (--all: everyone's, for admins)",
       .syntax = {.about = "Lists your clones on every origin; with --all every owner's (an "
                           "origin where you are not an admin refuses that).",
                  .options = {Flag("all", "every owner's clones (admins)"), ListOutput()}},
       .handler = CmdListClones},
      {.name = "refresh",
       .section = kLooking,
       .summary = "make a new snapshot of RESOURCE (admins)",
       .syntax = {.about = "Starts a refresh of RESOURCE (admins): the origin imports its source "
                           "into a new snapshot while clones keep being served from the previous "
                           "one.",
                  .operands = One("RESOURCE", Complete::kResource),
                  .options = {Flag("wait", "follow the job until it is done (exit 1 if it fails)"),
                              QuietOption("print only the result: the new snapshot id (or the "
                                          "job id without --wait)"),
                              OriginOption("origin URL (default: the configured origin that "
                                           "serves RESOURCE)")}},
       .handler = CmdRefresh},
      {.name = "status",
       .section = kLooking,
       .summary = "every origin: reachable, version, drivers, capacity, clones, pools",
       .syntax = {.about = fmt::format(
                      "Asks every configured origin for its status, in parallel ({} ms each to "
                      "connect and to answer, as placement does): version, storage/runtime "
                      "drivers, free disk and memory, 1-minute load, your clones, and pools "
                      "(ready/min per resource). An origin that does not answer is shown down; "
                      "the exit status is 0 when at least one answers.",
                      kStatusDeadline.count()),
                  .options = {ListOutput()}},
       .handler = CmdStatus},
      {.name = "events",
       .section = kLooking,
       .summary = "follow the origin's events as they happen (-o json for scripts)",
       .syntax = {.about = "Prints the origin's events as they happen (your clones', and "
                           "resources', snapshots' and refreshes'; admins: all) until Ctrl-C; "
                           "a dropped connection is followed again from the last event printed.",
                  .options = {Output({"text", "json"},
                                     "text (one line per event, the default) or json (each "
                                     "event's JSON, one per line)"),
                              OriginOption("origin URL (default: the one configured origin)")}},
       .handler = CmdEvents},
      {.name = "completion",
       .section = kShell,
       .summary = "print the completion script for bash, zsh or fish",
       .syntax = {.about = "Prints the completion script for a shell. Load it with\n"
                           "  bash: source <(zdap completion bash)   (or install it as "
                           "/usr/share/bash-completion/completions/zdap)\n"
                           "  zsh:  source <(zdap completion zsh)    (after compinit)\n"
                           "  fish: zdap completion fish | source",
                  .operands = {.text = "bash|zsh|fish",
                               .min = 1,
                               .max = 1,
                               .complete = Complete::kChoices,
                               .choices = {"bash", "zsh", "fish"}}},
       .handler = CmdCompletion},
      {.name = "__complete",
       .section = kShell,
       .summary = "candidates for the completion scripts",
       .syntax = {.about = "Prints completion candidates, one a line (used by the scripts of "
                           "`zdap completion`).",
                  .operands = {.min = 2, .max = 3},
                  .check = CheckComplete,
                  .usage = "zdap __complete operand VERB | __complete option VERB OPTION"},
       .handler = CmdComplete,
       .hidden = true},
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

const Verb* FindVerb(std::string_view name) {
  for (const auto& v : AllVerbs()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const OptionSpec* FindOption(const Verb& verb, std::string_view option) {
  for (const auto& o : verb.syntax.options) {
    if (o.name == option || (o.short_name != 0 && option == std::string_view(&o.short_name, 1))) {
      return &o;
    }
  }
  return nullptr;
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
    std::string usage = v.Usage();
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
