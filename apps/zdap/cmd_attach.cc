// zdap attach / zdap detach: a clone as a compose service, through zdap-proxyd.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <set>

#include "compose/compose_file.h"
#include "compose/host_address.h"
#include "compose/override_editor.h"
#include "core/file_lock.h"
#include "core/file_util.h"
#include "core/local_host.h"
#include "core/log.h"
#include "core/names.h"
#include "core/time.h"
#include "core/version.h"
#include "zdap/args.h"
#include "zdap/commands.h"
#include "zdap/compose_services.h"
#include "zdap/placement.h"
#include "zdap/progress.h"
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

constexpr const char kAttachUsage[] =
    "zdap attach RESOURCE [--service S] [--snapshot ID] [--origin URL] [--claim] [--ttl D] "
    "[--replicas N] [--balance first|roundrobin|leastconn] [-q]";

// --replicas: 1 when absent; a usage error unless 1..kMaxReplicas, and with --origin only 1.
int ParseReplicas(const VerbArgs& a) {
  constexpr int kMaxReplicas = 16;
  if (!a.Has("replicas")) return 1;
  const std::string text = a.Get("replicas");
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > kMaxReplicas) {
    throw UsageError(fmt::format("--replicas '{}': give a number from 1 to {}", text, kMaxReplicas),
                     "attach");
  }
  if (n > 1 && a.Has("origin")) {
    throw UsageError(
        "--origin places one clone; leave it out to place --replicas on the "
        "configured origins",
        "attach");
  }
  return n;
}

// A clone made for the proxy, and where the proxy reaches it.
struct PlacedClone {
  OriginApi api;
  CloneInfo clone;
  std::string host;          // as the origin gives it (its own host when it says 0.0.0.0)
  std::string proxy_target;  // host:port the proxy container connects to
};

// A ready pool clone when `claim` and the origin has one, else a new clone.
Result<CloneInfo> NewClone(const OriginApi& api, const CreateCloneRequest& request, bool claim,
                           StatusLine& status) {
  const std::string origin = api.url().ToString();
  if (claim && request.snapshot.empty()) {
    status.Spin(fmt::format("claiming a ready clone of {} on {}", request.resource, origin));
    auto claimed = api.Claim(request.resource, request.ttl, request.password);
    if (claimed.ok() || claimed.status().code() != Code::kNotFound) return claimed;
    log::Debug("{}; creating a clone instead", claimed.status().message());
  }
  // CreateClone returns once the clone is ready: the step's seconds show the wait.
  status.Spin(fmt::format("creating a clone of {} on {}", request.resource, origin));
  return api.CreateClone(request);
}

// Destroys the clones made so far and says so after `s`'s message.
Status UndoClones(const std::vector<PlacedClone>& clones, Status s, StatusLine& status) {
  std::string message = s.message();
  for (const PlacedClone& c : clones) {
    status.Spin(fmt::format("destroying clone {} again", c.clone.id));
    Status d = c.api.DeleteClone(c.clone.id);
    message += d.ok() ? fmt::format(" (clone {} destroyed again)", c.clone.id)
                      : fmt::format(" (clone {} is left: {})", c.clone.id, d.message());
  }
  return Status(s.code(), std::move(message));
}

// Where the proxy container reaches `clone`: a clone on loopback is on this machine, which the
// container reaches at one of its other addresses (compose/host_address.h).
Result<std::string> ProxyTarget(const CloneInfo& clone, const std::string& host,
                                StatusLine& status) {
  if (!IsLoopbackHost(host)) return HostPort(host, clone.port);
  status.Spin(fmt::format("finding where the proxy container reaches port {}", clone.port));
  auto reachable = compose::HostAddressServing(clone.port);
  if (!reachable.ok()) {
    return Unprocessable(fmt::format(
        "clone {} listens on {} only, which the proxy container cannot reach: on the origin "
        "set `clone_bind: 0.0.0.0` (zdapd --clone-bind 0.0.0.0) and, as that needs one, a "
        "tokens_file with a token for you (`zdapd token add $USER`), restart zdapd, run "
        "`zdap origin add URL --token TOKEN` and attach again",
        clone.id, HostPort(host, clone.port)));
  }
  return HostPort(*reachable, clone.port);
}

