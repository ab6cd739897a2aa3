// Scheduling precedence for threads that answer quick requests: they do little work, but when
// they wake (a request arrived) they should run before CPU-bound neighbours (database servers
// starting, compilers) finish their time slices.
#pragma once

#include <chrono>

#include "core/status.h"

namespace zdap {

// For the calling thread: asks the kernel for a short time slice (sched_setattr's sched_runtime,
// EEVDF: an earlier deadline on wakeup, not a larger CPU share) and a nice of `nice` (< 0 needs
// CAP_SYS_NICE; without it only the slice is set and the result says so). Processes this thread
// starts do not inherit either (SCHED_FLAG_RESET_ON_FORK).
Status PreferLowLatency(int nice, std::chrono::microseconds slice);

}  // namespace zdap
