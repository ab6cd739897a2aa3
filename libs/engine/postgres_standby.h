// PostgreSQL's half of a standby source (`source.replica`, origin/replica_source.h): the
// client tools and statements that make, follow, watch and snapshot a hot standby. The origin
// decides where the data lives and which server runs; this file only speaks PostgreSQL.
//
// Secrets: the replication password reaches libpq only through a password file (0600, owned
// by the server user) in a private run dir: PGPASSFILE for the tools, `passfile=` in the
// standby's primary_conninfo. Never an argv, an environment of a long-lived process, or a log.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/resource.h"
#include "core/result.h"
#include "core/subprocess.h"
#include "core/time.h"
#include "engine/engine.h"

namespace zdap::engine::standby {

// How the tools reach the primary: its conninfo and the password file ("" = none).
struct Primary {
  const config::ReplicaSpec* spec = nullptr;
  std::string passfile;
  RunAs run_as;     // the tools run as the server user (they write its data dir)
  std::string cwd;  // a private directory
};

// Writes the password of `spec` (its password_file) as a libpq password file at `path`,
// mode 0600, owned by `run_as`; removes `path` when the primary needs no password.
Status WritePassfile(const config::ReplicaSpec& spec, const std::string& path, const RunAs& run_as);

// The physical slot on the primary: made if missing (pg_receivewal --create-slot
// --if-not-exists), dropped if present (--drop-slot; a missing slot is fine).
Status CreateSlot(const std::string& bin, const Primary& primary);
Status DropSlot(const std::string& bin, const Primary& primary);

// pg_basebackup -X stream -S <slot> --checkpoint=fast into the empty `data_dir`. The copy
// is then made a standby's (ConfigureStandby).
Status BaseBackup(const std::string& bin, const Primary& primary, const std::string& data_dir);

// Makes a base backup a zdap standby: standby.signal; the primary's postgresql.conf and
// postgresql.auto.conf emptied (its memory, paths and certificates are not this host's:
// settings come from ServerArgs); pg_hba.conf that lets the daemon in over the private unix
// socket and nobody over TCP (the standby listens on none).
Status ConfigureStandby(const std::string& data_dir, const RunAs& run_as);

// The primary's WAL position now (IDENTIFY_SYSTEM over a replication connection), e.g.
// "0/3000148".
Result<std::string> PrimaryPosition(const std::string& bin, const Primary& primary);

// The settings a hot standby must have at least as high as the primary (max_connections,
// max_worker_processes, max_wal_senders, max_prepared_transactions,
// max_locks_per_transaction), as the primary's values recorded in `data_dir`'s control file
// (pg_controldata), raised to `current` where that is higher.
Result<std::map<std::string, std::string>> HotStandbySettings(
    const std::string& bin, const std::string& data_dir, const RunAs& run_as,
    const std::map<std::string, std::string>& current);

// `-c` arguments that make a server on a standby's data follow the primary: conninfo with
// passfile and application_name, the slot, hot_standby, feedback.
std::vector<std::string> FollowArgs(const Primary& primary, const std::string& application_name);

// A server of a standby's data, reached over its unix socket.
struct Socket {
  std::string bin;
  Endpoint endpoint;
  std::optional<RunAs> run_as;
};

// The name of the cluster's bootstrap superuser (oid 10), asked as `login` (any role that
// may log in: the replication user exists on every standby of its primary).
Result<std::string> BootstrapSuperuser(const Socket& socket, const std::string& login);

// What the standby says of itself (pg_stat_wal_receiver, the replay position and time).
struct FollowState {
  std::string receiver;    // "streaming", "catchup", "waiting", ...; "" = no WAL receiver
  uint64_t lag_bytes = 0;  // primary's last reported end of WAL minus what was replayed
  std::optional<SystemTime> last_replayed;  // commit time of the last replayed transaction
  std::string replay_lsn;
};
Result<FollowState> QueryFollowState(const Socket& socket, const std::string& superuser);

// Waits (bounded by `limit`) until the standby has replayed up to `lsn`.
Status WaitReplayed(Env& env, const Socket& socket, const std::string& superuser,
                    const std::string& lsn, std::chrono::milliseconds limit);
// CHECKPOINT: on a standby, a restartpoint (less WAL for a copy of it to replay).
Status Checkpoint(const Socket& socket, const std::string& superuser);
// Ends recovery (pg_promote, waiting); returns the commit time of the last transaction
// replayed, if any.
Result<std::optional<SystemTime>> Promote(const Socket& socket, const std::string& superuser);
// Makes `user` a superuser that may log in (created when missing): the resource's user of a
// snapshot whose roles came from the primary. Fails, naming it, if `database` is missing.
Status EnsureResourceUser(const Socket& socket, const std::string& superuser,
                          const std::string& user, const std::string& database);

}  // namespace zdap::engine::standby
