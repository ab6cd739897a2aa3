// Standby: the hot standby that one `source.replica` resource keeps following its primary
// (config/replica_source.h). What it is made of, all named after the resource R:
//   volume   standby-R in the store: the standby's data directory;
//   server   the engine's server on it under the runtime, label standby-R, no TCP listener:
//            its unix socket in run dir <data_dir>/run/standby-R, beside the 0600 password
//            file its WAL receiver reads at each connection;
//   slot     a physical replication slot on the primary, so the primary keeps the WAL the
//            standby has not received yet.
// The volume's metadata records what it follows (primary conninfo, slot) and whether its
// first sync finished (state=ready). A crash during the first sync leaves a volume without
// state=ready, which Recover removes; a standby whose resource left the config is removed by
// RemoveOrphan from the metadata alone (its slot dropped too).
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include "engine/postgres_standby.h"
#include "origin/source.h"
#include "runtime/runtime.h"

namespace zdap::origin {

class Standby {
 public:
  Standby(const config::Resource& resource, const SourceParts& parts);

  // "standby-<resource>": the volume's name, the server's label and its run dir's name.
  static std::string NameOf(const std::string& resource) { return "standby-" + resource; }
  // True if `name` is NameOf(something); *resource gets it.
  static bool ParseName(const std::string& name, std::string* resource);

  // True once the first sync finished (the volume says state=ready).
  bool Synced() const;
  // The first sync: the slot (made if missing), a base backup into a new volume, the standby
  // configured and started. `phase` names each step for the job. On failure the volume and
  // its server go (the slot stays, reused by the next try).
  Status Sync(const std::function<void(const char*)>& phase);
  // After a restart: removes a half-made first sync; adopts the server that still runs, or
  // starts it again.
  Status Recover();
  // Starts the standby's server unless it runs.
  Status EnsureRunning();
  // Stops the server (clean, then killed after the grace time).
  Status StopServer();
  // Stops the server, drops the slot on the primary, removes the volume and the run dir.
  Status Remove();
  // Removes standby volume `name` (and its server, run dir and slot) whose resource is no
  // longer a replica in the config, from what its metadata records.
  static Status RemoveOrphan(const std::string& name, Env& env, storage::Driver& store,
                             Servers& servers);

  // Where the daemon's queries reach the standby's server (its unix socket).
  engine::standby::Socket socket() const;
  // The primary as the client tools reach it (the password file in the run dir).
  engine::standby::Primary primary() const;
  // The hot standby minimums (max_connections and friends) of `data_dir`, as -c arguments.
  Result<std::vector<std::string>> HotStandbyArgs(const std::string& data_dir) const;
  // The standby's bootstrap superuser (asked once, as the replication user).
  Result<std::string> Superuser();
  bool running();

  const std::string& name() const { return name_; }
  const std::string& volume_path() const { return volume_path_; }
  const config::ReplicaSpec& spec() const { return *resource_.source.replica; }

 private:
  Status StartServer();
  RunAs ServerUser() const;

  const config::Resource& resource_;
  SourceParts p_;
  const std::string name_;
  const std::string volume_path_;
  const std::string run_dir_;
  std::string bin_;  // the PostgreSQL tools' directory
  std::mutex mu_;    // the handle and the superuser's name
  runtime::ServerHandle handle_;
  std::string superuser_;
};

}  // namespace zdap::origin
