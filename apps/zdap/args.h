// The command-line syntax of one zdap verb, as data (each verb's entry in verbs.cc declares
// it): its operands, its options, and the rules a parser can check. From the same data come
// parsing (Boost.Program_options underneath), the usage line, `zdap VERB --help`, and the
// completion scripts. A usage problem -- unknown flag, missing value or operand, a required
// option absent, a value outside its declared choices, a rule of the verb broken -- is reported
// in one line with exit status 2.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace zdap::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// What completes a word on the command line (an operand or an option's value), looked up when
// the shell asks (`zdap __complete`).
enum class Complete {
  kNothing,
  kChoices,          // the fixed words the syntax lists (`choices`); no other is accepted
  kResource,         // resource names from the origins
  kClone,            // clone ids from the origins
  kSnapshot,         // snapshot ids from the origins
  kComposeService,   // the services of the project's compose file
  kAttachedService,  // the services zdap attached to the project
  kOrigin,           // the configured origin URLs
};

// The syntax structs are written as designated initializers (verbs.cc); every member has a
// default so that any of them may be left out.
struct OptionSpec {
  std::string name{};   // long name: "service" (--service)
  char short_name = 0;  // 'q' (-q); 0 = none
  // Its value's placeholder in usage and help ("S", "URL", "table|json|yaml"); "" = a flag.
  std::string value{};
  std::string help{};
  Complete complete = Complete::kNothing;  // what completes its value
  std::vector<std::string> choices{};      // for Complete::kChoices
  bool required = false;                   // absent: a usage error
  bool in_usage = true;                    // shown in the usage line (always in --help)
};

// The words after the verb that are not options.
struct OperandSpec {
  std::string text{};  // as the usage line shows them: "RESOURCE", "ID...", "bash|zsh|fish"
  int min = 0;
  int max = 0;  // -1: any number
  Complete complete = Complete::kNothing;
  std::vector<std::string> choices{};  // for Complete::kChoices
};

// A verb's arguments, parsed against its syntax: every option given (a flag's value is "") and
// the operands, within the declared counts.
struct VerbArgs {
  std::map<std::string, std::string> options;  // by long name
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return options.count(name) > 0; }
  // The option's value; "" when absent.
  std::string Get(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& absent) const;
};

struct VerbSyntax {
  std::string about{};  // a sentence or two for --help
  OperandSpec operands{};
  std::vector<OptionSpec> options{};  // without -h/--help, which every verb has
  // Rules between values that a declaration cannot state ("--origin places one clone"): the
  // message of the usage error, or "" when the arguments are fine. Optional.
  std::function<std::string(const VerbArgs&)> check{};
  std::string usage{};  // the usage line when it is not the generated one (UsageLine)
};

// "zdap NAME OPERANDS [--flag] [--option VALUE] [-q] ..." (required options without brackets),
// or syntax.usage when set.
std::string UsageLine(const std::string& name, const VerbSyntax& syntax);

// `zdap VERB --help`: the usage line, the about text, and every option (-h/--help included)
// with its help, all wrapped to 80 columns.
std::string HelpText(const std::string& name, const VerbSyntax& syntax);

// The outcome of parsing a verb's words.
struct ParsedArgs {
  enum Kind { kArgs, kHelp, kUsageError } kind = kArgs;
  VerbArgs args;            // kArgs
  std::string usage_error;  // kUsageError: one line, ending with the usage when it helps
};
ParsedArgs ParseArgs(const std::string& name, const VerbSyntax& syntax,
                     const std::vector<std::string>& words);

}  // namespace zdap::cli
