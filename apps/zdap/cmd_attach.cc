// zdap attach / zdap detach: a clone as a compose service, through zdap-proxyd.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "compose/compose_file.h"
#include "compose/dir_lock.h"
#include "compose/host_address.h"
#include "compose/override_editor.h"
#include "core/file_util.h"
#include "core/names.h"
#include "core/time.h"
#include "core/version.h"
#include "zdap/args.h"
#include "zdap/commands.h"
#include "zdap/compose_services.h"
#include "zdap/placement.h"
#include "zdap/project_file.h"
#include "zdap/suggest.h"
#include "zdap/user_config.h"

namespace zdap::cli {
namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char kProxyImage[] = "zdap/proxyd:" ZDAP_VERSION;

uint16_t DefaultPort(const std::string& engine) {
  if (engine == "mariadb" || engine == "mysql") return 3306;
  return 5432;
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string HostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string ProjectDir(const VerbArgs& a) {
  fs::path dir = fs::absolute(a.Has("project-dir") ? a.Get("project-dir") : ".").lexically_normal();
  if (dir.filename().empty() && dir.has_parent_path()) dir = dir.parent_path();  // "x/" -> "x"
  return dir.string();
}

// The override file's current text and mode; "" and 0644 when it does not exist.
struct OverrideFile {
  bool exists = false;
  std::string text;
  mode_t mode = 0644;
};

Result<OverrideFile> ReadOverride(const std::string& path) {
  OverrideFile out;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return out;
    return ErrnoError(fmt::format("stat {}", path), errno);
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgument(fmt::format("{} is not a regular file", path));
  auto text = ReadFile(path, compose::kMaxOverrideBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kTooLarge) {
      return Status(Code::kTooLarge, fmt::format("{} is larger than {} bytes; zdap does not edit "
                                                 "it",
                                                 path, compose::kMaxOverrideBytes));
    }
    return text.status();
  }
  out.exists = true;
  out.text = std::move(*text);
  out.mode = st.st_mode & 07777;
  return out;
}

std::string BuildDir(const Project& project, const std::string& service) {
  return project.dir + "/.zdap/build/" + service;
}

void RemoveBuildDir(const Project& project, const std::string& service) {
  std::error_code ec;
  fs::remove_all(BuildDir(project, service), ec);
  fs::remove(project.dir + "/.zdap/build", ec);  // only when empty
  fs::remove(project.dir + "/.zdap", ec);
}

// Writes the service into the override file (and the build context it may need), under the
// project lock. Nothing is changed when it fails.
Status WriteAttachment(Project& project, const compose::ProxyService& service,
                       const std::string& version) {
  std::string path = project.OverridePath();
  ZDAP_ASSIGN_OR_RETURN(OverrideFile file, ReadOverride(path));
  auto text = compose::AttachService(file.text, file.exists, service, version);
  if (!text.ok()) return text.status().Wrap(project.override_file);
  if (!service.build_context.empty()) {
    std::string dir = BuildDir(project, service.name);
    ZDAP_RETURN_IF_ERROR(MakeDirs(dir));
    ZDAP_RETURN_IF_ERROR(WriteFileAtomic(dir + "/Dockerfile", compose::ProxyDockerfile(service)));
  }
  Status s = WriteFileAtomic(path, *text, file.mode);
  if (!s.ok()) {
    RemoveBuildDir(project, service.name);
    return s;
  }
  return Status::Ok();
}

}  // namespace

