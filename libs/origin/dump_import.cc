#include "origin/dump_import.h"

#include <signal.h>
#include <unistd.h>

#include <optional>

#include "engine/dump_source.h"
#include "origin/servers.h"

namespace zdap::origin {
namespace {

// SnapshotMeta::data_as_of of a dump source: a dump file's (a directory archive's toc.dat's)
// last change; for a script, a command or a live server, the time the import starts. Unset if
// a dump file cannot be read (the import then says why).
std::optional<SystemTime> DataAsOf(Env& env, const config::ResourceSource& source) {
  if (source.dump.empty()) return env.Now();
  std::string file = source.dump;
  if (env.FileExists(file + "/toc.dat")) file += "/toc.dat";
  auto info = env.Stat(file);
  if (!info.ok()) return std::nullopt;
  return info->mtime;
}

}  // namespace

Result<SourceResult> DumpImport::Build(const SourceRun& run) {
  const std::optional<SystemTime> data_as_of = DataAsOf(p_.env, resource_.source);
  // The job sees the dump's bytes read and the client's output.
  std::optional<engine::ScopedImportProgress> report;
  if (run.job != nullptr) report.emplace(&run.job->progress());
  engine::Engine& engine = p_.engine;
  ZDAP_ASSIGN_OR_RETURN(std::string vol, p_.store.CreateVolume(run.snapshot));
  ZDAP_RETURN_IF_ERROR(p_.servers.ChownToServerUser(vol));
  ZDAP_RETURN_IF_ERROR(p_.env.Chmod(vol, 0700));
  const std::optional<RunAs>& run_as = p_.servers.run_as();
  RunAs who = run_as.value_or(RunAs{::geteuid(), ::getegid(), "", "/"});
  ZDAP_RETURN_IF_ERROR(engine.InitDataDir(resource_, vol, run.run_dir, who));
  ServerStart start;
  start.resource = &resource_;
  start.data_dir = vol;
  start.run_dir = run.run_dir;
  start.port = engine.default_port();
  start.label = run.label;
  ZDAP_ASSIGN_OR_RETURN(runtime::ServerHandle server, p_.servers.StartAndWait(start));
  // `after` scripts mask: what they replaced must be in no file of the snapshot.
  const bool masks = !resource_.source.after.empty();
  // Until the clean stop, any failure kills the import server: its half import goes with the
  // volume.
  auto imported = [&]() -> Result<bool> {
    engine::Endpoint ep;
    ep.socket_dir = run.run_dir;
    ep.port = engine.default_port();
    ZDAP_RETURN_IF_ERROR(engine.Import(resource_, ep, who));
    if (masks) {
      run.Phase("wipe");
      ZDAP_RETURN_IF_ERROR(engine.ForgetReplaced(resource_, ep, who));
    }
    return engine.PrepareSnapshot(resource_, ep, vol, run_as);
  }();
  if (!imported.ok()) {
    (void)p_.servers.StopScratch(server, resource_, vol, run.run_dir, /*clean=*/false);
    return imported.status();
  }
  run.Phase("stop");
  ZDAP_RETURN_IF_ERROR(p_.servers.StopScratch(server, resource_, vol, run.run_dir, /*clean=*/true));
  if (masks) ZDAP_RETURN_IF_ERROR(engine.ForgetHistory(resource_, vol, who));
  // initdb ran with --no-sync; make the data durable before it becomes a snapshot.
  run.Phase("snapshot");
  p_.env.SyncAll();
  SourceResult result;
  result.data_as_of = data_as_of;
  if (*imported) result.clone_lock = engine::CloneLock::kNoPassword;
  return result;
}

}  // namespace zdap::origin
