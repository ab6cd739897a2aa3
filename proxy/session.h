// Session: one client connection and its connection to a target.
//
// Lifetime: owned by shared_ptrs held in its pending handlers (Boost.Beast example style); it
// ends, closing both sockets, when both directions have ended or on the first error. All its
// handlers run on the event loop (io_context, one thread) its client socket belongs to, so it
// needs no lock.
//
// Connect: the targets are tried in TargetSet::Plan order, each within the connect timeout; a
// failure is reported to the TargetSet (passive health) and the next target is tried. When
// none can be reached the client connection is closed at once. Following a clone, every
// attempt goes to the resolver's current answer; after a failed one (or with no answer yet)
// the session first waits for a newer answer (CloneResolver::Refresh).
//
// Pump: two independent directions. Each waits until its source is readable, reads as much as
// is there into a buffer, writes all of it, and reads again at once; only when the source has
// nothing more does the buffer go back to the event loop's pool (BufferPool), so an idle
// connection holds no buffer and a busy one reuses the same buffer for every chunk. End of
// stream from one side is passed on as a shutdown(SHUT_WR) of the other, and the other
// direction keeps flowing until it ends too. With --pump splice the same happens through a
// pipe with splice(2), so the bytes never reach user space; pipes are pooled like buffers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "proxy/listener.h"

namespace zdap::proxy {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using tcp = boost::asio::ip::tcp;

  static constexpr size_t kBufferSize = 64 * 1024;

  // A pipe for the splice pump: read end, write end. Taken from the event loop's pool while
  // a direction moves data, given back when it is empty.
  struct Pipe {
    int r = -1;
    int w = -1;
  };

  Session(tcp::socket client, ListenerRuntime* listener, SessionTracker* tracker);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Must run on the client socket's executor.
  void Start();

 private:
  struct Direction {
    tcp::socket* from;
    tcp::socket* to;
    std::unique_ptr<char[]> buffer;
    Pipe pipe;
    size_t in_pipe = 0;  // bytes spliced into the pipe and not yet out of it
    bool ended = false;
    bool to_target;  // client -> target
  };

  void ConnectNext();
  // Following a clone: asks the resolver for a newer answer, then ConnectNext() again.
  void RefreshThenConnect(uint64_t generation);
  void OnConnected(boost::system::error_code ec);
  void StartPump();
  void Read(Direction* d);
  void WaitReadable(Direction* d);
  void Write(Direction* d, size_t n);
  // The splice pump: source -> pipe -> destination, waiting for readiness when either side
  // would block; a few chunks in a row, then the loop gets a turn.
  void Splice(Direction* d);
  bool SpliceOut(Direction* d);  // false: waiting for the destination, or closed
  void EndOfStream(Direction* d);
  void Count(Direction* d, size_t n);
  void ArmIdleTimer();
  void Close();

  tcp::socket client_;
  tcp::socket upstream_;
  tcp::resolver resolver_;
  boost::asio::steady_timer timer_;  // connect timeout, then idle timeout
  ListenerRuntime* const listener_;
  SessionTracker* const tracker_;

  std::vector<size_t> plan_;
  size_t attempt_ = 0;
  size_t target_ = SIZE_MAX;  // index of the connected target
  bool timed_out_ = false;
  bool refreshed_ = false;                   // following a clone: this attempt waited for an answer
  uint64_t generation_ = 0;                  // following a clone: the answer being tried
  uint64_t failed_generation_ = UINT64_MAX;  // ... and the last one that failed
  bool closed_ = false;
  int64_t last_activity_ms_ = 0;

  Direction up_;    // client -> target
  Direction down_;  // target -> client
};

}  // namespace zdap::proxy