Status CmdAttach(const Args& args) {
  po::options_description opts;
  opts.add_options()("service", po::value<std::string>(),
                     "compose service to stand in for (default: the resource name)")(
      "snapshot", po::value<std::string>(), "snapshot id (default: the newest)")(
      "origin", po::value<std::string>(),
      "origin URL (default: the first configured that answers)")(
      "ttl", po::value<std::string>(), "lifetime of the clone, e.g. 8h (default: the resource's)")(
      "project-dir,C", po::value<std::string>(), "directory with .zdap.yaml (default: current)");
  VerbArgs a = ParseVerbArgs(
      args, "attach", "zdap attach RESOURCE [--service S] [--snapshot ID] [--origin URL] [--ttl D]",
      "Creates a clone of RESOURCE and plugs it into the compose project: service S in the "
      "override file becomes zdap-proxyd, listening on the service's usual port and forwarding "
      "to the clone.",
      opts, 1, 1);
  if (a.help) return Status::Ok();

  const std::string resource = a.positional[0];
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  const std::string service_name = a.Has("service") ? a.Get("service") : resource;
  ZDAP_RETURN_IF_ERROR(compose::ValidateServiceName(service_name));
  if (a.Has("ttl")) {
    auto ttl = ParseDuration(a.Get("ttl"));
    if (!ttl.ok()) return ttl.status();
  }
  if (a.Has("snapshot")) {
    SnapshotId id;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(a.Get("snapshot"), &id));
  }

  ZDAP_ASSIGN_OR_RETURN(Project project, LoadProject(ProjectDir(a)));
  if (const AttachedService* s = project.Find(service_name)) {
    return Conflict(
        fmt::format("service '{}' is attached already (clone {}); run `zdap detach {}` "
                    "first",
                    service_name, s->clone, service_name));
  }
  ZDAP_ASSIGN_OR_RETURN(std::string config_path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(config_path));
  if (config.user.empty()) {
    return InvalidArgument(
        "no user name (your login name is not a valid zdap name); run `zdap user set NAME`");
  }
  ZDAP_ASSIGN_OR_RETURN(compose::ComposeFile base_file,
                        compose::ReadComposeFile(project.ComposePath()));
  ZDAP_ASSIGN_OR_RETURN(compose::BaseService base,
                        compose::ReadBaseService(project.ComposePath(), service_name));
  // A service the compose file lacks is added; but one a letter or two off is a typo.
  if (auto names = ComposeServiceNames(project.ComposePath()); names.ok()) {
    bool known = std::find(names->begin(), names->end(), service_name) != names->end();
    if (std::string hint = DidYouMean(service_name, *names); !known && !hint.empty()) {
      return NotFound(
          fmt::format("service '{}' is not in {}{}", service_name, project.compose, hint));
    }
  }

  compose::ProxyService service;
  service.name = service_name;
  service.image = kProxyImage;
  if (base.has_build) {
    fs::path override_dir = fs::path(project.OverridePath()).parent_path();
    service.build_context =
        fs::path(BuildDir(project, service_name)).lexically_relative(override_dir).string();
    service.build_target = base.build_target;
  }
  compose::NeutraliseBaseKeys(base, &service);
  // Fail fast, before a clone exists, when the override file cannot take the service.
  {
    compose::ProxyService probe = service;
    probe.listen_port = 1;
    probe.targets = {"zdap-check:1"};
    ZDAP_ASSIGN_OR_RETURN(OverrideFile file, ReadOverride(project.OverridePath()));
    auto check = compose::AttachService(file.text, file.exists, probe, base_file.version);
    if (!check.ok()) return check.status().Wrap(project.override_file);
  }

  ZDAP_ASSIGN_OR_RETURN(OriginApi api, ChooseOrigin(config, a.Get("origin")));
  CreateCloneRequest request;
  request.resource = resource;
  request.snapshot = a.Get("snapshot");
  request.ttl = a.Get("ttl");
  ZDAP_ASSIGN_OR_RETURN(CloneInfo clone, api.CreateClone(request));

  std::string host = clone.host;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = api.url().host;
  auto undo_clone = [&](Status s) {
    Status d = api.DeleteClone(clone.id);
    return Status(
        s.code(),
        s.message() + (d.ok() ? fmt::format(" (clone {} destroyed again)", clone.id)
                              : fmt::format(" (clone {} is left: {})", clone.id, d.message())));
  };
  std::string proxy_host = host;
  if (IsLoopback(host)) {
    // The proxy runs in a container, where 127.0.0.1 is the container itself; see
    // compose/host_address.h for how it reaches this machine instead.
    auto reachable = compose::HostAddressServing(clone.port);
    if (!reachable.ok()) {
      return undo_clone(Unprocessable(fmt::format(
          "clone {} listens on {} only, which the proxy container cannot reach: set "
          "`clone_bind: 0.0.0.0` in zdapd's config (the clone ports then answer on this "
          "machine's addresses; keep them firewalled from other hosts), restart zdapd and "
          "attach again",
          clone.id, HostPort(host, clone.port))));
    }
    proxy_host = *reachable;
  }
  service.listen_port = base.port ? *base.port : DefaultPort(clone.engine);
  service.targets = {HostPort(proxy_host, clone.port)};
  service.note =
      fmt::format("clone {} of {} on {}", clone.id,
                  clone.snapshot.empty() ? resource : clone.snapshot, api.url().ToString());
  auto lock = compose::DirLock::Acquire(project.dir);
  if (!lock.ok()) return undo_clone(lock.status());
  auto fresh = LoadProject(project.dir);
  if (!fresh.ok()) return undo_clone(fresh.status());
  project = std::move(*fresh);
  if (project.Find(service_name)) {
    return undo_clone(Conflict(fmt::format("service '{}' was attached meanwhile", service_name)));
  }
  Status written = WriteAttachment(project, service, base_file.version);
  if (!written.ok()) return undo_clone(written);
  AttachedService entry{service_name,         resource,       clone.id,
                        api.url().ToString(), clone.snapshot, HostPort(host, clone.port),
                        service.listen_port};
  project.services.push_back(entry);
  Status saved = SaveProject(project);
  if (!saved.ok()) {
    // Put the override back as it was, then drop the clone.
    auto file = ReadOverride(project.OverridePath());
    if (file.ok()) {
      auto back = compose::DetachService(file->text, service_name);
      if (back.ok()) {
        if (back->delete_file) {
          ::unlink(project.OverridePath().c_str());
        } else {
          (void)WriteFileAtomic(project.OverridePath(), back->text, file->mode);
        }
      }
    }
    RemoveBuildDir(project, service_name);
    return undo_clone(saved);
  }
  std::cout << fmt::format("attached {} (clone {}, {}) as service '{}' in {}: proxy :{} -> {}\n",
                           resource, clone.id, clone.snapshot, service_name, project.override_file,
                           service.listen_port, service.targets[0]);
  return Status::Ok();
}

