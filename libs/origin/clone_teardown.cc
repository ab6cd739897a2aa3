// The one teardown of a clone (server, volume, run dir, secret, port and record), and the
// journalled destroy around it.
#include <fmt/format.h>

#include "origin/clone_service.h"

namespace zdap::origin {

using catalog::CloneRecord;
using catalog::CloneState;

Status CloneService::TearDown(const CloneRecord& record) {
  Status first;
  auto note = [&](Status s) {
    if (!s.ok() && first.ok()) first = s;
  };
  const config::Resource* res = nullptr;
  if (auto r = p_.resources.Find(record.resource); r.ok()) res = *r;
  std::string path = p_.store.ClonePath(record.Volume());
  std::string run_dir = p_.servers.RunDir(record.id);
  runtime::ServerHandle handle = Servers::HandleOf(record);
  if (!handle.empty()) {
    note(p_.servers.runtime().Stop(handle, path, p_.servers.StopSignal(res, path, run_dir),
                                   Servers::kStopGrace));
  }
  // Whatever else runs from the clone's data dir: a server started just before a crash, before
  // its pid reached the record (or its pid file was written).
  p_.servers.StopServersOf(path, run_dir, record.id, res);
  if (p_.env.FileExists(path)) note(p_.store.DestroyClone(record.Volume()));
  note(p_.env.RemoveTree(run_dir));
  note(p_.secrets.Forget(record.id));
  if (first.ok()) {
    p_.idle.Forget(record.id);
    note(p_.catalog.Remove(record.id));
    p_.ports.Release(record.port);
  }
  return first;
}

Status CloneService::DestroyHeld(CloneRecord rec) {
  ZDAP_ASSIGN_OR_RETURN(JournalEntry entry, p_.journal.Begin("destroy", rec.id,
                                                             {{"clone", rec.id},
                                                              {"resource", rec.resource},
                                                              {"port", std::to_string(rec.port)}}));
  rec.state = CloneState::kDeleting;
  Status st = p_.catalog.Update(rec);
  if (st.ok()) st = TearDown(rec);
  if (!st.ok()) {
    // The entry stays: the next Recovery finishes the teardown.
    rec.state = CloneState::kFailed;
    rec.error = fmt::format("destroy failed: {}", st.message());
    (void)p_.catalog.Update(rec);
    return st;
  }
  return p_.journal.Commit(entry);
}

}  // namespace zdap::origin
