// The one teardown of a clone: server, volume, run dir, secret, port and record.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "origin/origin.h"

namespace zdap::origin {

using catalog::CloneRecord;
using catalog::CloneState;

Status Origin::TearDown(const CloneRecord& record) {
  Status first;
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = s;
  };
  const config::Resource* res = nullptr;
  if (auto r = FindResource(record.resource); r.ok()) res = *r;
  std::string path = store_->ClonePath(record.Volume());
  runtime::ServerHandle handle = HandleOf(record);
  if (!handle.empty()) {
    int sig = SIGTERM;  // resource gone from the config: the generic polite request
    if (res != nullptr) {
      if (auto spec = EngineFor(*res)->ServerCommand(*res, path, RunDir(record.id), "", 0);
          spec.ok()) {
        sig = spec->stop_signal;
      }
    }
    note(runtime_->Stop(handle, path, sig, kStopGrace));
  }
  // Whatever else runs from the clone's data dir: a server started just before a crash, before
  // its pid reached the record (or its pid file was written).
  StopServersOf(path, RunDir(record.id), record.id, res);
  if (PathExists(path)) note(store_->DestroyClone(record.Volume()));
  note(RemoveTree(RunDir(record.id)));
  if (::unlink(SecretPath(record.id).c_str()) != 0 && errno != ENOENT) {
    note(ErrnoError("unlink " + SecretPath(record.id), errno));
  }
  {
    std::lock_guard lock(secrets_mu_);
    secrets_.erase(record.id);
    uris_.erase(record.id);
  }
  if (first.ok()) {
    idle_.Forget(record.id);
    note(catalog_->Remove(record.id));
    ports_->Release(record.port);
  }
  return first;
}

Status Origin::Destroy(CloneRecord rec) {
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry, journal_->Begin("destroy", rec.id,
                                                            {{"clone", rec.id},
                                                             {"resource", rec.resource},
                                                             {"port", std::to_string(rec.port)}}));
  rec.state = CloneState::kDeleting;
  Status st = catalog_->Update(rec);
  if (st.ok()) st = TearDown(rec);
  if (!st.ok()) {
    // The entry stays: the next Recover() finishes the teardown.
    rec.state = CloneState::kFailed;
    rec.error = fmt::format("destroy failed: {}", st.message());
    (void)catalog_->Update(rec);
    return st;
  }
  return journal_->Commit(entry);
}

}  // namespace zdap::origin
