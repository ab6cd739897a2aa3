#include "compose/override_editor.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "compose/text_lines.h"

namespace zdap::compose {
namespace {

constexpr std::string_view kOpen = "# >>> zdap ";
constexpr std::string_view kClose = "# <<< zdap ";

std::string OpenMarker(std::string_view what) {
  return std::string(kOpen) + std::string(what);
}
std::string CloseMarker(std::string_view what) {
  return std::string(kClose) + std::string(what);
}
std::string ServiceWhat(std::string_view name) {
  return "service " + std::string(name);
}

// Finds the first region [open, close] of markers for `what`; false when there is none.
bool FindRegion(const TextLines& lines, std::string_view what, size_t* open, size_t* close) {
  std::string o = OpenMarker(what), c = CloseMarker(what);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines.Trimmed(i) != o) continue;
    for (size_t j = i + 1; j < lines.size(); ++j) {
      if (lines.Trimmed(j) == c) {
        *open = i;
        *close = j;
        return true;
      }
    }
    return false;
  }
  return false;
}

Status CheckSize(std::string_view text) {
  if (text.size() > kMaxOverrideBytes) {
    return Status(Code::kTooLarge,
                  fmt::format("the override file is larger than {} bytes; zdap edits only "
                              "override files of ordinary size",
                              kMaxOverrideBytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return InvalidArgument("the override file contains NUL bytes; it is not a YAML text file");
  }
  return Status::Ok();
}

// Notes whether a document has any content; the parser's events are otherwise ignored.
class DocumentContent : public YAML::EventHandler {
 public:
  bool seen = false;
  void OnDocumentStart(const YAML::Mark&) override { seen = false; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { seen = true; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    seen = true;
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    seen = true;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    seen = true;
  }
  void OnMapEnd() override {}
};

// The first document of `text` (a Null node for an empty file). Refuses several documents.
// Counts documents with a bounded loop of its own: yaml-cpp 0.7's LoadAll never returns on
// some inputs, e.g. "," (found by fuzz/override_editor.cc).
Result<YAML::Node> ParseYaml(std::string_view text) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentContent doc;
    int docs = 0;
    while (docs < 2 && parser.HandleNextDocument(doc) && doc.seen) ++docs;
    if (docs > 1) {
      return InvalidArgument("the override file holds several YAML documents; compose reads one");
    }
    if (docs == 0) return YAML::Node();
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return InvalidArgument(fmt::format("not valid YAML: {}", e.msg));
    return InvalidArgument(fmt::format("not valid YAML: line {}, column {}: {}", e.mark.line + 1,
                                       e.mark.column + 1, e.msg));
  }
}

// Where the top level and its `services` mapping are in the text.
struct Layout {
  bool has_services = false;
  size_t services_line = 0;  // line of the `services:` key
  size_t top_indent = 0;     // indentation of top-level keys
  size_t child_indent = 0;   // indentation of service keys
  size_t step = 2;           // one level of indentation
  std::set<std::string> top_keys;
  std::set<std::string> service_names;
};

Result<Layout> Inspect(const YAML::Node& root, const TextLines& lines) {
  Layout out;
  if (root.IsNull()) return out;
  if (!root.IsMap()) {
    return InvalidArgument("the top level of the override file must be a mapping (services: ...)");
  }
  if (root.Style() == YAML::EmitterStyle::Flow) {
    return InvalidArgument(
        "the override file is one flow-style mapping ({...}); zdap needs block "
        "style: rewrite it with one key per line");
  }
  bool first = true;
  YAML::Node services;
  YAML::Node services_key;
  bool step_found = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    std::string name = key.IsScalar() ? key.Scalar() : std::string();
    if (first) {
      out.top_indent = key.Mark().column;
      first = false;
    }
    if (!out.top_keys.insert(name).second && name == "services") {
      return InvalidArgument("the override file has the key 'services' twice; merge them into one");
    }
    if (name == "services") {
      services = value;
      services_key = key;
      out.has_services = true;
    }
    if (!step_found && value.IsMap() && value.Style() != YAML::EmitterStyle::Flow &&
        value.size() > 0) {
      int col = value.begin()->first.Mark().column;
      if (col > key.Mark().column) {
        out.step = static_cast<size_t>(col - key.Mark().column);
        step_found = true;
      }
    }
  }
  if (!out.has_services) return out;

  YAML::Mark m = services_key.Mark();
  if (m.line < 0 || static_cast<size_t>(m.line) >= lines.size() ||
      lines.Indent(m.line) != static_cast<size_t>(m.column) ||
      !(lines.Trimmed(m.line).starts_with("services") ||
        lines.Trimmed(m.line).starts_with("\"services\"") ||
        lines.Trimmed(m.line).starts_with("'services'"))) {
    return InvalidArgument(
        "cannot find the 'services:' key on a line of its own; write it as "
        "'services:' at the start of a line");
  }
  out.services_line = static_cast<size_t>(m.line);
  if (services.IsNull()) {
    out.child_indent = out.top_indent + out.step;
    return out;
  }
  if (!services.IsMap()) {
    return InvalidArgument("'services' in the override file must be a mapping of services");
  }
  if (services.Style() == YAML::EmitterStyle::Flow) {
    return InvalidArgument(
        "'services' in the override file is in flow style ({...}); rewrite it "
        "in block style (one service per line) so zdap can add its own");
  }
  if (services.size() == 0) {
    out.child_indent = out.top_indent + out.step;
    return out;
  }
  YAML::Mark c = services.begin()->first.Mark();
  if (c.line <= m.line || static_cast<size_t>(c.column) <= out.top_indent) {
    return InvalidArgument(
        "the services in the override file are not laid out one per line "
        "under 'services:'; zdap cannot place its service");
  }
  out.child_indent = static_cast<size_t>(c.column);
  for (auto it = services.begin(); it != services.end(); ++it) {
    out.service_names.insert(it->first.IsScalar() ? it->first.Scalar() : std::string());
  }
  return out;
}

