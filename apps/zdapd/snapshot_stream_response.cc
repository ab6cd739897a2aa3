#include "snapshot_stream_response.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/format.h>

#include "core/log.h"

namespace zdap::daemon {
namespace {

// What one read of the sender's pipe takes at most, and so one data frame's size.
constexpr size_t kReadChunk = 1u << 20;
// How often a producer blocked on a silent pipe looks whether the stream was cancelled.
constexpr int kPollMs = 200;

std::atomic<int> g_streams{0};

}  // namespace

Status SnapshotStreamResponse::Admit() {
  int n = g_streams.load();
  do {
    if (n >= kMaxStreams) {
      return Unavailable(fmt::format(
          "this origin already sends {} snapshot streams, its most at once; try again later", n));
    }
  } while (!g_streams.compare_exchange_weak(n, n + 1));
  return Status::Ok();
}

void SnapshotStreamResponse::Release() {
  g_streams.fetch_sub(1);
}

SnapshotStreamResponse::SnapshotStreamResponse(origin::SnapshotExport snapshot, std::string who)
    : snapshot_(std::move(snapshot)), who_(std::move(who)) {
  queue_.push_back(api::EncodeHeaderFrame(snapshot_.header));
  queued_bytes_ = queue_.back().size();
  producer_ = std::thread([this] { Produce(); });
}

SnapshotStreamResponse::~SnapshotStreamResponse() {
  cancelled_ = true;
  room_.notify_all();
  producer_.join();
  // snapshot_.sender goes with us: its destructor kills a child that still writes.
  Release();
}

bool SnapshotStreamResponse::Push(std::string frame) {
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return cancelled_ || queued_bytes_ < kMaxQueued; });
  if (cancelled_) return false;
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  lock.unlock();
  waker_->Wake();
  return true;
}

void SnapshotStreamResponse::Produce() {
  const auto started = std::chrono::steady_clock::now();
  const std::string& id = snapshot_.header.snapshot;
  api::Sha256 sha;
  uint64_t total = 0;
  int fd = snapshot_.sender->fd();
  std::string failure;
  std::string buffer(kReadChunk, '\0');  // one allocation for the whole stream
  for (;;) {
    if (cancelled_) return;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, kPollMs);
    if (ready < 0 && errno != EINTR) {
      failure = "poll on the sender's pipe failed";
      break;
    }
    if (ready <= 0) continue;
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      failure = "reading the sender's pipe failed";
      break;
    }
    if (n == 0) break;  // the sender closed its end: the payload is complete, or it failed
    const std::string_view data(buffer.data(), static_cast<size_t>(n));
    sha.Update(data);
    // Each frame holds exactly its bytes, so the queue's bound counts the memory it holds (a
    // short read into a 1 MiB frame would keep the whole 1 MiB allocated).
    std::string frame;
    frame.reserve(5 + data.size());
    api::AppendDataFrameHead(data.size(), &frame);
    frame.append(data);
    total += static_cast<uint64_t>(n);
    if (!Push(std::move(frame))) return;
  }
  Status finished = failure.empty() ? snapshot_.sender->Finish() : IoError(failure);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (finished.ok()) {
    Push(api::EncodeTrailerFrame(total, sha.HexDigest()));
    log::Info("snapshot {}: streamed to {}: {} bytes in {:.1f} s", id, who_, total, seconds);
  } else {
    // No trailer: the follower sees a cut stream and keeps nothing.
    log::Error("snapshot {}: stream to {} failed after {} bytes: {}", id, who_, total,
               finished.message());
  }
  {
    std::lock_guard lock(mu_);
    produced_ = true;
  }
  waker_->Wake();
}

std::string SnapshotStreamResponse::Next() {
  std::string out;
  {
    std::lock_guard lock(mu_);
    // A few frames at once: fewer, larger writes for the transport.
    while (!queue_.empty() && out.size() < 2 * kReadChunk) {
      queued_bytes_ -= queue_.front().size();
      if (out.empty()) {
        out = std::move(queue_.front());
      } else {
        out += queue_.front();
      }
      queue_.pop_front();
    }
  }
  room_.notify_all();
  return out;
}

bool SnapshotStreamResponse::ended() const {
  std::lock_guard lock(mu_);
  return produced_ && queue_.empty();
}

}  // namespace zdap::daemon
