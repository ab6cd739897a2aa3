// zdap completion bash|zsh|fish, and the hidden `zdap __complete` the scripts call for the
// words that depend on the origins, the user config or the compose project.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "zdap/args.h"
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

const Verb* FindByName(const std::string& name) {
  for (const auto& v : AllVerbs()) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

Words OperandWords(const Verb& verb) {
  switch (verb.operand) {
    case Operand::kResource:
      return Resources();
    case Operand::kClone:
      return CloneIds();
    case Operand::kService:
      return Services(/*attached_only=*/true);
    case Operand::kOrigin:
      return Origins();
    case Operand::kShell:
      return {"bash", "zsh", "fish"};
    case Operand::kNone:
      break;
  }
  return {};
}

// `option` without its dashes ("origin", "o"), so that it does not parse as an option.
Words OptionWords(const Verb& verb, const std::string& option) {
  if (option == "origin") return Origins();
  if (option == "service") return Services(/*attached_only=*/false);
  if (option == "snapshot") return Snapshots();
  if (option == "o" || option == "output") {
    if (verb.name == "clone") return {"table", "json", "yaml", "env"};
    return {"table", "json", "yaml"};
  }
  return {};
}

}  // namespace

Status CmdCompletion(const Args& args) {
  VerbArgs a = ParseVerbArgs(args, "completion", "zdap completion bash|zsh|fish",
                             "Prints the completion script for a shell. Load it with\n"
                             "  bash: source <(zdap completion bash)   (or install it as "
                             "/usr/share/bash-completion/completions/zdap)\n"
                             "  zsh:  source <(zdap completion zsh)    (after compinit)\n"
                             "  fish: zdap completion fish | source",
                             {}, 1, 1);
  if (a.help) return Status::Ok();
  ZDAP_ASSIGN_OR_RETURN(std::string script, CompletionScript(a.positional[0]));
  std::cout << script;
  return Status::Ok();
}

Status CmdComplete(const Args& args) {
  VerbArgs a = ParseVerbArgs(args, "__complete",
                             "zdap __complete operand VERB | __complete option VERB OPTION",
                             "Prints completion candidates, one a line (used by the scripts of "
                             "`zdap completion`).",
                             {}, 2, 3);
  if (a.help) return Status::Ok();
  const Verb* verb = FindByName(a.positional[1]);
  if (verb == nullptr) return Status(Code::kNotFound, "");
  Words words;
  if (a.positional[0] == "operand" && a.positional.size() == 2) {
    words = OperandWords(*verb);
  } else if (a.positional[0] == "option" && a.positional.size() == 3) {
    words = OptionWords(*verb, a.positional[2]);
  } else {
    throw UsageError("usage: zdap __complete operand VERB | __complete option VERB OPTION",
                     "__complete");
  }
  for (const auto& w : words) std::cout << w << "\n";
  return Status::Ok();
}

}  // namespace zdap::cli
