// Starting a database server and waiting until it answers (clones and imports alike), and
// stopping one whose record is gone.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "core/file_util.h"
#include "core/local_host.h"
#include "core/log.h"
#include "origin/origin.h"

namespace zdap::origin {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kStartDeadline = std::chrono::seconds(120);

}  // namespace

using catalog::CloneRecord;

runtime::ServerHandle Origin::HandleOf(const CloneRecord& record) {
  runtime::ServerHandle h;
  h.pid = record.pid;
  h.container_id = record.container_id;
  return h;
}

Status Origin::StopCloneServer(CloneRecord* record, const config::Resource& resource) {
  std::string path = store_->ClonePath(record->Volume());
  ZDAP_ASSIGN_OR_RETURN(
      auto spec, EngineFor(resource)->ServerCommand(resource, path, RunDir(record->id), "", 0));
  ZDAP_RETURN_IF_ERROR(runtime_->Stop(HandleOf(*record), path, spec.stop_signal, kStopGrace));
  record->pid = -1;
  record->container_id.clear();
  return Status::Ok();
}

Status Origin::StartCloneServer(CloneRecord* record, const config::Resource& resource) {
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadFile(SecretPath(record->id), 4096));
  std::string run_dir = RunDir(record->id);
  ZDAP_RETURN_IF_ERROR(PrepareRunDir(run_dir));
  ZDAP_ASSIGN_OR_RETURN(
      runtime::ServerHandle h,
      StartAndWait(resource, store_->ClonePath(record->Volume()), run_dir, config_.clone_bind,
                   record->port, record->id, record->owner, password));
  record->pid = h.pid;
  record->container_id = h.container_id;
  return Status::Ok();
}

void Origin::StopServersOf(const std::string& data_dir, const std::string& run_dir,
                           const std::string& label, const config::Resource* resource) {
  // 1. What the runtime finds by itself: from the moment of the fork (process: a group leader
  // whose cwd is the data dir) or of the container's creation (docker: its labels).
  std::error_code ec;
  std::string canonical =
      std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir), ec);
  if (auto found = runtime_->ListServers(); found.ok()) {
    for (const auto& f : *found) {
      bool ours =
          (!label.empty() && f.clone == label) || (!f.data_dir.empty() && f.data_dir == canonical);
      if (!ours) continue;
      log::Warn(
          "stopping {} server {} of {}: no clone keeps it", runtime_->name(),
          f.handle.container_id.empty() ? std::to_string(f.handle.pid) : f.handle.container_id,
          data_dir);
      (void)runtime_->Stop(f.handle, f.data_dir.empty() ? data_dir : f.data_dir, SIGKILL,
                           std::chrono::seconds(10));
    }
  } else {
    log::Error("cannot list {} servers: {}", runtime_->name(), found.status().message());
  }
  // 2. The engine's pid file, for a runtime that cannot list its servers. Without the
  // resource, ask each engine in use where its pid file would be.
  std::vector<const config::Resource*> candidates;
  if (resource != nullptr) {
    candidates.push_back(resource);
  } else {
    std::set<std::string> seen;
    for (const auto& r : resources_) {
      if (seen.insert(r.engine).second) candidates.push_back(&r);
    }
  }
  for (const config::Resource* r : candidates) {
    auto spec = EngineFor(*r)->ServerCommand(*r, data_dir, run_dir, "", 0);
    if (!spec.ok() || spec->pid_file.empty()) continue;
    auto pidtext = ReadFile(spec->pid_file, 4096);
    if (!pidtext.ok()) continue;
    runtime::ServerHandle h;
    h.pid = static_cast<pid_t>(std::atol(pidtext->c_str()));
    if (!runtime_->Owns(h, data_dir)) continue;
    log::Warn("stopping {} server pid {} of {} (its pid file)", EngineFor(*r)->name(), h.pid,
              data_dir);
    (void)runtime_->Stop(h, data_dir, spec->stop_signal, std::chrono::seconds(10));
    return;
  }
}

Result<runtime::ServerHandle> Origin::StartAndWait(
    const config::Resource& resource, const std::string& data_dir, const std::string& run_dir,
    const std::string& bind, int port, const std::string& clone, const std::string& owner,
    const std::string& password, engine::CloneLock lock) {
  engine::Engine* engine = EngineFor(resource);
  ZDAP_ASSIGN_OR_RETURN(engine::ServerSpec spec,
                        engine->ServerCommand(resource, data_dir, run_dir, bind, port));
  if (!password.empty()) {
    ZDAP_RETURN_IF_ERROR(engine->PrepareClone(resource, password, run_dir, run_as_, lock, &spec));
  }
  // A server killed without a clean shutdown (or a snapshot taken from one) leaves files that
  // would stop this start; nothing runs from this data dir now, so they are stale.
  for (const auto& stale : spec.stale_files) ::unlink(stale.c_str());
  runtime::StartOptions where;
  where.resource = &resource;
  where.run_dir = run_dir;
  where.clone = clone;
  where.owner = owner;
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle handle, runtime_->Start(spec, where));
  engine::Endpoint socket_ep;
  socket_ep.port = port;
  socket_ep.socket_dir = run_dir;
  engine::Endpoint ep = socket_ep;
  if (!bind.empty()) {
    ep.socket_dir.clear();
    ep.host = LocalConnectHost(bind);
  }
  auto until = SteadyClock::now() + kStartDeadline;
  auto fail = [&](const std::string& why) -> Status {
    std::string tail = runtime_->LogTail(handle, spec, 12);
    (void)runtime_->Stop(handle, data_dir, SIGKILL, std::chrono::seconds(5));  // docker: rm
    for (const auto& f : spec.secret_files) ::unlink(f.c_str());
    return Unavailable(fmt::format("the {} server {}: {}", engine->name(), why, tail));
  };
  // Probes with a short, growing back-off: a connect on loopback costs microseconds, and a
  // fresh clone of a cleanly stopped server is usually up within tens of milliseconds.
  auto wait_ready = [&](const engine::Endpoint& where, const config::Resource& probe_as) {
    auto pause = std::chrono::microseconds(500);
    for (;;) {
      engine::ProbeResult last = engine->Probe(where, probe_as, std::chrono::seconds(2));
      if (last.readiness == engine::Readiness::kReady) return Status::Ok();
      if (!runtime_->IsRunning(handle)) return fail("exited during start-up");
      if (SteadyClock::now() >= until) {
        return fail(fmt::format("did not become ready within {} s ({})", kStartDeadline.count(),
                                last.detail));
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(10000));
    }
  };
  config::Resource probe_as = resource;
  if (bind.empty()) probe_as.source.database = engine->admin_database();  // import: no db yet
  if (!password.empty() && engine->activates_after_start()) {
    // TCP is refused until the password is set over the socket (the engine waits for the
    // socket itself). Once it is, the server takes the clone's logins over TCP (the
    // engine's contract): a TCP probe would only cost another backend start.
    Status activated = engine->ActivateClone(
        resource, socket_ep, data_dir, password, run_as_, lock,
        std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()),
        [&] { return runtime_->IsRunning(handle); });
    if (!activated.ok()) return fail(activated.message());
  } else {
    if (!password.empty()) probe_as.password = password;
    ZDAP_RETURN_IF_ERROR(wait_ready(ep, probe_as));
  }
  for (const auto& f : spec.secret_files) ::unlink(f.c_str());
  return handle;
}

}  // namespace zdap::origin
