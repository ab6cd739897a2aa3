#include "compose/proxy_service.h"

#include <fmt/format.h>

#include <cctype>

namespace zdap::compose {

Status ValidateServiceName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    return InvalidArgument(fmt::format(
        "'{}' is not a usable service name: use letters, digits, '.', '_' and '-' (max 63)", name));
  }
  return Status::Ok();
}

std::string YamlQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

namespace {

std::string FlowList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += YamlQuote(items[i]);
  }
  return out + "]";
}

// {"K": "", ...}: every key of the base blanked.
std::string BlankMap(const std::vector<std::string>& keys) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out += ", ";
    out += YamlQuote(keys[i]) + ": \"\"";
  }
  return out + "}";
}

}  // namespace

std::vector<std::string> RenderProxyService(const ProxyService& s, size_t indent, size_t step,
                                            const std::string& eol) {
  std::string i0(indent, ' '), i1(indent + step, ' '), i2(indent + 2 * step, ' ');
  std::vector<std::string> command = {"--listen", fmt::format(":{}", s.listen_port)};
  for (const auto& t : s.targets) {
    command.push_back("--target");
    command.push_back(t);
  }
  if (!s.balance.empty()) {
    command.push_back("--balance");
    command.push_back(s.balance);
  }
  std::vector<std::string> out;
  out.push_back(i0 + s.name + ":");
  out.push_back(i1 + "image: " + YamlQuote(s.image));
  if (!s.build_context.empty()) {
    out.push_back(i1 + "build:");
    out.push_back(i2 + "context: " + YamlQuote(s.build_context));
    out.push_back(i2 + "dockerfile: \"Dockerfile\"");
  }
  out.push_back(i1 + "entrypoint: " + FlowList({kProxyBinary}));
  out.push_back(i1 + "command: " + FlowList(command));
  out.push_back(i1 + "user: " + YamlQuote(kProxyUser));
  out.push_back(i1 + "working_dir: \"/\"");
  if (!s.ports.empty()) {
    std::string ports = "ports: [";
    for (size_t i = 0; i < s.ports.size(); ++i) ports += (i ? ", " : "") + s.ports[i];
    out.push_back(i1 + ports + "]");
  }
  if (!s.blank_environment.empty()) {
    out.push_back(i1 + "environment: " + BlankMap(s.blank_environment));
  }
  if (!s.blank_labels.empty()) out.push_back(i1 + "labels: " + BlankMap(s.blank_labels));
  if (!s.tmpfs_targets.empty()) {
    out.push_back(i1 + "volumes:");
    for (const auto& t : s.tmpfs_targets) {
      out.push_back(i2 + "- {type: \"tmpfs\", target: " + YamlQuote(t) + "}");
    }
  }
  out.push_back(i1 + "healthcheck:");
  out.push_back(i2 + "test: " +
                FlowList({"CMD", kProxyBinary, "healthcheck", "--listen",
                          fmt::format(":{}", s.listen_port)}));
  out.push_back(i2 + "interval: \"5s\"");
  out.push_back(i2 + "timeout: \"3s\"");
  out.push_back(i2 + "retries: 3");
  for (auto& l : out) l += eol;
  return out;
}

std::string ProxyDockerfile(const ProxyService& s) {
  return fmt::format(
      "# Written by zdap: building this service gives the zdap proxy image.\n"
      "FROM {} AS {}\n",
      s.image, s.build_target.empty() ? "zdap" : s.build_target);
}

}  // namespace zdap::compose
