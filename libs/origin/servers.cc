#include "origin/servers.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/local_host.h"
#include "core/log.h"

namespace zdap::origin {
namespace {

// The last `keep` lines of a server's log without the replies to our own readiness probes
// ("not yet accepting connections" and its DETAIL, which a server in recovery logs for each
// probe): what it said of itself is what tells why it stopped.
std::string WhyItStopped(const std::string& log, size_t keep) {
  std::vector<std::string> lines;
  bool skip_detail = false;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(start, end - start);
    start = end + 1;
    if (line.find("is not yet accepting connections") != std::string::npos ||
        line.find("the database system is starting up") != std::string::npos) {
      skip_detail = true;
      continue;
    }
    if (skip_detail && line.find("DETAIL:") != std::string::npos) continue;
    skip_detail = false;
    lines.push_back(std::move(line));
  }
  std::string out;
  for (size_t i = lines.size() > keep ? lines.size() - keep : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

}  // namespace

using catalog::CloneRecord;

Servers::Servers(Env& env, runtime::Runtime& runtime, const ResourceSet& resources,
                 storage::Driver& store, SecretStore& secrets, std::optional<RunAs> run_as,
                 std::string data_dir, std::string clone_bind)
    : env_(env),
      runtime_(runtime),
      resources_(resources),
      store_(store),
      secrets_(secrets),
      run_as_(std::move(run_as)),
      data_dir_(std::move(data_dir)),
      clone_bind_(std::move(clone_bind)) {}

std::string Servers::RunDir(const std::string& name) const {
  return data_dir_ + "/run/" + name;
}

Status Servers::ChownToServerUser(const std::string& path) const {
  if (!run_as_) return Status::Ok();
  return env_.Chown(path, run_as_->uid, run_as_->gid);
}

Status Servers::PrepareRunDir(const std::string& dir) const {
  ZDAP_RETURN_IF_ERROR(env_.RemoveTree(dir));
  ZDAP_RETURN_IF_ERROR(env_.MakeDir(dir, 0700));
  ZDAP_RETURN_IF_ERROR(ChownToServerUser(dir));
  // unix socket paths are limited to 107 bytes.
  if (dir.size() + 20 > 107) {
    return InvalidArgument(fmt::format(
        "data_dir {} is too long for a unix socket path; use a shorter data_dir", data_dir_));
  }
  return Status::Ok();
}

runtime::ServerHandle Servers::HandleOf(const CloneRecord& record) {
  runtime::ServerHandle h;
  h.pid = record.pid;
  h.container_id = record.container_id;
  return h;
}

int Servers::StopSignal(const config::Resource* resource, const std::string& data_dir,
                        const std::string& run_dir) const {
  if (resource == nullptr) return SIGTERM;  // resource gone from the config: the generic request
  auto spec = resources_.EngineFor(*resource).ServerCommand(*resource, data_dir, run_dir, "", 0);
  return spec.ok() ? spec->stop_signal : SIGTERM;
}

Status Servers::StopScratch(const runtime::ServerHandle& handle, const config::Resource& resource,
                            const std::string& data_dir, const std::string& run_dir, bool clean) {
  constexpr auto kKillWait = std::chrono::seconds(10);
  if (!clean) return runtime_.Stop(handle, data_dir, SIGKILL, kKillWait);
  Status stopped =
      runtime_.Stop(handle, data_dir, StopSignal(&resource, data_dir, run_dir), kStopGrace);
  if (!stopped.ok()) (void)runtime_.Stop(handle, data_dir, SIGKILL, kKillWait);
  return stopped;
}

Status Servers::StopClone(CloneRecord* record, const config::Resource& resource) {
  std::string path = store_.ClonePath(record->Volume());
  ZDAP_RETURN_IF_ERROR(runtime_.Stop(HandleOf(*record), path,
                                     StopSignal(&resource, path, RunDir(record->id)), kStopGrace));
  record->pid = -1;
  record->container_id.clear();
  return Status::Ok();
}

Status Servers::StartClone(CloneRecord* record, const config::Resource& resource) {
  ServerStart s;
  ZDAP_ASSIGN_OR_RETURN(s.password, secrets_.ReadFile(record->id));
  s.resource = &resource;
  s.data_dir = store_.ClonePath(record->Volume());
  s.run_dir = RunDir(record->id);
  s.bind = clone_bind_;
  s.port = record->port;
  s.label = record->id;
  s.owner = record->owner;
  ZDAP_RETURN_IF_ERROR(PrepareRunDir(s.run_dir));
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle h, StartAndWait(s));
  record->pid = h.pid;
  record->container_id = h.container_id;
  return Status::Ok();
}

void Servers::StopServersOf(const std::string& data_dir, const std::string& run_dir,
                            const std::string& label, const config::Resource* resource) {
  // 1. What the runtime finds by itself: from the moment of the fork (process: a group leader
  // whose cwd is the data dir) or of the container's creation (docker: its labels).
  std::error_code ec;
  std::string canonical =
      std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir), ec);
  if (auto found = runtime_.ListServers(); found.ok()) {
    for (const auto& f : *found) {
      bool ours =
          (!label.empty() && f.clone == label) || (!f.data_dir.empty() && f.data_dir == canonical);
      if (!ours) continue;
      log::Warn(
          "stopping {} server {} of {}: no clone keeps it", runtime_.name(),
          f.handle.container_id.empty() ? std::to_string(f.handle.pid) : f.handle.container_id,
          data_dir);
      (void)runtime_.Stop(f.handle, f.data_dir.empty() ? data_dir : f.data_dir, SIGKILL,
                          std::chrono::seconds(10));
    }
  } else {
    log::Error("cannot list {} servers: {}", runtime_.name(), found.status().message());
  }
  // 2. The engine's pid file, for a runtime that cannot list its servers. Without the
  // resource, ask each engine in use where its pid file would be.
  std::vector<const config::Resource*> candidates;
  if (resource != nullptr) {
    candidates.push_back(resource);
  } else {
    std::set<std::string> seen;
    for (const auto& r : resources_.all()) {
      if (seen.insert(r.engine).second) candidates.push_back(&r);
    }
  }
  for (const config::Resource* r : candidates) {
    engine::Engine& engine = resources_.EngineFor(*r);
    auto spec = engine.ServerCommand(*r, data_dir, run_dir, "", 0);
    if (!spec.ok() || spec->pid_file.empty()) continue;
    auto pidtext = env_.ReadFile(spec->pid_file, 4096);
    if (!pidtext.ok()) continue;
    runtime::ServerHandle h;
    h.pid = static_cast<pid_t>(std::atol(pidtext->c_str()));
    if (!runtime_.Owns(h, data_dir)) continue;
    log::Warn("stopping {} server pid {} of {} (its pid file)", engine.name(), h.pid, data_dir);
    (void)runtime_.Stop(h, data_dir, spec->stop_signal, std::chrono::seconds(10));
    return;
  }
}

