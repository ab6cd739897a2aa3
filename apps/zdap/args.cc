#include "zdap/args.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>

#include "zdap/suggest.h"
#include "zdap/text_wrap.h"

namespace zdap::cli {
namespace po = boost::program_options;
namespace {

constexpr const char kPositional[] = "zdap-positional";
// The help column of `zdap VERB --help` is at most this far right; a longer option spelling
// puts its help on the next line.
constexpr size_t kMaxHelpColumn = 30;

const OptionSpec kHelpOption{.name = "help", .short_name = 'h', .help = "show this help"};

// "-q, --quiet", "--service S", "-o, --output table|json|yaml".
std::string Spellings(const OptionSpec& o) {
  std::string out;
  if (o.short_name != 0) out = fmt::format("-{}, ", o.short_name);
  out += "--" + o.name;
  if (!o.value.empty()) out += " " + o.value;
  return out;
}

// "[-q]", "[--claim]", "[--ttl D]", "[-o table|json|yaml]", or "--ttl D" when required.
std::string UsageWord(const OptionSpec& o) {
  std::string word = o.short_name != 0 ? fmt::format("-{}", o.short_name) : "--" + o.name;
  if (!o.value.empty()) word += " " + o.value;
  return o.required ? word : "[" + word + "]";
}

po::options_description Description(const VerbSyntax& syntax) {
  po::options_description all;
  for (const OptionSpec& o : syntax.options) {
    std::string names = o.name;
    if (o.short_name != 0) names += std::string(",") + o.short_name;
    if (o.value.empty()) {
      all.add_options()(names.c_str(), "");
    } else {
      all.add_options()(names.c_str(), po::value<std::string>(), "");
    }
  }
  all.add_options()("help,h", "");
  all.add_options()(kPositional, po::value<std::vector<std::string>>(), "");
  return all;
}

// "table, json or yaml".
std::string OneOf(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

bool IsChoice(const std::vector<std::string>& choices, const std::string& word) {
  return std::find(choices.begin(), choices.end(), word) != choices.end();
}

ParsedArgs UsageError(std::string message) {
  ParsedArgs out;
  out.kind = ParsedArgs::kUsageError;
  out.usage_error = std::move(message);
  return out;
}

}  // namespace

std::string VerbArgs::Get(const std::string& name) const {
  return Get(name, "");
}

std::string VerbArgs::Get(const std::string& name, const std::string& absent) const {
  auto it = options.find(name);
  return it == options.end() ? absent : it->second;
}

std::string UsageLine(const std::string& name, const VerbSyntax& syntax) {
  if (!syntax.usage.empty()) return syntax.usage;
  std::string out = "zdap " + name;
  if (!syntax.operands.text.empty()) out += " " + syntax.operands.text;
  for (const OptionSpec& o : syntax.options) {
    if (o.in_usage) out += " " + UsageWord(o);
  }
  return out;
}

std::string HelpText(const std::string& name, const VerbSyntax& syntax) {
  std::vector<const OptionSpec*> options;
  for (const OptionSpec& o : syntax.options) options.push_back(&o);
  options.push_back(&kHelpOption);
  size_t column = 0;
  for (const OptionSpec* o : options) column = std::max(column, Spellings(*o).size() + 4);
  column = std::min(column, kMaxHelpColumn);

  std::string out = "usage: " + WrapWords(UsageLine(name, syntax), kHelpColumns, 11, 7) + "\n\n" +
                    WrapWords(syntax.about, kHelpColumns, 0, 0) + "\n\nOptions:\n";
  for (const OptionSpec* o : options) {
    std::string left = "  " + Spellings(*o);
    if (left.size() + 2 > column) {
      out += left + "\n" + std::string(column, ' ');
    } else {
      out += left + std::string(column - left.size(), ' ');
    }
    out += WrapWords(o->help, kHelpColumns, column, column) + "\n";
  }
  return out;
}

ParsedArgs ParseArgs(const std::string& name, const VerbSyntax& syntax,
                     const std::vector<std::string>& words) {
  const po::options_description options = Description(syntax);
  po::positional_options_description positional;
  positional.add(kPositional, -1);
  po::variables_map vm;
  try {
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::store(
        po::command_line_parser(words).options(options).positional(positional).style(style).run(),
        vm);
  } catch (const po::unknown_option& e) {
    std::vector<std::string> known = {"--help"};
    for (const OptionSpec& o : syntax.options) known.push_back("--" + o.name);
    return UsageError(e.what() + DidYouMean(e.get_option_name(), known));
  } catch (const po::error& e) {
    return UsageError(e.what());
  }
  ParsedArgs out;
  if (vm.count("help")) {
    out.kind = ParsedArgs::kHelp;
    return out;
  }
  VerbArgs& a = out.args;
  for (const OptionSpec& o : syntax.options) {
    auto it = vm.find(o.name);
    if (it == vm.end()) continue;
    a.options[o.name] = o.value.empty() ? "" : it->second.as<std::string>();
  }
  if (auto it = vm.find(kPositional); it != vm.end()) {
    a.positional = it->second.as<std::vector<std::string>>();
  }
  const std::string usage = UsageLine(name, syntax);
  const int n = static_cast<int>(a.positional.size());
  if (n < syntax.operands.min) {
    return UsageError(fmt::format("missing argument; usage: {}", usage));
  }
  if (syntax.operands.max >= 0 && n > syntax.operands.max) {
    return UsageError(fmt::format("unexpected argument '{}'; usage: {}",
                                  a.positional[static_cast<size_t>(syntax.operands.max)], usage));
  }
  for (const OptionSpec& o : syntax.options) {
    if (o.required && !a.Has(o.name)) {
      return UsageError(fmt::format("--{} is required; usage: {}", o.name, usage));
    }
    if (o.complete == Complete::kChoices && a.Has(o.name) && !IsChoice(o.choices, a.Get(o.name))) {
      return UsageError(fmt::format("--{} '{}': use {}", o.name, a.Get(o.name), OneOf(o.choices)));
    }
  }
  if (syntax.operands.complete == Complete::kChoices) {
    for (const std::string& word : a.positional) {
      if (!IsChoice(syntax.operands.choices, word)) {
        return UsageError(fmt::format("'{}': use {}", word, OneOf(syntax.operands.choices)));
      }
    }
  }
  if (syntax.check) {
    if (std::string broken = syntax.check(a); !broken.empty()) return UsageError(broken);
  }
  return out;
}

}  // namespace zdap::cli