std::vector<std::string> ServiceBlock(const ProxyService& service, size_t indent, size_t step,
                                      const std::string& eol) {
  std::string pad(indent, ' ');
  std::string note = service.note;
  std::replace_if(
      note.begin(), note.end(), [](char ch) { return ch == '\n' || ch == '\r'; }, ' ');
  std::vector<std::string> out;
  out.push_back(pad + OpenMarker(ServiceWhat(service.name)) + eol);
  out.push_back(fmt::format("{}# managed by zdap{}{}; `zdap detach {}` removes this block{}", pad,
                            note.empty() ? "" : ": ", note, service.name, eol));
  for (auto& l : RenderProxyService(service, indent, step, eol)) out.push_back(std::move(l));
  out.push_back(pad + CloseMarker(ServiceWhat(service.name)) + eol);
  return out;
}

// Removes the scaffolding region `what` when it holds nothing but zdap's own lines.
bool RemoveEmptyScaffold(TextLines& lines, std::string_view what) {
  size_t open, close;
  if (!FindRegion(lines, what, &open, &close)) return false;
  for (size_t i = open + 1; i < close; ++i) {
    std::string_view t = lines.Trimmed(i);
    bool own = t.empty() || t == "services:" || (what == "file" && t.starts_with("version:"));
    if (!own) return false;
  }
  lines.Remove(open, close);
  return true;
}

Result<DetachedText> DetachUnchecked(std::string_view text, std::string_view name) {
  TextLines lines(text);
  size_t open, close;
  if (!FindRegion(lines, ServiceWhat(name), &open, &close)) {
    return NotFound(fmt::format("the override file has no zdap service '{}'", name));
  }
  lines.Remove(open, close);
  RemoveEmptyScaffold(lines, "services");
  DetachedText out;
  if (RemoveEmptyScaffold(lines, "file")) out.delete_file = lines.size() == 0;
  out.text = lines.Join();
  return out;
}

}  // namespace

std::vector<std::string> ZdapServices(std::string_view text) {
  std::vector<std::string> out;
  TextLines lines(text);
  std::string prefix = OpenMarker("service ");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = lines.Trimmed(i);
    if (t.starts_with(prefix)) out.emplace_back(t.substr(prefix.size()));
  }
  return out;
}