void Servers::StopUnrecorded(const CloneRecord& rec, const config::Resource* res) {
  std::string path = store_.ClonePath(rec.Volume());
  if (runtime_.Owns(HandleOf(rec), path)) return;
  StopServersOf(path, RunDir(rec.id), rec.id, res);
}

Result<runtime::ServerHandle> Servers::StartAndWait(const ServerStart& s) {
  const config::Resource& resource = *s.resource;
  engine::Engine& engine = resources_.EngineFor(resource);
  ZDAP_ASSIGN_OR_RETURN(engine::ServerSpec spec,
                        engine.ServerCommand(resource, s.data_dir, s.run_dir, s.bind, s.port));
  spec.argv.insert(spec.argv.end(), s.extra_args.begin(), s.extra_args.end());
  if (!s.password.empty()) {
    ZDAP_RETURN_IF_ERROR(
        engine.PrepareClone(resource, s.password, s.run_dir, run_as_, s.lock, &spec));
  }
  // A server killed without a clean shutdown (or a snapshot taken from one) leaves files that
  // would stop this start; nothing runs from this data dir now, so they are stale.
  for (const auto& stale : spec.stale_files) (void)env_.RemoveFile(stale);
  runtime::StartOptions where;
  where.resource = &resource;
  where.run_dir = s.run_dir;
  where.clone = s.label;
  where.owner = s.owner;
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle handle, runtime_.Start(spec, where));
  engine::Endpoint socket_ep;
  socket_ep.port = s.port;
  socket_ep.socket_dir = s.run_dir;
  engine::Endpoint ep = socket_ep;
  if (!s.bind.empty()) {
    ep.socket_dir.clear();
    ep.host = LocalConnectHost(s.bind);
  }
  const SteadyTime until = env_.MonotonicNow() + s.start_deadline;
  auto fail = [&](const std::string& why) -> Status {
    std::string tail = WhyItStopped(runtime_.LogTail(handle, spec, 200), 12);
    (void)runtime_.Stop(handle, s.data_dir, SIGKILL, std::chrono::seconds(5));  // docker: rm
    for (const auto& f : spec.secret_files) (void)env_.RemoveFile(f);
    return Unavailable(fmt::format("the {} server {}: {}", engine.name(), why, tail));
  };
  // Probes with a short, growing back-off: a connect on loopback costs microseconds, and a
  // fresh clone of a cleanly stopped server is usually up within tens of milliseconds.
  auto wait_ready = [&](const engine::Endpoint& at, const config::Resource& probe_as) {
    auto pause = std::chrono::microseconds(500);
    for (;;) {
      engine::ProbeResult last = engine.Probe(at, probe_as, std::chrono::seconds(2));
      if (last.readiness == engine::Readiness::kReady) return Status::Ok();
      if (!runtime_.IsRunning(handle)) return fail("exited during start-up");
      if (env_.MonotonicNow() >= until) {
        return fail(fmt::format("did not become ready within {} s ({})", s.start_deadline.count(),
                                last.detail));
      }
      env_.SleepFor(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(10000));
    }
  };
  config::Resource probe_as = resource;
  if (s.bind.empty()) probe_as.source.database = engine.admin_database();  // import: no db yet
  if (!s.probe_user.empty()) probe_as.user = s.probe_user;
  if (!s.password.empty() && engine.activates_after_start()) {
    // TCP is refused until the password is set over the socket (the engine waits for the
    // socket itself). Once it is, the server takes the clone's logins over TCP (the
    // engine's contract): a TCP probe would only cost another backend start.
    Status activated = engine.ActivateClone(
        resource, socket_ep, s.data_dir, s.password, run_as_, s.lock,
        std::chrono::duration_cast<std::chrono::milliseconds>(until - env_.MonotonicNow()),
        [&] { return runtime_.IsRunning(handle); });
    if (!activated.ok()) return fail(activated.message());
  } else {
    if (!s.password.empty()) probe_as.password = s.password;
    ZDAP_RETURN_IF_ERROR(wait_ready(ep, probe_as));
  }
  for (const auto& f : spec.secret_files) (void)env_.RemoveFile(f);
  return handle;
}

}  // namespace zdap::origin
