// The child processes behind SnapshotSender and SnapshotReceiver (driver.h), shared by the
// tar.zst default of every driver and by btrfs send/receive. Internal to the storage layer.
//
// Each child runs in its own process group (so that killing it takes tar's zstd along) and
// dies with zdapd (PR_SET_PDEATHSIG). Its stderr is read by a thread of the stream object,
// which keeps the last lines for error messages: a child that writes more warnings than a
// pipe holds must not block while the caller is busy moving data.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/driver.h"

namespace zdap::storage {

inline constexpr std::string_view kStreamTarZstd = "tar.zst";
inline constexpr std::string_view kStreamBtrfs = "btrfs";

// `tar --create` of the directory `path` into a zstd-compressed stream; `size_hint` as
// SnapshotSender::size_hint.
Result<std::unique_ptr<SnapshotSender>> StartTarSender(const std::string& path, uint64_t size_hint);
// `tar --extract` of a tar.zst stream into the existing empty directory `dir`.
std::vector<std::string> TarReceiveCommand(const std::string& dir);

// Starts `argv` with its stdout on a pipe whose read end the sender hands out.
Result<std::unique_ptr<SnapshotSender>> StartSender(std::vector<std::string> argv,
                                                    uint64_t size_hint);

// What a receiver does around its child, given by the driver that starts it (which must
// outlive the receiver).
struct ReceiveSteps {
  // After the child exited 0: checks what it made and renames it to volumes/<volume>. On
  // error `discard` runs next, so it may leave things half done.
  std::function<Status()> publish;
  // After a failure, or when the receiver is dropped without Finish (the child is dead
  // then): removes everything the child or `publish` made. Errors are logged, not returned:
  // Recover removes what is left on the next open.
  std::function<void()> discard;
};
// Starts `argv` with its stdin on a pipe whose write end the receiver hands out. If the
// start fails, `steps.discard` runs before the error is returned.
Result<std::unique_ptr<SnapshotReceiver>> StartReceiver(std::vector<std::string> argv,
                                                        ReceiveSteps steps);

}  // namespace zdap::storage