Status CmdDetach(const Args& args) {
  po::options_description opts;
  opts.add_options()("keep", "keep the clone (only remove the service from the override file)")(
      "project-dir,C", po::value<std::string>(), "directory with .zdap.yaml (default: current)");
  VerbArgs a = ParseVerbArgs(args, "detach", "zdap detach SERVICE... [--keep]",
                             "Removes zdap's service from the override file, exactly as it was "
                             "added, and destroys its clone unless --keep.",
                             opts, 1, -1);
  if (a.help) return Status::Ok();
  ZDAP_ASSIGN_OR_RETURN(std::string config_path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(config_path));
  std::string dir = ProjectDir(a);
  ZDAP_ASSIGN_OR_RETURN(Project probe, LoadProject(dir));
  (void)probe;

  Status result;
  for (const std::string& name : a.positional) {
    std::optional<AttachedService> entry;
    Status s = [&]() -> Status {
      ZDAP_ASSIGN_OR_RETURN(compose::DirLock lock, compose::DirLock::Acquire(dir));
      ZDAP_ASSIGN_OR_RETURN(Project project, LoadProject(dir));
      if (const AttachedService* e = project.Find(name)) entry = *e;
      ZDAP_ASSIGN_OR_RETURN(OverrideFile file, ReadOverride(project.OverridePath()));
      auto detached = compose::DetachService(file.text, name);
      if (!detached.ok()) {
        if (detached.status().code() != Code::kNotFound) {
          return detached.status().Wrap(project.override_file);
        }
        if (!entry) {
          std::vector<std::string> attached;
          for (const auto& a : project.services) attached.push_back(a.service);
          return NotFound(fmt::format("service '{}' is not attached by zdap in {}{}", name,
                                      project.override_file, DidYouMean(name, attached)));
        }
        std::cerr << fmt::format("zdap: warning: {} had no zdap block for '{}' any more\n",
                                 project.override_file, name);
      } else if (detached->delete_file) {
        if (::unlink(project.OverridePath().c_str()) != 0) {
          return ErrnoError(fmt::format("remove {}", project.OverridePath()), errno);
        }
      } else {
        ZDAP_RETURN_IF_ERROR(WriteFileAtomic(project.OverridePath(), detached->text, file.mode));
      }
      RemoveBuildDir(project, name);
      project.Remove(name);
      return SaveProject(project);
    }();
    if (!s.ok()) {
      std::cerr << "zdap: error: " << s.message() << "\n";
      result = s;
      continue;
    }
    std::string what = fmt::format("detached service '{}'", name);
    if (entry && !a.Has("keep")) {
      auto api = OriginFor(config, entry->origin);
      Status d = api.ok() ? api->DeleteClone(entry->clone) : api.status();
      if (d.ok()) {
        what += fmt::format("; destroyed clone {} on {}", entry->clone, entry->origin);
      } else if (d.code() == Code::kNotFound) {
        what += fmt::format("; clone {} was gone already", entry->clone);
      } else {
        std::cerr << fmt::format("zdap: error: {}; destroy it later with `zdap destroy {}`\n",
                                 d.message(), entry->clone);
        result = d;
      }
    } else if (entry) {
      what += fmt::format("; kept clone {} on {} ({})", entry->clone, entry->origin, entry->target);
    }
    std::cout << what << "\n";
  }
  if (!result.ok()) return Status(result.code(), "");  // already reported
  return Status::Ok();
}

}  // namespace zdap::cli
