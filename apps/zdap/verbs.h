// The verb registry: every verb of zdap is one entry (name, aliases, summary, its syntax --
// operands, options, usage, about -- and its handler), all declared as data in verbs.cc.
// Dispatch, `zdap --help`, `zdap VERB --help`, "did you mean", the completion scripts and
// `zdap __complete` are generated from it; a handler receives its arguments parsed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "zdap/args.h"

namespace zdap::cli {

struct Verb {
  std::string name{};                  // "attach", or two words: "origin add"
  std::vector<std::string> aliases{};  // "add origin"
  std::string section{};               // heading in `zdap --help`
  std::string summary{};               // one line
  VerbSyntax syntax{};
  // Runs the verb on its parsed arguments: prints its result on stdout, returns a failure
  // (exit 1) with a one-line message, or a failure with no message when it has reported already.
  std::function<Status(const VerbArgs&)> handler{};
  bool hidden = false;  // not in help or completion (__complete)

  std::string Usage() const { return UsageLine(name, syntax); }
};

// Every verb, in help order.
const std::vector<Verb>& AllVerbs();

// The verb that `args` start with (two-word names and aliases first); `words` is how many
// words of args name it.
struct VerbMatch {
  const Verb* verb = nullptr;
  size_t words = 0;
};
std::optional<VerbMatch> MatchVerb(const std::vector<std::string>& args);

// The verb named `name` exactly (no alias), or null.
const Verb* FindVerb(std::string_view name);
// The option of `verb` spelled `option` without its dashes ("origin", "o"), or null.
const OptionSpec* FindOption(const Verb& verb, std::string_view option);

// The first words of all visible names and aliases ("origin", "add", "attach", ...), and the
// second words that follow `first` ("add", "remove", "list" after "origin").
std::vector<std::string> FirstWords();
std::vector<std::string> SecondWords(const std::string& first);

// `zdap --help`.
std::string GeneralHelp();

}  // namespace zdap::cli
