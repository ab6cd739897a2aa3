#include "core/latency_hint.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace zdap {
namespace {

// <linux/sched/types.h> clashes with glibc's <sched.h>; this is its first version (48 bytes).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
constexpr uint32_t kSchedOther = 0;
constexpr uint64_t kResetOnFork = 0x01;

int SetAttr(int nice, std::chrono::microseconds slice) {
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = kSchedOther;
  attr.sched_flags = kResetOnFork;
  attr.sched_nice = nice;
  attr.sched_runtime = static_cast<uint64_t>(slice.count()) * 1000;
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : errno;
}

}  // namespace

Status PreferLowLatency(int nice, std::chrono::microseconds slice) {
  int err = SetAttr(nice, slice);
  if (err == EPERM && nice < 0) {
    err = SetAttr(0, slice);
    if (err == 0) {
      return Status(
          Code::kPermissionDenied,
          "a negative nice needs CAP_SYS_NICE; the answering threads only got a short slice");
    }
  }
  if (err != 0) return ErrnoError("sched_setattr", err);
  return Status::Ok();
}

}  // namespace zdap