// `replicas` clones on as many distinct origins, tried in the order given (best first); an
// origin that fails is skipped with a warning. The first clone's password is given to the
// others: the app holds one set of credentials, and after a failover they must open the next
// target too. Fewer than `replicas`: the ones made are destroyed again and the error says what
// each origin answered.
Result<std::vector<PlacedClone>> MakeClones(const std::vector<OriginApi>& candidates,
                                            CreateCloneRequest request, bool claim, int replicas,
                                            StatusLine& status) {
  std::vector<PlacedClone> made;
  std::vector<Status> failed;
  for (const OriginApi& api : candidates) {
    if (made.size() == static_cast<size_t>(replicas)) break;
    auto clone = NewClone(api, request, claim, status);
    if (!clone.ok()) {
      failed.push_back(clone.status());
      continue;
    }
    std::string host = clone->host;
    if (IsWildcardHost(host)) host = api.url().host;
    PlacedClone placed{api, *clone, host, ""};
    auto target = ProxyTarget(*clone, host, status);
    if (!target.ok()) {
      made.push_back(std::move(placed));
      // zdapd's configuration, the same on every origin: no point trying the next.
      return UndoClones(made, target.status(), status);
    }
    placed.proxy_target = std::move(*target);
    made.push_back(std::move(placed));
    if (made.size() == 1 && replicas > 1) {
      if (clone->password.empty()) {
        // An origin that gives no password (one older than per-clone passwords) cannot have
        // its replicas share one.
        return UndoClones(made,
                          Unprocessable(fmt::format("origin {} gave clone {} no password to "
                                                    "share with its replicas; upgrade its zdapd",
                                                    api.url().ToString(), clone->id)),
                          status);
      }
      request.password = clone->password;
    }
  }
  if (made.size() == static_cast<size_t>(replicas)) {
    for (const Status& f : failed) Warn(f.message());
    std::set<std::string> snapshots;
    for (const PlacedClone& c : made) snapshots.insert(c.clone.snapshot);
    if (snapshots.size() > 1) {
      // Each origin imports its own snapshots: their ids (import times) practically never
      // match, so no --snapshot can pin one for all until origins copy snapshots.
      Warn(fmt::format(
          "the replicas are of different snapshots ({}): each origin imports its own, so they "
          "hold the same data only if the origins imported the same dump",
          fmt::join(snapshots, ", ")));
    }
    return made;
  }
  if (replicas == 1 && failed.size() == 1) return failed[0];
  std::string why;
  for (const Status& f : failed) why += (why.empty() ? "" : "; ") + f.message();
  if (candidates.size() < static_cast<size_t>(replicas)) {
    why += fmt::format("{}only {} origin(s) answered with the resource", why.empty() ? "" : "; ",
                       candidates.size());
  }
  return UndoClones(made,
                    Unavailable(fmt::format("only {} of the {} origins needed could take a clone "
                                            "of {}: {}",
                                            made.size(), replicas, request.resource, why)),
                    status);
}

}  // namespace

