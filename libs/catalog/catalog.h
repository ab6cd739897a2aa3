// Catalog: which clones exist, their state and owner. The source of truth is on disk
// (<dir>/<clone-id>.json, written atomically), so it survives restarts and kill -9; the
// in-memory map is a cache of it. Thread-safe: writers are serialized (records reach the disk
// in the order they are changed), and readers never wait for a writer's disk write (an fsync
// under load takes long; the API lists clones while creates run). A record is visible to
// readers once it is on disk.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/clone_record.h"
#include "core/result.h"

namespace zdap::catalog {

class Catalog {
 public:
  // Loads every record in `dir` (created if missing). Unreadable records are moved aside to
  // <id>.json.corrupt and logged, never silently dropped.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& dir);

  // Adds a record; Conflict if the id exists.
  Status Insert(const CloneRecord& record);
  // Replaces an existing record; NotFound if it does not exist.
  Status Update(const CloneRecord& record);
  Status Remove(const std::string& id);
  std::optional<CloneRecord> Get(const std::string& id) const;
  std::vector<CloneRecord> List() const;  // sorted by id
  bool PortInUse(int port) const;

 private:
  explicit Catalog(std::string dir) : dir_(std::move(dir)) {}
  Status Persist(const CloneRecord& record);
  std::string PathOf(const std::string& id) const { return dir_ + "/" + id + ".json"; }

  std::string dir_;
  std::mutex write_mu_;    // held by Insert/Update/Remove across the disk write
  mutable std::mutex mu_;  // guards clones_ only; never held across I/O
  std::map<std::string, CloneRecord> clones_;
};

}  // namespace zdap::catalog
