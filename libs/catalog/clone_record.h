// What the catalog knows about one clone; stored as JSON beside the data. zdapd maps it onto
// the API's clone object (libs/api/clone.h).
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace zdap::catalog {

enum class CloneState { kCreating, kReady, kFailed, kDeleting };
const char* CloneStateName(CloneState s);
bool ParseCloneState(const std::string& s, CloneState* out);

struct CloneRecord {
  std::string id;
  std::string resource;
  std::string snapshot;
  std::string owner;
  CloneState state = CloneState::kCreating;
  int port = 0;
  pid_t pid = -1;            // the server's process (process runtime)
  std::string container_id;  // the server's container (docker runtime)
  SystemTime created_at{};
  std::optional<SystemTime> expires_at;
  bool is_protected = false;
  bool pooled = false;
  // The clone's volume in the store: "" = the one named like the clone; a reset gives the
  // clone a fresh volume under another name (see Volume()).
  std::string volume;
  // Why the clone is `failed` (a reset whose old data did not start again, a restart after a
  // crash that failed, ...); "" otherwise. One line, at most kMaxErrorBytes.
  std::string error;
  static constexpr size_t kMaxErrorBytes = 2000;

  const std::string& Volume() const { return volume.empty() ? id : volume; }
};

// The on-disk form (internal fields included, no secrets).
std::string SerializeRecord(const CloneRecord& r);
Result<CloneRecord> ParseRecord(const std::string& text);

}  // namespace zdap::catalog
