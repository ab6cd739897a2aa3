// Session: one client connection and its connection to a target.
//
// Lifetime: owned by shared_ptrs held in its pending handlers (Boost.Beast example style); it
// ends, closing both sockets, when both directions have ended or on the first error. All its
// handlers run on the event loop (io_context, one thread) its client socket belongs to, so it
// needs no lock.
//
// Connect: the targets are tried in TargetSet::Plan order, each within the connect timeout; a
// failure is reported to the TargetSet (passive health) and the next target is tried. When
// none can be reached the client connection is closed at once. A target that completes the
// handshake during connect(2) itself, as local ones do, costs no timer and no trip through
// the event loop. Following a clone, every attempt goes to the resolver's current answer;
// after a failed one (or with no answer yet) the session first waits for a newer answer
// (CloneResolver::Refresh).
//
// Pump: two independent directions. Each waits for its source with an asynchronous read into
// a small buffer of its own (kFirstReadSize): a message that fits is written on from there,
// at once when the destination takes it, so a small round trip costs one read and one write
// per direction and no extra trip through the event loop. A read that fills the small buffer
// goes on in a 64 KiB buffer from the event loop's pool (BufferPool), read, write, read again,
// until a read comes up short (the socket is drained); then the pool buffer goes back and the
// direction waits again, so an idle connection holds no pool buffer. End of stream from one
// side is passed on as a shutdown(SHUT_WR) of the other, and the other direction keeps flowing
// until it ends too. With --pump splice the same happens through a pipe with splice(2), so the
// bytes never reach user space; pipes are pooled like buffers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "proxy/listener.h"

namespace zdap::proxy {

class Session : public std::enable_shared_from_this<Session> {
 public:
  using tcp = boost::asio::ip::tcp;

  static constexpr size_t kBufferSize = 64 * 1024;
  // Each direction waits for its source with a read into this much of its own memory, so
  // that a small message needs no pool buffer and no extra syscall.
  static constexpr size_t kFirstReadSize = 1024;

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
    std::array<char, kFirstReadSize> first;  // the pending read's target while waiting
    int chunks_this_turn = 0;
    Pipe pipe;
    size_t in_pipe = 0;  // bytes spliced into the pipe and not yet out of it
    bool ended = false;
    bool to_target;  // client -> target
  };

  void ConnectNext();
  // Following a clone: asks the resolver for a newer answer, then ConnectNext() again.
  void RefreshThenConnect(uint64_t generation);
  // Connects upstream_ to `to`, in this turn when the target answers at once (local targets),
  // else within the connect timeout; then OnConnected().
  void Connect(const tcp::endpoint& to);
  void WaitConnected(const tcp::endpoint& to);
  void ArmConnectTimer();
  void OnConnected(boost::system::error_code ec);
  void StartPump();
  // Waits for the source with a read into `first`; a short read is written on, a full one
  // goes on in a pool buffer.
  void WaitReadable(Direction* d);
  // Reads what is there into the pool buffer after `have` bytes already in it, then writes.
  void Read(Direction* d, size_t have);
  // Writes at once what the destination takes, the rest asynchronously; then waits when the
  // source was `drained` (its last read came up short), else reads on.
  void Write(Direction* d, const char* data, size_t n, bool drained);
  void AfterWrite(Direction* d, bool drained);
  // On an error: logs it ("read" from d's source or "write" to its destination), closes the
  // session and returns true.
  bool Failed(Direction* d, boost::system::error_code ec, std::string_view what);
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
