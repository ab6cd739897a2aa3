// How each resource's last refresh ended, kept across restarts so that the dashboard's Origin
// page and `zdap status` can say "the refresh of app failed last night" after zdapd restarted.
//
// One small file per resource, <dir>/<resource>, of "key=value" lines (storage/volume_meta.h),
// replaced atomically (0600: an error line may name a host or a path). Losing a record is
// harmless, it only says how the last refresh went: a record that cannot be read is logged and
// treated as none, a record that cannot be written is logged and kept in memory. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/result.h"
#include "core/time.h"

namespace zdap::origin {

struct RefreshOutcome {
  bool ok = false;
  SystemTime finished_at{};
  std::chrono::milliseconds elapsed{0};
  std::string snapshot;  // ok: the snapshot it made, or the newest one when nothing was new
  std::string error;     // failed: why, on one line (OneLine)
};

class RefreshRecords {
 public:
  // Creates `dir` (0700) if needed.
  static Result<std::unique_ptr<RefreshRecords>> Open(Env& env, std::string dir);

  void Record(const std::string& resource, const RefreshOutcome& outcome);
  // The last outcome recorded for `resource`, from memory or from its file; none if it never
  // ran (or its record is unreadable).
  std::optional<RefreshOutcome> Last(const std::string& resource) const;

 private:
  RefreshRecords(Env& env, std::string dir) : env_(&env), dir_(std::move(dir)) {}
  std::optional<RefreshOutcome> Load(const std::string& resource) const;

  Env* env_;
  std::string dir_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::optional<RefreshOutcome>> cache_;  // by resource
};

// An error line as one line of at most `max_bytes`: control bytes become spaces, and a cut
// falls between UTF-8 characters and ends with "...".
inline constexpr size_t kMaxErrorBytes = 1000;
std::string OneLine(std::string_view text, size_t max_bytes = kMaxErrorBytes);

}  // namespace zdap::origin