Status CmdAttach(const Args& args) {
  po::options_description opts;
  opts.add_options()("service", po::value<std::string>(),
                     "compose service to stand in for (default: the resource name)")(
      "snapshot", po::value<std::string>(), "snapshot id (default: the newest)")(
      "origin", po::value<std::string>(),
      "origin URL (default: the one with the most free capacity)")(
      "ttl", po::value<std::string>(), "lifetime of the clone, e.g. 8h (default: the resource's)")(
      "claim", "take a ready pool clone when an origin has one (else a new clone)")(
      "replicas", po::value<std::string>(),
      "N clones on N distinct origins behind the one proxy, all with the first one's password "
      "(default 1)")("balance", po::value<std::string>(),
                     "first (fail over in order, the default), roundrobin or leastconn")(
      "quiet,q", "no spinner; print only the clone id (one a line with --replicas)")(
      "project-dir,C", po::value<std::string>(), "directory with .zdap.yaml (default: current)");
  VerbArgs a = ParseVerbArgs(args, "attach", kAttachUsage,
                             "Creates a clone of RESOURCE and plugs it into the compose project: "
                             "service S in the override file becomes zdap-proxyd, listening on "
                             "the service's usual port and forwarding to the clone. Without "
                             "--origin the origin with the most free capacity is chosen. On a "
                             "terminal a spinner shows the step it is on.",
                             opts, 1, 1);
  if (a.help) return Status::Ok();
  const int replicas = ParseReplicas(a);
  const std::string balance = a.Has("balance") ? a.Get("balance") : "first";
  if (balance != "first" && balance != "roundrobin" && balance != "leastconn") {
    throw UsageError(fmt::format("--balance '{}': use first, roundrobin or leastconn", balance),
                     "attach");
  }

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
  if (replicas > 1 && config.origins.size() < static_cast<size_t>(replicas)) {
    return InvalidArgument(
        fmt::format("--replicas {} needs {} distinct origins, {} configured; add origins with "
                    "`zdap origin add URL`",
                    replicas, replicas, config.origins.size()));
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

  const bool quiet = a.Has("quiet");
  StatusLine status(!quiet);
  if (!a.Has("origin") && config.origins.size() > 1) {
    status.Spin(fmt::format("placing: asking {} origins for room", config.origins.size()));
  }
  ZDAP_ASSIGN_OR_RETURN(std::vector<OriginApi> candidates,
                        PlaceClone(config, a.Get("origin"), resource, a.Has("claim")));
  CreateCloneRequest request;
  request.resource = resource;
  request.snapshot = a.Get("snapshot");
  request.ttl = a.Get("ttl");
  ZDAP_ASSIGN_OR_RETURN(std::vector<PlacedClone> clones,
                        MakeClones(candidates, request, a.Has("claim"), replicas, status));
  const PlacedClone& first = clones.front();
  auto undo_clones = [&](Status s) { return UndoClones(clones, std::move(s), status); };

  service.listen_port = base.port ? *base.port : DefaultPort(first.clone.engine);
  for (const PlacedClone& c : clones) service.targets.push_back(c.proxy_target);
  if (a.Has("balance") || replicas > 1) service.balance = balance;
  std::vector<std::string> notes;
  for (const PlacedClone& c : clones) {
    notes.push_back(fmt::format("clone {} of {} on {}", c.clone.id,
                                c.clone.snapshot.empty() ? resource : c.clone.snapshot,
                                c.api.url().ToString()));
  }
  service.note = fmt::format("{}", fmt::join(notes, "; "));
  status.Spin("waiting for the project lock (another zdap edits this project)");
  auto lock = FileLock::AcquireDir(project.dir);
  if (!lock.ok()) return undo_clones(lock.status());
  auto fresh = LoadProject(project.dir);
  if (!fresh.ok()) return undo_clones(fresh.status());
  project = std::move(*fresh);
  if (project.Find(service_name)) {
    return undo_clones(Conflict(fmt::format("service '{}' was attached meanwhile", service_name)));
  }
  status.Spin(fmt::format("writing {}", project.override_file));
  Status written = WriteAttachment(project, service, base_file.version);
  if (!written.ok()) return undo_clones(written);
  AttachedService entry{service_name,         resource,
                        first.clone.id,       first.api.url().ToString(),
                        first.clone.snapshot, HostPort(first.host, first.clone.port),
                        service.listen_port,  {}};
  for (size_t i = 1; i < clones.size(); ++i) {
    entry.replicas.push_back(Replica{clones[i].clone.id, clones[i].api.url().ToString(),
                                     HostPort(clones[i].host, clones[i].clone.port)});
  }
  project.services.push_back(entry);
  Status saved = SaveProject(project);
  if (!saved.ok()) {
    // Put the override back as it was, then drop the clones.
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
    return undo_clones(saved);
  }
  status.Clear();
  if (quiet) {
    for (const PlacedClone& c : clones) std::cout << c.clone.id << "\n";
  } else if (clones.size() == 1) {
    std::cout << fmt::format("attached {} (clone {}, {}) as service '{}' in {}: proxy :{} -> {}\n",
                             resource, first.clone.id, first.clone.snapshot, service_name,
                             project.override_file, service.listen_port, service.targets[0]);
  } else {
    std::vector<std::string> where;
    for (const PlacedClone& c : clones) {
      where.push_back(fmt::format("{} on {}", c.clone.id, c.api.url().ToString()));
    }
    std::cout << fmt::format(
        "attached {} ({} clones: {}) as service '{}' in {}: proxy :{} -> {} (balance {})\n",
        resource, clones.size(), fmt::join(where, ", "), service_name, project.override_file,
        service.listen_port, fmt::join(service.targets, ", "), balance);
  }
  return Status::Ok();
}

Status CmdDetach(const Args& args) {
  po::options_description opts;
  opts.add_options()("keep", "keep the clone (only remove the service from the override file)")(
      "quiet,q", "no spinner and no result lines; only errors and warnings")(
      "project-dir,C", po::value<std::string>(), "directory with .zdap.yaml (default: current)");
  VerbArgs a = ParseVerbArgs(args, "detach", "zdap detach SERVICE... [--keep] [-q]",
                             "Removes zdap's service from the override file, exactly as it was "
                             "added, and destroys its clone unless --keep. On a terminal a "
                             "spinner shows the step it is on.",
                             opts, 1, -1);
  if (a.help) return Status::Ok();
  ZDAP_ASSIGN_OR_RETURN(std::string config_path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(config_path));
  std::string dir = ProjectDir(a);
  ZDAP_ASSIGN_OR_RETURN(Project probe, LoadProject(dir));
  (void)probe;

  const bool quiet = a.Has("quiet");
  StatusLine status(!quiet);
  // An error line of its own, the spinner erased first.
  auto report_error = [&](const std::string& message) {
    status.Clear();
    std::cerr << "zdap: error: " << message << "\n";
  };
  Status result;
  for (const std::string& name : a.positional) {
    std::optional<AttachedService> entry;
    Status s = [&]() -> Status {
      status.Spin("waiting for the project lock (another zdap edits this project)");
      ZDAP_ASSIGN_OR_RETURN(FileLock lock, FileLock::AcquireDir(dir));
      ZDAP_ASSIGN_OR_RETURN(Project project, LoadProject(dir));
      status.Spin(fmt::format("removing service '{}' from {}", name, project.override_file));
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
        Warn(fmt::format("{} had no zdap block for '{}' any more", project.override_file, name));
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
      report_error(s.message());
      result = s;
      continue;
    }
    std::string what = fmt::format("detached service '{}'", name);
    if (entry) {
      std::vector<Replica> all = {{entry->clone, entry->origin, entry->target}};
      all.insert(all.end(), entry->replicas.begin(), entry->replicas.end());
      for (const Replica& r : all) {
        if (a.Has("keep")) {
          what += fmt::format("; kept clone {} on {} ({})", r.clone, r.origin, r.target);
          continue;
        }
        status.Spin(fmt::format("destroying clone {} on {}", r.clone, r.origin));
        auto api = OriginFor(config, r.origin);
        Status d = api.ok() ? api->DeleteClone(r.clone) : api.status();
        if (d.ok()) {
          what += fmt::format("; destroyed clone {} on {}", r.clone, r.origin);
        } else if (d.code() == Code::kNotFound) {
          what += fmt::format("; clone {} was gone already", r.clone);
        } else {
          report_error(
              fmt::format("{}; destroy it later with `zdap destroy {}`", d.message(), r.clone));
          result = d;
        }
      }
    }
    status.Clear();
    if (!quiet) std::cout << what << "\n";
  }
  if (!result.ok()) return Status(result.code(), "");  // already reported
  return Status::Ok();
}

}  // namespace zdap::cli
