// The one way tests pick TCP ports on 127.0.0.1, so that test processes running side by side
// (ctest -j, several worktrees on one machine) never hand the same port to two servers.
//
// Ports come from 20000-29999, below the kernel's ephemeral range (32768+), so that outgoing
// connections never take them. The range is cut into blocks of kPortBlockSize; a block belongs
// to the process holding an flock on /tmp/zdap-test-ports/<first>.lock (released on exit, even
// on a crash), and is taken only if every port in it binds right now. A block that is locked
// or has a busy port is skipped: the next one is tried, for a bounded number of attempts.
#pragma once

#include <vector>

namespace zdap::test {

constexpr int kPortBlockSize = 25;

// Consecutive ports reserved for this object's lifetime: one block, or for a count above
// kPortBlockSize (at most kMaxPortBlocks blocks' worth) as many adjacent blocks, each locked.
// Throws std::runtime_error when no free run of blocks is found.
constexpr int kMaxPortBlocks = 4;

class PortBlock {
 public:
  explicit PortBlock(int count = kPortBlockSize);
  ~PortBlock();
  PortBlock(const PortBlock&) = delete;
  PortBlock& operator=(const PortBlock&) = delete;

  int first() const { return first_; }
  int last() const { return first_ + count_ - 1; }
  int count() const { return count_; }

 private:
  int first_ = 0;
  int count_ = 0;
  std::vector<int> lock_fds_;
};

// One port reserved until this process exits (ports are taken from blocks this process
// keeps); each call returns a different port that binds right now.
int ReservePort();

// True if a TCP listener could bind 127.0.0.1:port right now (with SO_REUSEADDR, so that
// connections in TIME_WAIT do not count as busy, as for the servers the tests start).
bool PortBindable(int port);

}  // namespace zdap::test
