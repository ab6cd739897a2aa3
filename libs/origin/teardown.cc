// The one teardown of a clone: server, volume, run dir, secret, port and record.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "core/file_util.h"
#include "origin/origin.h"

namespace zdap::origin {

using catalog::CloneRecord;

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
  } else {
    // A crash between the server's start and the record's update: its pid file names it.
    StopOrphanServer(path, RunDir(record.id), res);
  }
  if (PathExists(path)) note(store_->DestroyClone(record.Volume()));
  note(RemoveTree(RunDir(record.id)));
  if (::unlink(SecretPath(record.id).c_str()) != 0 && errno != ENOENT) {
    note(ErrnoError("unlink " + SecretPath(record.id), errno));
  }
  {
    std::lock_guard lock(secrets_mu_);
    secrets_.erase(record.id);
  }
  if (first.ok()) {
    idle_.Forget(record.id);
    note(catalog_->Remove(record.id));
    ports_->Release(record.port);
  }
  return first;
}

}  // namespace zdap::origin
