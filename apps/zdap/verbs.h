// The verb registry: every verb of zdap is one entry (name, aliases, summary, what its
// operands are, handler). `zdap --help`, `zdap VERB --help`, dispatch, "did you mean", the
// completion scripts and `zdap __complete` are all generated from it. A verb's usage and
// options come from its handler's ParseVerbArgs call (see DescribeScope in args.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "zdap/args.h"

namespace zdap::cli {

// What a verb's positional words are, for completion.
enum class Operand {
  kNone,
  kResource,  // resource names from the origins
  kClone,     // clone ids from the origins
  kService,   // service names from the compose file
  kOrigin,    // configured origin URLs
  kShell,     // bash, zsh, fish
};

struct Verb {
  std::string name;                  // "attach", or two words: "origin add"
  std::vector<std::string> aliases;  // "add origin"
  std::string section;               // heading in `zdap --help`
  std::string summary;               // one line
  Operand operand = Operand::kNone;
  std::function<Status(const std::vector<std::string>&)> handler;
  bool hidden = false;  // not in help or completion (__complete)
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

// The first words of all visible names and aliases ("origin", "add", "attach", ...), and the
// second words that follow `first` ("add", "remove", "list" after "origin").
std::vector<std::string> FirstWords();
std::vector<std::string> SecondWords(const std::string& first);

// Usage, about and options of a verb, from its handler (which is not run).
Result<VerbHelp> DescribeVerb(const Verb& verb);

// `zdap --help`.
std::string GeneralHelp();

}  // namespace zdap::cli
