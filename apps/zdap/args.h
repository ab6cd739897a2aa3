// Command-line parsing for the verbs of zdap (Boost.Program_options underneath). A usage
// problem -- unknown verb or flag, missing or extra argument -- is a UsageError, which the
// CLI reports in one line and exits with status 2.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace zdap::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct UsageError : std::runtime_error {
  UsageError(const std::string& message, std::string verb)
      : std::runtime_error(message), verb(std::move(verb)) {}
  std::string verb;  // "origin add": the help to point at
};

struct VerbArgs {
  bool help = false;  // -h/--help was given and the help has been printed
  boost::program_options::variables_map options;
  std::vector<std::string> positional;

  bool Has(const char* name) const { return options.count(name) > 0; }
  std::string Get(const char* name) const;  // "" when absent
};

// Parses `args` (the words after the verb) against `options` (-h/--help is added). `usage`
// is the synopsis line, `about` a sentence or two for --help. Positional words must number
// from `min_positional` to `max_positional` (-1: any).
VerbArgs ParseVerbArgs(const std::vector<std::string>& args, const std::string& verb,
                       const std::string& usage, const std::string& about,
                       const boost::program_options::options_description& options,
                       int min_positional, int max_positional);

// What `zdap VERB --help` shows, as data: for the general help and the completion scripts.
struct OptionHelp {
  std::string long_name;  // "output"
  char short_name = 0;    // 'o', 0 = none
  bool takes_value = false;
  std::string help;
};
struct VerbHelp {
  std::string usage;  // "zdap list clones [--all] [-o table|json|yaml]"
  std::string about;
  std::vector<OptionHelp> options;  // without -h/--help
};

// A verb's options are declared once, in its handler's ParseVerbArgs call. While a
// DescribeScope is alive on this thread, ParseVerbArgs records usage, about and options into
// the scope's VerbHelp and throws VerbDescribed instead of parsing, so the registry learns
// them without running the verb. Hence every handler calls ParseVerbArgs before anything else.
struct VerbDescribed {};
class DescribeScope {
 public:
  explicit DescribeScope(VerbHelp* sink);
  ~DescribeScope();
  DescribeScope(const DescribeScope&) = delete;
  DescribeScope& operator=(const DescribeScope&) = delete;

 private:
  VerbHelp* previous_;
};

}  // namespace zdap::cli
