#include "zdap/project_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_util.h"

namespace zdap::cli {
namespace {

std::string Join(const std::string& dir, const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  return dir + "/" + p;
}

}  // namespace

std::string Project::ComposePath() const {
  return Join(dir, compose);
}
std::string Project::OverridePath() const {
  return Join(dir, override_file);
}

const AttachedService* Project::Find(const std::string& service) const {
  for (const auto& s : services) {
    if (s.service == service) return &s;
  }
  return nullptr;
}

void Project::Remove(const std::string& service) {
  std::erase_if(services, [&](const AttachedService& s) { return s.service == service; });
}

Result<Project> LoadProject(const std::string& dir) {
  std::string path = dir + "/" + kProjectFileName;
  auto text = ReadFile(path, 1u << 20);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) {
      return NotFound(
          fmt::format("no {} in {}; run `zdap init` in the directory of your compose "
                      "file (or pass --project-dir)",
                      kProjectFileName, dir));
    }
    return text.status();
  }
  Project out;
  out.dir = dir;
  try {
    YAML::Node root = YAML::Load(*text);
    if (!root.IsMap()) return InvalidArgument(fmt::format("{}: not a zdap project file", path));
    auto str = [&](const YAML::Node& n, const char* key) -> std::string {
      return n[key] && n[key].IsScalar() ? n[key].Scalar() : std::string();
    };
    out.compose = str(root, "compose");
    out.override_file = str(root, "override");
    if (out.compose.empty() || out.override_file.empty()) {
      return InvalidArgument(
          fmt::format("{}: 'compose' and 'override' must be set; run `zdap init` again", path));
    }
    if (YAML::Node services = root["services"]; services && services.IsMap()) {
      for (auto it = services.begin(); it != services.end(); ++it) {
        AttachedService s;
        s.service = it->first.Scalar();
        YAML::Node v = it->second;
        s.resource = str(v, "resource");
        s.clone = str(v, "clone");
        s.origin = str(v, "origin");
        s.snapshot = str(v, "snapshot");
        s.target = str(v, "target");
        if (v["listen"]) s.listen = v["listen"].as<uint16_t>(0);
        if (YAML::Node rs = v["replicas"]; rs && rs.IsSequence()) {
          for (const YAML::Node& r : rs) {
            Replica replica{str(r, "clone"), str(r, "origin"), str(r, "target")};
            if (replica.clone.empty() || replica.origin.empty()) {
              return InvalidArgument(fmt::format(
                  "{}: service '{}' has a replica without clone or origin", path, s.service));
            }
            s.replicas.push_back(std::move(replica));
          }
        }
        out.services.push_back(std::move(s));
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("{}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  return out;
}

Status SaveProject(const Project& project) {
  YAML::Emitter em;
  em << YAML::BeginMap;
  em << YAML::Key << "compose" << YAML::Value << project.compose;
  em << YAML::Key << "override" << YAML::Value << project.override_file;
  if (!project.services.empty()) {
    em << YAML::Key << "services" << YAML::Value << YAML::BeginMap;
    for (const auto& s : project.services) {
      em << YAML::Key << s.service << YAML::Value << YAML::BeginMap;
      em << YAML::Key << "resource" << YAML::Value << s.resource;
      em << YAML::Key << "clone" << YAML::Value << s.clone;
      em << YAML::Key << "origin" << YAML::Value << s.origin;
      em << YAML::Key << "snapshot" << YAML::Value << s.snapshot;
      em << YAML::Key << "target" << YAML::Value << s.target;
      em << YAML::Key << "listen" << YAML::Value << s.listen;
      if (!s.replicas.empty()) {
        em << YAML::Key << "replicas" << YAML::Value << YAML::BeginSeq;
        for (const Replica& r : s.replicas) {
          em << YAML::Flow << YAML::BeginMap;
          em << YAML::Key << "clone" << YAML::Value << r.clone;
          em << YAML::Key << "origin" << YAML::Value << r.origin;
          em << YAML::Key << "target" << YAML::Value << r.target;
          em << YAML::EndMap;
        }
        em << YAML::EndSeq;
      }
      em << YAML::EndMap;
    }
    em << YAML::EndMap;
  }
  em << YAML::EndMap;
  return WriteFileAtomic(
      project.FilePath(),
      std::string("# zdap project file: written by zdap init/attach/detach\n") + em.c_str() + "\n",
      0644);
}

}  // namespace zdap::cli
