// Clone ports (SPEC: "allocated by binding, never reused while held"). A port is handed out
// only if this allocator does not hold it and a test bind() on it succeeds, so ports taken
// by unrelated programs are skipped instead of failing the server start.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "core/result.h"

namespace zdap::catalog {

class PortAllocator {
 public:
  PortAllocator(std::string bind_host, int first, int last)
      : bind_host_(std::move(bind_host)), first_(first), last_(last), next_(first) {}

  // Unavailable when every port of the range is held or busy.
  Result<int> Allocate();
  // Marks a port as held (recovery after a restart).
  void Hold(int port);
  void Release(int port);
  size_t held() const;
  int capacity() const { return last_ - first_ + 1; }

 private:
  bool CanBind(int port) const;
  std::string bind_host_;
  int first_, last_;
  mutable std::mutex mu_;
  std::set<int> held_;
  int next_;  // round-robin start, so a just-released port is not immediately reused
};

}  // namespace zdap::catalog
