// zdap attach / zdap detach: a clone as a compose service, through zdap-proxyd.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
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
#include "zdap/commands.h"
#include "zdap/compose_services.h"
#include "zdap/placement.h"
#include "zdap/progress.h"
#include "zdap/project_file.h"
#include "zdap/suggest.h"
#include "zdap/user_config.h"

namespace zdap::cli {
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
  fs::path dir = fs::absolute(a.Get("project-dir", ".")).lexically_normal();
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

constexpr int kMaxReplicas = 16;

// --replicas: 1 when absent; nullopt when it is not a number in 1..kMaxReplicas.
std::optional<int> Replicas(const VerbArgs& a) {
  if (!a.Has("replicas")) return 1;
  const std::string text = a.Get("replicas");
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > kMaxReplicas) {
    return std::nullopt;
  }
  return n;
}

// What attach is asked to do, its arguments checked: the values any origin would refuse are
// refused here, before anything is read or made.
struct AttachRequest {
  std::string resource;
  std::string service;            // the compose service (default: the resource)
  api::CreateCloneRequest clone;  // snapshot and ttl
  std::string origin;             // --origin: "" = placement chooses
  bool claim = false;
  int replicas = 1;
  std::string balance;  // "" = not given (first)
  bool quiet = false;
  std::string project_dir;
};

Result<AttachRequest> ReadAttachRequest(const VerbArgs& a) {
  AttachRequest r;
  r.resource = a.positional[0];
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", r.resource));
  r.service = a.Get("service", r.resource);
  ZDAP_RETURN_IF_ERROR(compose::ValidateServiceName(r.service));
  if (a.Has("ttl")) {
    ZDAP_ASSIGN_OR_RETURN(r.clone.ttl, ParseDuration(a.Get("ttl")));
  }
  if (a.Has("snapshot")) {
    SnapshotId id;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(a.Get("snapshot"), &id));
    r.clone.snapshot = a.Get("snapshot");
  }
  r.origin = a.Get("origin");
  r.claim = a.Has("claim");
  r.replicas = Replicas(a).value_or(1);  // CheckAttach refused other values
  r.balance = a.Get("balance");
  r.quiet = a.Has("quiet");
  r.project_dir = ProjectDir(a);
  return r;
}

// The user config, with what attach needs of it: a user name, and origins for the replicas.
Result<UserConfig> LoadAttachConfig(const AttachRequest& r) {
  ZDAP_ASSIGN_OR_RETURN(std::string config_path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(config_path));
  if (config.user.empty()) {
    return InvalidArgument(
        "no user name (your login name is not a valid zdap name); run `zdap user set NAME`");
  }
  if (r.replicas > 1 && config.origins.size() < static_cast<size_t>(r.replicas)) {
    return InvalidArgument(
        fmt::format("--replicas {} needs {} distinct origins, {} configured; add origins with "
                    "`zdap origin add URL`",
                    r.replicas, r.replicas, config.origins.size()));
  }
  return config;
}

// The compose side of an attach: the project, the base service, and the proxy service that
// will stand in for it (its targets come once the clones exist).
struct ComposeSide {
  Project project;
  std::string compose_version;  // of the base file; the override keeps it
  std::optional<uint16_t> base_port;
  compose::ProxyService service;
};

