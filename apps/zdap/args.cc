#include "zdap/args.h"

#include <fmt/format.h>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/positional_options.hpp>
#include <iostream>

#include "zdap/text_wrap.h"

namespace zdap::cli {
namespace po = boost::program_options;
namespace {

thread_local VerbHelp* describe_sink = nullptr;

void Describe(const std::string& usage, const std::string& about,
              const po::options_description& options, VerbHelp* out) {
  out->usage = usage;
  out->about = about;
  for (const auto& o : options.options()) {
    OptionHelp h;
    h.long_name = o->long_name();
    std::string dashed = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
    if (dashed.size() == 2 && dashed[0] == '-') h.short_name = dashed[1];
    h.takes_value = o->semantic()->max_tokens() > 0;
    h.help = o->description();
    out->options.push_back(std::move(h));
  }
}

}  // namespace

DescribeScope::DescribeScope(VerbHelp* sink) : previous_(describe_sink) {
  describe_sink = sink;
}
DescribeScope::~DescribeScope() {
  describe_sink = previous_;
}

std::string VerbArgs::Get(const char* name) const {
  auto it = options.find(name);
  if (it == options.end()) return {};
  return it->second.as<std::string>();
}

VerbArgs ParseVerbArgs(const std::vector<std::string>& args, const std::string& verb,
                       const std::string& usage, const std::string& about,
                       const po::options_description& options, int min_positional,
                       int max_positional) {
  if (describe_sink != nullptr) {
    Describe(usage, about, options, describe_sink);
    throw VerbDescribed{};
  }
  po::options_description visible("Options");
  visible.add(options);
  visible.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(visible);
  all.add_options()("zdap-positional", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("zdap-positional", -1);

  VerbArgs out;
  try {
    auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(args).options(all).positional(pos).style(style).run(),
              out.options);
    po::notify(out.options);
  } catch (const po::error& e) {
    throw UsageError(e.what(), verb);
  }
  if (out.options.count("help")) {
    std::cout << "usage: " << WrapWords(usage, kHelpColumns, 11, 7) << "\n\n"
              << WrapWords(about, kHelpColumns, 0, 0) << "\n\n"
              << visible;
    out.help = true;
    return out;
  }
  if (auto it = out.options.find("zdap-positional"); it != out.options.end()) {
    out.positional = it->second.as<std::vector<std::string>>();
  }
  int n = static_cast<int>(out.positional.size());
  if (n < min_positional) throw UsageError(fmt::format("missing argument; usage: {}", usage), verb);
  if (max_positional >= 0 && n > max_positional) {
    throw UsageError(fmt::format("unexpected argument '{}'; usage: {}",
                                 out.positional[static_cast<size_t>(max_positional)], usage),
                     verb);
  }
  return out;
}

}  // namespace zdap::cli
