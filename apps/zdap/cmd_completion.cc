// zdap completion bash|zsh|fish, and the hidden `zdap __complete` the scripts call for the
// words that depend on the origins, the user config or the compose project.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/completion.h"
#include "zdap/compose_services.h"
#include "zdap/placement.h"
#include "zdap/project_file.h"
#include "zdap/verbs.h"

namespace zdap::cli {
namespace {

using Words = std::vector<std::string>;

// Calls `each` on every configured origin that answers; silence on failure (a completion
// must not print errors into the command line).
template <typename F>
Words FromOrigins(F each) {
  Words out;
  auto config = LoadConfigWithOrigins();
  if (!config.ok()) return out;
  for (const auto& o : config->origins) {
    auto api = OriginFor(*config, o.url);
    if (api.ok()) each(*api, &out);
  }
  return out;
}

Words Resources() {
  return FromOrigins([](const OriginApi& api, Words* out) {
    if (auto r = api.ListResources(); r.ok()) {
      for (const auto& res : *r) out->push_back(res.name);
    }
  });
}

Words Snapshots() {
  return FromOrigins([](const OriginApi& api, Words* out) {
    if (auto r = api.ListResources(); r.ok()) {
      for (const auto& res : *r) {
        for (const auto& s : res.snapshots) out->push_back(s.id);
      }
    }
  });
}

Words CloneIds() {
  return FromOrigins([](const OriginApi& api, Words* out) {
    if (auto r = api.ListClones(); r.ok()) {
      for (const auto& c : *r) out->push_back(c.id);
    }
  });
}

Words Origins() {
  Words out;
  auto path = UserConfigPath();
  if (!path.ok()) return out;
  auto config = LoadUserConfig(*path);
  if (!config.ok()) return out;
  for (const auto& o : config->origins) out.push_back(o.url);
  return out;
}

// The services of the project's compose file (attach --service), or the services zdap has
// attached (detach).
Words Services(bool attached_only) {
  Words out;
  auto project = LoadProject(std::filesystem::current_path().string());
  if (!project.ok()) return out;
  if (attached_only) {
    for (const auto& s : project->services) out.push_back(s.service);
    return out;
  }
  if (auto names = ComposeServiceNames(project->ComposePath()); names.ok()) out = *names;
  return out;
}

Words WordsFor(Complete complete, const Words& choices) {
  switch (complete) {
    case Complete::kChoices:
      return choices;
    case Complete::kResource:
      return Resources();
    case Complete::kClone:
      return CloneIds();
    case Complete::kSnapshot:
      return Snapshots();
    case Complete::kComposeService:
      return Services(/*attached_only=*/false);
    case Complete::kAttachedService:
      return Services(/*attached_only=*/true);
    case Complete::kOrigin:
      return Origins();
    case Complete::kNothing:
      break;
  }
  return {};
}

// The values of `verb`'s option spelled `option` without its dashes ("origin", "o"), so that it
// does not parse as an option.
Words OptionWords(const Verb& verb, const std::string& option) {
  const OptionSpec* spec = FindOption(verb, option);
  if (spec == nullptr) return {};
  return WordsFor(spec->complete, spec->choices);
}

}  // namespace

Status CmdCompletion(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(std::string script, CompletionScript(a.positional[0]));
  std::cout << script;
  return Status::Ok();
}

std::string CheckComplete(const VerbArgs& a) {
  const std::string& what = a.positional[0];
  if ((what == "operand" && a.positional.size() == 2) ||
      (what == "option" && a.positional.size() == 3)) {
    return "";
  }
  return "usage: zdap __complete operand VERB | __complete option VERB OPTION";
}

Status CmdComplete(const VerbArgs& a) {
  const Verb* verb = FindVerb(a.positional[1]);
  if (verb == nullptr) return Status(Code::kNotFound, "");
  const Words words = a.positional[0] == "operand"
                          ? WordsFor(verb->syntax.operands.complete, verb->syntax.operands.choices)
                          : OptionWords(*verb, a.positional[2]);
  for (const auto& w : words) std::cout << w << "\n";
  return Status::Ok();
}

}  // namespace zdap::cli