// Reads the project and the base service and shapes the proxy service; fails, before any
// clone exists, when the service is attached already, is a typo, or the override file cannot
// take it.
Result<ComposeSide> PrepareComposeSide(const AttachRequest& r) {
  ComposeSide side;
  ZDAP_ASSIGN_OR_RETURN(side.project, LoadProject(r.project_dir));
  const Project& project = side.project;
  if (const AttachedService* s = project.Find(r.service)) {
    return Conflict(
        fmt::format("service '{}' is attached already (clone {}); run `zdap detach {}` "
                    "first",
                    r.service, s->clone, r.service));
  }
  ZDAP_ASSIGN_OR_RETURN(compose::ComposeFile base_file,
                        compose::ReadComposeFile(project.ComposePath()));
  side.compose_version = base_file.version;
  ZDAP_ASSIGN_OR_RETURN(compose::BaseService base,
                        compose::ReadBaseService(project.ComposePath(), r.service));
  side.base_port = base.port;
  // A service the compose file lacks is added; but one a letter or two off is a typo.
  if (auto names = ComposeServiceNames(project.ComposePath()); names.ok()) {
    bool known = std::find(names->begin(), names->end(), r.service) != names->end();
    if (std::string hint = DidYouMean(r.service, *names); !known && !hint.empty()) {
      return NotFound(fmt::format("service '{}' is not in {}{}", r.service, project.compose, hint));
    }
  }
  compose::ProxyService& service = side.service;
  service.name = r.service;
  service.image = kProxyImage;
  if (base.has_build) {
    fs::path override_dir = fs::path(project.OverridePath()).parent_path();
    service.build_context =
        fs::path(BuildDir(project, r.service)).lexically_relative(override_dir).string();
    service.build_target = base.build_target;
  }
  compose::NeutraliseBaseKeys(base, &service);
  // The override file must take the service before a clone is made for it.
  compose::ProxyService probe = service;
  probe.listen_port = 1;
  probe.targets = {"zdap-check:1"};
  ZDAP_ASSIGN_OR_RETURN(OverrideFile file, ReadOverride(project.OverridePath()));
  auto check = compose::AttachService(file.text, file.exists, probe, side.compose_version);
  if (!check.ok()) return check.status().Wrap(project.override_file);
  return side;
}

// A clone made for the proxy, and where the proxy reaches it.
struct PlacedClone {
  OriginApi api;
  CloneInfo clone;
  std::string host;          // as the origin gives it (its own host when it says 0.0.0.0)
  std::string proxy_target;  // host:port the proxy container connects to
};

