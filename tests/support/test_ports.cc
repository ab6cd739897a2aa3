#include "support/test_ports.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace zdap::test {
namespace {

constexpr int kRangeFirst = 20000;
constexpr int kRangeEnd = 30000;  // exclusive
constexpr int kBlocks = (kRangeEnd - kRangeFirst) / kPortBlockSize;
constexpr const char* kLockDir = "/tmp/zdap-test-ports";

}  // namespace

bool PortBindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

PortBlock::PortBlock(int count) : count_(count) {
  if (count < 1 || count > kMaxPortBlocks * kPortBlockSize) {
    throw std::runtime_error("PortBlock: count must be 1.." +
                             std::to_string(kMaxPortBlocks * kPortBlockSize));
  }
  const int span = (count + kPortBlockSize - 1) / kPortBlockSize;  // adjacent blocks needed
  ::mkdir(kLockDir, 01777);
  // Start at a pid-dependent block so that concurrent processes rarely contend.
  int start = static_cast<int>(::getpid() % kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    int block = (start + i) % kBlocks;
    if (block + span > kBlocks) continue;  // a run of blocks does not wrap around the range
    int first = kRangeFirst + block * kPortBlockSize;
    std::vector<int> fds;
    bool all_free = true;
    for (int b = 0; b < span && all_free; ++b) {
      std::string lock =
          std::string(kLockDir) + "/" + std::to_string(first + b * kPortBlockSize) + ".lock";
      int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd < 0) {
        for (int held : fds) ::close(held);
        throw std::runtime_error("PortBlock: cannot open " + lock);
      }
      fds.push_back(fd);
      all_free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    }
    for (int p = first; p < first + count && all_free; ++p) all_free = PortBindable(p);
    if (!all_free) {
      for (int fd : fds) ::close(fd);
      continue;
    }
    first_ = first;
    lock_fds_ = std::move(fds);
    return;
  }
  throw std::runtime_error("PortBlock: no free run of " + std::to_string(count) +
                           " ports in 20000-29999");
}

PortBlock::~PortBlock() {
  for (int fd : lock_fds_) ::close(fd);
}

int ReservePort() {
  static std::mutex mu;
  static std::vector<std::unique_ptr<PortBlock>> blocks;
  static int next = 0;
  std::lock_guard<std::mutex> hold(mu);
  for (int attempts = 0; attempts < 4 * kPortBlockSize; ++attempts) {
    if (blocks.empty() || next > blocks.back()->last()) {
      blocks.push_back(std::make_unique<PortBlock>());
      next = blocks.back()->first();
    }
    int port = next++;
    if (PortBindable(port)) return port;
  }
  throw std::runtime_error("ReservePort: no bindable port in the blocks this process holds");
}

}  // namespace zdap::test
