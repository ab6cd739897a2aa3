// BusySet: the clone ids with an operation in flight, so that two operations on one clone
// (a destroy during a create, two resets, a claim and a pool trim) never interleave. Each
// operation holds a BusyGuard for its duration; one that cannot acquire it refuses (Conflict)
// or skips the clone. Internal to the origin. Thread-safe.
#pragma once

#include <mutex>
#include <set>
#include <string>

namespace zdap::origin {

class BusySet {
 public:
  BusySet() = default;
  BusySet(const BusySet&) = delete;
  BusySet& operator=(const BusySet&) = delete;

 private:
  friend class BusyGuard;
  std::mutex mu_;
  std::set<std::string> ids_;
};

class BusyGuard {
 public:
  BusyGuard(BusySet& set, std::string id) : set_(set), id_(std::move(id)) {
    std::lock_guard lock(set_.mu_);
    acquired_ = set_.ids_.insert(id_).second;
  }
  ~BusyGuard() {
    if (!acquired_) return;
    std::lock_guard lock(set_.mu_);
    set_.ids_.erase(id_);
  }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;
  // False: another operation holds the id; this one must not proceed.
  bool acquired() const { return acquired_; }

 private:
  BusySet& set_;
  std::string id_;
  bool acquired_ = false;
};

}  // namespace zdap::origin