Result<std::string> AttachService(std::string_view text, bool exists, const ProxyService& service,
                                  const std::string& version) {
  ZDAP_RETURN_IF_ERROR(ValidateServiceName(service.name));
  ZDAP_RETURN_IF_ERROR(CheckSize(text));
  if (service.listen_port == 0 || service.targets.empty() || service.image.empty()) {
    return InvalidArgument("a proxy service needs an image, a listen port and a target");
  }
  auto existing = ZdapServices(text);
  if (std::find(existing.begin(), existing.end(), service.name) != existing.end()) {
    return Conflict(
        fmt::format("service '{}' is already attached by zdap; run `zdap detach {}` "
                    "first",
                    service.name, service.name));
  }
  ZDAP_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text));
  TextLines lines(text);
  ZDAP_ASSIGN_OR_RETURN(Layout layout, Inspect(root, lines));
  if (layout.service_names.count(service.name)) {
    return Conflict(
        fmt::format("the override file already defines service '{}' itself; remove "
                    "it there or attach under another name with --service",
                    service.name));
  }
  const std::string& eol = lines.eol();
  if (layout.has_services) {
    lines.Insert(layout.services_line + 1,
                 ServiceBlock(service, layout.child_indent, layout.step, eol));
  } else {
    std::string pad(layout.top_indent, ' ');
    std::string kind = exists ? "services" : "file";
    std::vector<std::string> block;
    block.push_back(pad + OpenMarker(kind) + eol);
    if (!exists && !version.empty()) block.push_back("version: " + YamlQuote(version) + eol);
    block.push_back(pad + "services:" + eol);
    for (auto& l : ServiceBlock(service, layout.top_indent + layout.step, layout.step, eol)) {
      block.push_back(std::move(l));
    }
    block.push_back(pad + CloseMarker(kind) + eol);
    lines.Insert(lines.size(), block);
  }
  std::string result = lines.Join();

  // Check the edit: it parses, adds exactly one service with our image, and undoes exactly.
  auto fail = [&](std::string_view why) {
    return Unprocessable(
        fmt::format("zdap could not add service '{}' safely ({}); the file was "
                    "left as it was",
                    service.name, why));
  };
  auto parsed = ParseYaml(result);
  if (!parsed.ok()) return fail(parsed.status().message());
  auto after = Inspect(*parsed, TextLines(result));
  if (!after.ok()) return fail(after.status().message());
  std::set<std::string> want_top = layout.top_keys, want_services = layout.service_names;
  want_top.insert("services");
  if (!exists && !version.empty()) want_top.insert("version");
  want_services.insert(service.name);
  if (after->top_keys != want_top || after->service_names != want_services) {
    return fail("the result has other keys than expected");
  }
  try {
    YAML::Node image = (*parsed)["services"][service.name]["image"];
    if (!image.IsScalar() || image.Scalar() != service.image)
      return fail("image not where expected");
  } catch (const YAML::Exception& e) {
    return fail(e.msg);
  }
  auto undone = DetachUnchecked(result, service.name);
  if (!undone.ok() || undone->text != text || undone->delete_file == exists) {
    return fail("removing it again would not give back the original");
  }
  return result;
}

Result<DetachedText> DetachService(std::string_view text, std::string_view name) {
  ZDAP_RETURN_IF_ERROR(CheckSize(text));
  ZDAP_ASSIGN_OR_RETURN(DetachedText out, DetachUnchecked(text, name));
  if (out.delete_file) return out;
  auto before = ParseYaml(text);
  if (!before.ok()) return before.status();
  auto parsed = ParseYaml(out.text);
  bool still_there = true;
  if (parsed.ok()) {
    auto after = Inspect(*parsed, TextLines(out.text));
    still_there = !after.ok() || after->service_names.count(std::string(name)) > 0;
  }
  if (still_there) {
    return Unprocessable(
        fmt::format("zdap could not remove service '{}' safely (the markers "
                    "'# >>> zdap service {}' / '# <<< zdap service {}' were "
                    "edited?); fix the file by hand",
                    name, name, name));
  }
  return out;
}

}  // namespace zdap::compose
