// `source.replica` (PostgreSQL): a standby that zdapd keeps following a primary, snapshotted
// without stopping it (origin/replica_source.h). The primary is a libpq conninfo string
// ("host=pg-prod port=5432 user=zdap_replicator") that names no password and no database:
// the password comes from `password_file` (0600), the standby connects for replication only.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::config {

// A libpq conninfo string, parsed (keyword = value pairs; values may be single-quoted with
// \' and \\ escapes). Refuses: password, passfile, dbname, replication (zdapd sets them),
// keywords libpq does not know, a missing host or user, control characters, and more than
// 1000 bytes: each with what is wrong.
struct Conninfo {
  std::map<std::string, std::string> params;
  // The string again, every value quoted: what libpq (primary_conninfo, -d) is given.
  std::string ToString() const;
  const std::string& user() const { return params.at("user"); }
};
Result<Conninfo> ParseConninfo(std::string_view text);

struct ReplicaSpec {
  Conninfo primary;
  std::string password_file;  // absolute, 0600; "" = the primary needs none (trust, certificates)
  std::string slot;           // physical replication slot on the primary: [a-z0-9_]{1,63}
  // How long a standby may be cut off from its primary before zdapd says so at error level
  // (the primary keeps WAL for the slot meanwhile).
  std::chrono::seconds max_disconnect{3600};
};

// The default slot of resource `resource`: zdap_<name>, '-' and '.' as '_', lower case.
std::string DefaultSlotName(const std::string& resource);
// InvalidArgument unless `slot` is a physical slot name PostgreSQL accepts ([a-z0-9_]{1,63}).
Status ValidateSlotName(const std::string& slot);

}  // namespace zdap::config