// A ready pool clone when `claim` and the origin has one, else a new clone.
Result<CloneInfo> NewClone(const OriginApi& api, const std::string& resource,
                           const api::CreateCloneRequest& request, bool claim, StatusLine& status) {
  const std::string origin = api.url().ToString();
  if (claim && request.snapshot.empty()) {
    status.Spin(fmt::format("claiming a ready clone of {} on {}", resource, origin));
    auto claimed = api.Claim(resource, {request.ttl, request.password});
    if (claimed.ok() || claimed.status().code() != Code::kNotFound) return claimed;
    log::Debug("{}; creating a clone instead", claimed.status().message());
  }
  // CreateClone returns once the clone is ready: the step's seconds show the wait.
  status.Spin(fmt::format("creating a clone of {} on {}", resource, origin));
  return api.CreateClone(resource, request);
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

// A clone on loopback that no container reaches: what to change on its origin, exactly. zdapd
// refuses a non-loopback clone_bind without a tokens file (config ValidateDaemonConfig), so an
// origin the user reaches without a token needs one first, and then the user needs its token.
Status UnreachableClone(const PlacedClone& placed, const std::string& user) {
  const std::string origin = placed.api.url().ToString();
  std::string change = fmt::format(
      "on origin {} set `clone_bind: 0.0.0.0` in zdapd's config (or `zdapd serve --clone-bind "
      "0.0.0.0`; its clone ports then answer on all its addresses, firewall them from hosts that "
      "should not reach them)",
      origin);
  if (placed.api.has_token()) {
    change += ", restart zdapd and attach again";
  } else {
    change += fmt::format(
        ", which zdapd allows only with a tokens file: make one with `zdapd token add {} "
        "--tokens-file FILE`, set `tokens_file: FILE` (or --tokens-file FILE), restart zdapd, "
        "give zdap the token it printed with `zdap origin add {} --token TOKEN` and attach "
        "again",
        user, origin);
  }
  return Unprocessable(
      fmt::format("clone {} listens on {} only, which the proxy container "
                  "cannot reach: {}",
                  placed.clone.id, HostPort(placed.host, placed.clone.port), change));
}

// Where the proxy container reaches `placed`'s clone: a clone on loopback is on this machine,
// which the container reaches at one of its other addresses (compose/host_address.h).
Result<std::string> ProxyTarget(const PlacedClone& placed, const std::string& user,
                                StatusLine& status) {
  const CloneInfo& clone = placed.clone;
  if (!IsLoopbackHost(placed.host)) return HostPort(placed.host, clone.port);
  status.Spin(fmt::format("finding where the proxy container reaches port {}", clone.port));
  auto reachable = compose::HostAddressServing(clone.port);
  if (!reachable.ok()) return UnreachableClone(placed, user);
  return HostPort(*reachable, clone.port);
}

// For --replicas without --snapshot: the newest snapshot of `resource` that at least
// `replicas` of the candidates hold (followers keep their upstream's ids, README "Several
// origins"), and those candidates in their order; none when no snapshot is that common (each
// origin imports its own) or an origin does not answer the question.
std::optional<std::pair<std::string, std::vector<OriginApi>>> CommonSnapshot(
    const std::vector<OriginApi>& candidates, const std::string& resource, int replicas,
    StatusLine& status) {
  std::map<std::string, std::vector<size_t>> holders;  // snapshot id -> candidates holding it
  for (size_t i = 0; i < candidates.size(); ++i) {
    status.Spin(
        fmt::format("listing the snapshots of {} on {}", resource, candidates[i].url().ToString()));
    auto res = candidates[i].GetResource(resource);
    if (!res.ok()) continue;
    for (const auto& s : res->snapshots) holders[s.id].push_back(i);
  }
  for (auto it = holders.rbegin(); it != holders.rend(); ++it) {  // ids sort by age: newest first
    if (it->second.size() < static_cast<size_t>(replicas)) continue;
    std::vector<OriginApi> holding;
    for (size_t i : it->second) holding.push_back(candidates[i]);
    return std::make_pair(it->first, std::move(holding));
  }
  return std::nullopt;
}

// `replicas` clones on as many distinct origins, tried in the order given (best first); an
// origin that fails is skipped with a warning. The first clone's password is given to the
// others: the app holds one set of credentials, and after a failover they must open the next
// target too. Fewer than `replicas`: the ones made are destroyed again and the error says what
// each origin answered.
Result<std::vector<PlacedClone>> MakeClones(const std::vector<OriginApi>& candidates,
                                            const AttachRequest& r, const std::string& user,
                                            StatusLine& status) {
  api::CreateCloneRequest request = r.clone;
  std::vector<OriginApi> order = candidates;
  if (r.replicas > 1 && request.snapshot.empty()) {
    // One snapshot id on every replica when the origins share one: the same data behind each
    // proxy target.
    if (auto common = CommonSnapshot(candidates, r.resource, r.replicas, status)) {
      request.snapshot = common->first;
      order = std::move(common->second);
    }
  }
  std::vector<PlacedClone> made;
  std::vector<Status> failed;
  for (const OriginApi& api : order) {
    if (made.size() == static_cast<size_t>(r.replicas)) break;
    auto clone = NewClone(api, r.resource, request, r.claim, status);
    if (!clone.ok()) {
      failed.push_back(clone.status());
      continue;
    }
    std::string host = clone->host;
    if (IsWildcardHost(host)) host = api.url().host;
    made.push_back(PlacedClone{api, *clone, host, ""});
    auto target = ProxyTarget(made.back(), user, status);
    // zdapd's configuration, the same on every origin: no point trying the next.
    if (!target.ok()) return UndoClones(made, target.status(), status);
    made.back().proxy_target = std::move(*target);
    if (made.size() == 1 && r.replicas > 1) {
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
  if (made.size() == static_cast<size_t>(r.replicas)) {
    for (const Status& f : failed) Warn(f.message());
    std::set<std::string> snapshots;
    for (const PlacedClone& c : made) snapshots.insert(c.clone.snapshot);
    if (snapshots.size() > 1) {
      // No snapshot was common to enough origins: each imported its own.
      Warn(fmt::format(
          "the replicas are of different snapshots ({}): no snapshot is held by {} of the "
          "origins, so they hold the same data only if the origins imported the same dump (an "
          "origin that follows another holds its snapshots: README \"Several origins\")",
          fmt::join(snapshots, ", "), r.replicas));
    }
    return made;
  }
  if (r.replicas == 1 && failed.size() == 1) return failed[0];
  std::string why;
  for (const Status& f : failed) why += (why.empty() ? "" : "; ") + f.message();
  if (candidates.size() < static_cast<size_t>(r.replicas)) {
    why += fmt::format("{}only {} origin(s) answered with the resource", why.empty() ? "" : "; ",
                       candidates.size());
  }
  return UndoClones(made,
                    Unavailable(fmt::format("only {} of the {} origins needed could take a clone "
                                            "of {}: {}",
                                            made.size(), r.replicas, r.resource, why)),
                    status);
}

// The proxy service's targets and the note on its clones.
void PointAt(const std::vector<PlacedClone>& clones, const AttachRequest& r, ComposeSide& side) {
  compose::ProxyService& service = side.service;
  service.listen_port = side.base_port ? *side.base_port : DefaultPort(clones.front().clone.engine);
  for (const PlacedClone& c : clones) service.targets.push_back(c.proxy_target);
  if (!r.balance.empty() || r.replicas > 1)
    service.balance = r.balance.empty() ? "first" : r.balance;
  std::vector<std::string> notes;
  for (const PlacedClone& c : clones) {
    notes.push_back(fmt::format("clone {} of {} on {}", c.clone.id,
                                c.clone.snapshot.empty() ? r.resource : c.clone.snapshot,
                                c.api.url().ToString()));
  }
  service.note = fmt::format("{}", fmt::join(notes, "; "));
}

// The project's entry for the attached service.
AttachedService EntryFor(const std::vector<PlacedClone>& clones, const AttachRequest& r,
                         const compose::ProxyService& service) {
  const PlacedClone& first = clones.front();
  AttachedService entry{r.service,
                        r.resource,
                        first.clone.id,
                        first.api.url().ToString(),
                        first.clone.snapshot,
                        HostPort(first.host, first.clone.port),
                        service.listen_port,
                        {}};
  for (size_t i = 1; i < clones.size(); ++i) {
    entry.replicas.push_back(Replica{clones[i].clone.id, clones[i].api.url().ToString(),
                                     HostPort(clones[i].host, clones[i].clone.port)});
  }
  return entry;
}

// Under the project lock: writes the service into the override file and records it in the
// project file. Nothing of the project is changed when it fails (the clones are the caller's).
Status RecordAttachment(const std::vector<PlacedClone>& clones, const AttachRequest& r,
                        ComposeSide& side, StatusLine& status) {
  status.Spin("waiting for the project lock (another zdap edits this project)");
  ZDAP_ASSIGN_OR_RETURN(FileLock lock, FileLock::AcquireDir(side.project.dir));
  ZDAP_ASSIGN_OR_RETURN(side.project, LoadProject(side.project.dir));
  Project& project = side.project;
  if (project.Find(r.service)) {
    return Conflict(fmt::format("service '{}' was attached meanwhile", r.service));
  }
  status.Spin(fmt::format("writing {}", project.override_file));
  ZDAP_RETURN_IF_ERROR(WriteAttachment(project, side.service, side.compose_version));
  project.services.push_back(EntryFor(clones, r, side.service));
  Status saved = SaveProject(project);
  if (!saved.ok()) {
    // Put the override back as it was.
    auto file = ReadOverride(project.OverridePath());
    if (file.ok()) {
      auto back = compose::DetachService(file->text, r.service);
      if (back.ok()) {
        if (back->delete_file) {
          ::unlink(project.OverridePath().c_str());
        } else {
          (void)WriteFileAtomic(project.OverridePath(), back->text, file->mode);
        }
      }
    }
    RemoveBuildDir(project, r.service);
  }
  return saved;
}

void PrintAttached(const std::vector<PlacedClone>& clones, const AttachRequest& r,
                   const ComposeSide& side) {
  const compose::ProxyService& service = side.service;
  const PlacedClone& first = clones.front();
  if (r.quiet) {
    for (const PlacedClone& c : clones) std::cout << c.clone.id << "\n";
  } else if (clones.size() == 1) {
    std::cout << fmt::format("attached {} (clone {}, {}) as service '{}' in {}: proxy :{} -> {}\n",
                             r.resource, first.clone.id, first.clone.snapshot, r.service,
                             side.project.override_file, service.listen_port, service.targets[0]);
  } else {
    std::vector<std::string> where;
    for (const PlacedClone& c : clones) {
      where.push_back(fmt::format("{} on {}", c.clone.id, c.api.url().ToString()));
    }
    std::cout << fmt::format(
        "attached {} ({} clones: {}) as service '{}' in {}: proxy :{} -> {} (balance {})\n",
        r.resource, clones.size(), fmt::join(where, ", "), r.service, side.project.override_file,
        service.listen_port, fmt::join(service.targets, ", "), service.balance);
  }
}

}  // namespace

std::string CheckAttach(const VerbArgs& a) {
  if (!Replicas(a)) {
    return fmt::format("--replicas '{}': give a number from 1 to {}", a.Get("replicas"),
                       kMaxReplicas);
  }
  if (*Replicas(a) > 1 && a.Has("origin")) {
    return "--origin places one clone; leave it out to place --replicas on the configured "
           "origins";
  }
  return "";
}

// attach: read the request, check the compose side, then make the clones and record them;
// a failure after the clones exist destroys them again.
Status CmdAttach(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(AttachRequest r, ReadAttachRequest(a));
  ZDAP_ASSIGN_OR_RETURN(ComposeSide side, PrepareComposeSide(r));
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadAttachConfig(r));

  StatusLine status(!r.quiet);
  if (r.origin.empty() && config.origins.size() > 1) {
    status.Spin(fmt::format("placing: asking {} origins for room", config.origins.size()));
  }
  ZDAP_ASSIGN_OR_RETURN(std::vector<OriginApi> candidates,
                        PlaceClone(config, r.origin, r.resource, r.claim));
  ZDAP_ASSIGN_OR_RETURN(std::vector<PlacedClone> clones,
                        MakeClones(candidates, r, config.user, status));
  PointAt(clones, r, side);
  if (Status recorded = RecordAttachment(clones, r, side, status); !recorded.ok()) {
    return UndoClones(clones, recorded, status);
  }
  status.Clear();
  PrintAttached(clones, r, side);
  return Status::Ok();
}

namespace {

// Removes service `name` from the override and the project file, under the project lock; the
// entry it had, if any, in *entry (its clones are the caller's to destroy).
Status RemoveService(const std::string& dir, const std::string& name,
                     std::optional<AttachedService>* entry, StatusLine& status) {
  status.Spin("waiting for the project lock (another zdap edits this project)");
  ZDAP_ASSIGN_OR_RETURN(FileLock lock, FileLock::AcquireDir(dir));
  ZDAP_ASSIGN_OR_RETURN(Project project, LoadProject(dir));
  status.Spin(fmt::format("removing service '{}' from {}", name, project.override_file));
  if (const AttachedService* e = project.Find(name)) *entry = *e;
  ZDAP_ASSIGN_OR_RETURN(OverrideFile file, ReadOverride(project.OverridePath()));
  auto detached = compose::DetachService(file.text, name);
  if (!detached.ok()) {
    if (detached.status().code() != Code::kNotFound) {
      return detached.status().Wrap(project.override_file);
    }
    if (!*entry) {
      std::vector<std::string> attached;
      for (const auto& s : project.services) attached.push_back(s.service);
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
}

}  // namespace

Status CmdDetach(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(std::string config_path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(config_path));
  const std::string dir = ProjectDir(a);
  ZDAP_RETURN_IF_ERROR(LoadProject(dir).status());

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
    if (Status s = RemoveService(dir, name, &entry, status); !s.ok()) {
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
