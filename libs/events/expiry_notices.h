// ExpiryNotices: when to publish clone.expiring (issue 24): once per clone and expiry time,
// `warning` before its expires_at (default 1h: zdapd's `expiry_warning`). Fed the current
// clones by the daemon's once-a-second sweep; an extended clone (a new expires_at) is
// announced again when its new time comes near; a protected or never-expiring clone is not.
// Not thread-safe: the sweep's thread alone calls it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/event.h"
#include "core/time.h"

namespace zdap::events {

struct ExpiringClone {
  std::string clone;
  std::string owner;
  std::string resource;
  std::string snapshot;
  std::optional<SystemTime> expires_at;  // nullopt = never
  bool is_protected = false;
};

class ExpiryNotices {
 public:
  // `warning` 0 = never announce.
  explicit ExpiryNotices(std::chrono::seconds warning) : warning_(warning) {}

  // The clone.expiring events due at `now` (not yet numbered: EventBus::Publish does that).
  std::vector<api::Event> Due(const std::vector<ExpiringClone>& clones, SystemTime now);

 private:
  std::chrono::seconds warning_;
  std::map<std::string, SystemTime> announced_;  // clone -> the expires_at announced
};

}  // namespace zdap::events
