// BusyGuard: marks a clone id busy for the duration of one operation, so that two operations
// on one clone (destroy during create, two resets) do not interleave. Internal to the origin.
#pragma once

#include <mutex>
#include <set>
#include <string>

namespace zdap::origin {

class BusyGuard {
 public:
  BusyGuard(std::mutex& mu, std::set<std::string>& busy, std::string id)
      : mu_(mu), busy_(busy), id_(std::move(id)) {
    std::lock_guard lock(mu_);
    acquired_ = busy_.insert(id_).second;
  }
  ~BusyGuard() {
    if (!acquired_) return;
    std::lock_guard lock(mu_);
    busy_.erase(id_);
  }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  // False: another operation holds the id; this one must not proceed.
  bool acquired() const { return acquired_; }

 private:
  std::mutex& mu_;
  std::set<std::string>& busy_;
  std::string id_;
  bool acquired_ = false;
};

}  // namespace zdap::origin
