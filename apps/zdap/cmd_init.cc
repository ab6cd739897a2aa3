// zdap init: writes .zdap.yaml beside the compose file.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "compose/compose_file.h"
#include "core/file_lock.h"
#include "core/file_util.h"
#include "zdap/args.h"
#include "zdap/commands.h"
#include "zdap/project_file.h"

namespace zdap::cli {
namespace fs = std::filesystem;

namespace {

constexpr const char* kComposeNames[] = {"docker-compose.yml", "docker-compose.yaml",
                                         "compose.yaml", "compose.yml"};
constexpr const char* kOverrideNames[] = {"docker-compose.override.yml",
                                          "docker-compose.override.yaml", "compose.override.yaml",
                                          "compose.override.yml"};

std::string RelativeTo(const fs::path& dir, const std::string& file) {
  fs::path abs = fs::absolute(file).lexically_normal();
  fs::path rel = abs.lexically_relative(dir);
  return rel.empty() ? abs.string() : rel.string();
}

}  // namespace

Status CmdInit(const VerbArgs& a) {
  fs::path dir = fs::absolute(a.Has("project-dir") ? a.Get("project-dir") : ".").lexically_normal();
  std::string compose_path;
  if (a.Has("compose")) {
    compose_path = fs::absolute(a.Get("compose")).lexically_normal().string();
    if (!a.Has("project-dir")) dir = fs::path(compose_path).parent_path();
  } else {
    for (const char* name : kComposeNames) {
      if (PathExists((dir / name).string())) {
        compose_path = (dir / name).string();
        break;
      }
    }
    if (compose_path.empty()) {
      return NotFound(fmt::format(
          "no docker-compose.yml or compose.yaml in {}; pass --compose FILE", dir.string()));
    }
  }
  if (dir.filename().empty() && dir.has_parent_path()) dir = dir.parent_path();  // "x/" -> "x"
  auto compose = compose::ReadComposeFile(compose_path);
  if (!compose.ok()) {
    if (compose.status().code() == Code::kNotFound) {
      return NotFound(
          fmt::format("compose file {} does not exist; pass --compose FILE", compose_path));
    }
    return compose.status();
  }
  std::string override_rel;
  if (a.Has("override")) {
    override_rel = RelativeTo(dir, a.Get("override"));
  } else {
    override_rel = kOverrideNames[0];
    for (const char* name : kOverrideNames) {
      if (PathExists((dir / name).string())) {
        override_rel = name;
        break;
      }
    }
  }

  ZDAP_ASSIGN_OR_RETURN(FileLock lock, FileLock::AcquireDir(dir.string()));
  Project project;
  auto existing = LoadProject(dir.string());
  if (existing.ok()) {
    project = std::move(*existing);
    if (!project.services.empty() && project.override_file != override_rel) {
      return Conflict(
          fmt::format("services are attached in {}; detach them before changing the "
                      "override file",
                      project.override_file));
    }
  } else if (existing.status().code() != Code::kNotFound) {
    return existing.status();
  }
  project.dir = dir.string();
  project.compose = RelativeTo(dir, compose_path);
  project.override_file = override_rel;
  ZDAP_RETURN_IF_ERROR(SaveProject(project));
  std::cout << fmt::format("{} {}: compose file {}, override file {}\n",
                           existing.ok() ? "updated" : "wrote", project.FilePath(), project.compose,
                           project.override_file);
  return Status::Ok();
}

}  // namespace zdap::cli
