// The answer to GET /v1/resources/{r}/snapshots/{id}/stream (issue 23): the store's sender
// (a `btrfs send` or tar+zstd child on a pipe) framed as api/snapshot_stream.h says, written
// by the transport as it comes. A thread of its own reads the pipe, hashes and frames what it
// reads and queues it, at most kMaxQueued bytes ahead of the transport: memory stays bounded
// whatever the snapshot's size, and a slow follower slows the sender down (back pressure
// through the pipe). The trailer with the digest goes out only when the sender exited 0;
// otherwise the connection ends without one, which the follower reports as a cut stream.
// Destroyed when the connection ends (the follower went away, or zdapd drains): the thread
// stops and the sender's child is killed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "event_stream.h"
#include "origin/snapshot_export.h"

namespace zdap::daemon {

class SnapshotStreamResponse : public ResponseStream {
 public:
  static constexpr size_t kMaxQueued = 8u << 20;

  // Streams served at once, by every SnapshotStreamResponse of this process: each holds a
  // `btrfs send` or tar child, a thread and up to kMaxQueued bytes.
  static constexpr int kMaxStreams = 4;
  // Counts a stream in, or says how many run when kMaxStreams already do (Unavailable).
  static Status Admit();
  // Counts out a stream that was admitted but not made (its export failed).
  static void Release();

  // `who`: the follower, for the log lines. Only after Admit() succeeded: the destructor
  // counts the stream out.
  SnapshotStreamResponse(origin::SnapshotExport snapshot, std::string who);
  ~SnapshotStreamResponse() override;

  void SetWake(std::function<void()> wake) override { waker_->Set(std::move(wake)); }
  std::string Next() override;
  bool ended() const override;
  std::string Heartbeat() override { return ""; }  // a stream has no comments: bytes or nothing

 private:
  void Produce();
  // Queues `frame` once there is room for it; false when the stream was cancelled meanwhile.
  bool Push(std::string frame);

  origin::SnapshotExport snapshot_;
  std::string who_;
  std::shared_ptr<Waker> waker_ = std::make_shared<Waker>();
  mutable std::mutex mu_;
  std::condition_variable room_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool produced_ = false;  // the producer has queued its last frame
  std::atomic<bool> cancelled_{false};
  std::thread producer_;
};

}  // namespace zdap::daemon
