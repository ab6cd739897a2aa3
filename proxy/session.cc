#include "proxy/session.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace zdap::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string PeerOf(const Session::tcp::socket& s) {
  error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                              : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace

namespace {

// Buffers of one event loop (one thread) that no direction holds right now. Bounded, so that a
// burst of traffic does not pin memory for ever.
class BufferPool {
 public:
  std::unique_ptr<char[]> Take() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(Session::kBufferSize);
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Give(std::unique_ptr<char[]> b) {
    if (b && free_.size() < kMaxFree) free_.push_back(std::move(b));
  }

 private:
  static constexpr size_t kMaxFree = 16;
  std::vector<std::unique_ptr<char[]>> free_;
};

thread_local BufferPool t_pool;

// Empty pipes of one event loop, for the splice pump; bounded like the buffers.
class PipePool {
 public:
  ~PipePool() {
    for (const Session::Pipe& p : free_) Close(p);
  }
  // False when no pipe can be made (out of descriptors).
  bool Take(Session::Pipe* p) {
    if (!free_.empty()) {
      *p = free_.back();
      free_.pop_back();
      return true;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    *p = Session::Pipe{fds[0], fds[1]};
    return true;
  }
  // An empty pipe goes back to the pool; one with data in it is closed.
  void Give(Session::Pipe* p, bool empty) {
    if (p->r < 0) return;
    if (empty && free_.size() < kMaxFree) {
      free_.push_back(*p);
    } else {
      Close(*p);
    }
    *p = Session::Pipe{};
  }

 private:
  static void Close(const Session::Pipe& p) {
    ::close(p.r);
    ::close(p.w);
  }
  static constexpr size_t kMaxFree = 16;
  std::vector<Session::Pipe> free_;
};

thread_local PipePool t_pipes;

}  // namespace

Session::Session(tcp::socket client, ListenerRuntime* listener, SessionTracker* tracker)
    : client_(std::move(client)),
      upstream_(client_.get_executor()),
      resolver_(client_.get_executor()),
      timer_(client_.get_executor()),
      listener_(listener),
      tracker_(tracker) {
  tracker_->Opened();
  listener_->stats.active.fetch_add(1, std::memory_order_relaxed);
  listener_->stats.accepted.fetch_add(1, std::memory_order_relaxed);
  up_.from = &client_;
  up_.to = &upstream_;
  up_.to_target = true;
  down_.from = &upstream_;
  down_.to = &client_;
  down_.to_target = false;
}

Session::~Session() {
  t_pipes.Give(&up_.pipe, up_.in_pipe == 0);
  t_pipes.Give(&down_.pipe, down_.in_pipe == 0);
  if (target_ != SIZE_MAX) {
    listener_->targets.at(target_).active.fetch_sub(1, std::memory_order_relaxed);
  }
  listener_->stats.active.fetch_sub(1, std::memory_order_relaxed);
  tracker_->Closed();
}

void Session::Start() {
  error_code ec;
  client_.set_option(tcp::no_delay(true), ec);
  // Before any wait on it: Asio then makes no ioctl of its own. The pump's reads and writes
  // on it are then non-blocking too.
  client_.non_blocking(true, ec);
  if (ec) {
    Close();
    return;
  }
  if (listener_->follow) {
    plan_.assign(static_cast<size_t>(listener_->config.retries) + 1, 0);
  } else {
    listener_->targets.Plan(static_cast<size_t>(listener_->config.retries) + 1, &plan_);
  }
  ConnectNext();
}

void Session::ConnectNext() {
  if (closed_) return;
  if (attempt_ >= plan_.size()) {
    listener_->stats.failed.fetch_add(1, std::memory_order_relaxed);
    log::Warn("{}: client {}: no target could be reached ({} tried); closing",
              listener_->config.name, PeerOf(client_), attempt_);
    Close();
    return;
  }
  const Target& target = listener_->targets.at(plan_[attempt_]);
  HostPort address_to_try = target.address;
  if (listener_->follow) {
    CloneResolver::Answer answer = listener_->follow->Current();
    bool stale = !answer.address || answer.generation == failed_generation_;
    if (stale && !refreshed_) {
      RefreshThenConnect(answer.generation);
      return;
    }
    refreshed_ = false;
    if (!answer.address) {  // no origin knows the clone (yet): this attempt is spent
      ++attempt_;
      ConnectNext();
      return;
    }
    address_to_try = *answer.address;
    generation_ = answer.generation;
  }
  if (attempt_ > 0) listener_->stats.retries.fetch_add(1, std::memory_order_relaxed);
  ++attempt_;
  timed_out_ = false;

  error_code ec;
  auto address = asio::ip::make_address(address_to_try.host, ec);
  if (!ec) {
    Connect(tcp::endpoint(address, address_to_try.port));
    return;
  }
  ArmConnectTimer();
  resolver_.async_resolve(
      address_to_try.host, std::to_string(address_to_try.port),
      [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
        if (ec || self->timed_out_ || self->closed_) {
          self->OnConnected(ec ? ec : asio::error::timed_out);
          return;
        }
        asio::async_connect(self->upstream_, results,
                            [self](error_code ec, const tcp::endpoint&) { self->OnConnected(ec); });
      });
}

void Session::ArmConnectTimer() {
  timer_.expires_after(listener_->config.connect_timeout);
  timer_.async_wait([self = shared_from_this(), attempt = attempt_](error_code ec) {
    if (ec || self->closed_ || self->target_ != SIZE_MAX || self->attempt_ != attempt) return;
    self->timed_out_ = true;
    self->resolver_.cancel();
    error_code ignored;
    self->upstream_.close(ignored);
  });
}

namespace {

// connect(2) once more on a socket whose connect is under way: 0 once it is established,
// EALREADY while it is not, or the connect's error.
error_code ConnectAgain(int fd, const Session::tcp::endpoint& to) {
  int rc;
  do {
    rc = ::connect(fd, to.data(), static_cast<socklen_t>(to.size()));
  } while (rc != 0 && errno == EINTR);
  if (rc == 0 || errno == EISCONN) return {};
  return error_code(errno, boost::system::system_category());
}

}  // namespace

void Session::Connect(const tcp::endpoint& to) {
  // Not Asio's async_connect: that always waits for writability (an epoll_ctl to add EPOLLOUT,
  // a loop turn, then poll and getsockopt). A second connect(2) right after EINPROGRESS tells
  // whether the handshake is already done, which on loopback and other local targets it
  // is: the session goes on in the same turn, with no timer armed. Otherwise the socket is
  // waited on within the connect timeout and asked again.
  error_code ec;
  upstream_.open(to.protocol(), ec);
  if (!ec) upstream_.non_blocking(true, ec);  // before any wait: Asio then sets no flag itself
  if (ec) {
    OnConnected(ec);
    return;
  }
  int fd = upstream_.native_handle();
  if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) == 0) {
    OnConnected({});
    return;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    OnConnected(error_code(errno, boost::system::system_category()));
    return;
  }
  ec = ConnectAgain(fd, to);
  if (ec != asio::error::already_started && ec != asio::error::in_progress) {
    OnConnected(ec);
    return;
  }
  ArmConnectTimer();
  WaitConnected(to);
}

void Session::WaitConnected(const tcp::endpoint& to) {
  upstream_.async_wait(tcp::socket::wait_write, [self = shared_from_this(), to](error_code ec) {
    if (self->closed_) return;
    if (ec || self->timed_out_) {
      self->OnConnected(ec);
      return;
    }
    ec = ConnectAgain(self->upstream_.native_handle(), to);
    if (ec == asio::error::already_started) {  // woken before the handshake ended
      self->WaitConnected(to);
      return;
    }
    self->OnConnected(ec);
  });
}

void Session::OnConnected(error_code ec) {
  if (closed_) return;
  size_t index = plan_[attempt_ - 1];
  if (timed_out_ && !ec) ec = asio::error::timed_out;
  if (timed_out_ && ec == asio::error::operation_aborted) ec = asio::error::timed_out;
  if (ec) {
    failed_generation_ = generation_;
    listener_->targets.ReportConnectFailure(index);
    log::Warn("{}: connect to {} failed: {}", listener_->config.name,
              listener_->targets.at(index).label, ec.message());
    timer_.cancel();
    error_code ignored;
    upstream_.close(ignored);
    upstream_ = tcp::socket(client_.get_executor());
    ConnectNext();
    return;
  }
  timer_.cancel();
  target_ = index;
  listener_->targets.ReportConnectSuccess(index);
  listener_->targets.at(index).active.fetch_add(1, std::memory_order_relaxed);
  upstream_.set_option(tcp::no_delay(true), ec);
  if (log::GetLevel() <= log::Level::kDebug) {  // PeerOf costs a getpeername
    log::Debug("{}: client {} -> {}", listener_->config.name, PeerOf(client_),
               listener_->targets.at(index).label);
  }
  StartPump();
}

void Session::RefreshThenConnect(uint64_t generation) {
  refreshed_ = true;
  // The callback runs on the resolver's thread: hand the session back to its own loop.
  listener_->follow->Refresh(generation, [self = shared_from_this()] {
    asio::post(self->client_.get_executor(), [self] { self->ConnectNext(); });
  });
}

void Session::StartPump() {
  // Both sockets are non-blocking already (Start, Connect; a resolved host's socket by Asio's
  // connect, which left the user flag unset).
  error_code ec;
  if (!upstream_.non_blocking()) upstream_.non_blocking(true, ec);
  if (ec) {
    Close();
    return;
  }
  if (listener_->config.idle_timeout.count() > 0) {
    last_activity_ms_ = SteadyNowMs();
    ArmIdleTimer();
  }
  if (listener_->config.pump == Pump::kSplice) {
    Splice(&up_);
    Splice(&down_);
    return;
  }
  WaitReadable(&up_);
  WaitReadable(&down_);
}

void Session::Count(Direction* d, size_t n) {
  Target& t = listener_->targets.at(target_);
  (d->to_target ? t.bytes_to_target : t.bytes_from_target).fetch_add(n, std::memory_order_relaxed);
  if (listener_->config.idle_timeout.count() > 0) last_activity_ms_ = SteadyNowMs();
}

void Session::EndOfStream(Direction* d) {
  // Half-close: pass the end of stream on, keep the other direction flowing.
  d->ended = true;
  t_pool.Give(std::move(d->buffer));
  t_pipes.Give(&d->pipe, d->in_pipe == 0);
  error_code ignored;
  d->to->shutdown(tcp::socket::shutdown_send, ignored);
  if (up_.ended && down_.ended) Close();
}

void Session::Splice(Direction* d) {
  constexpr int kChunksPerTurn = 16;
  constexpr size_t kMaxChunk = 1 << 20;  // the pipe's capacity limits each call anyway
  for (int chunk = 0; chunk < kChunksPerTurn; ++chunk) {
    if (closed_) return;
    if (d->pipe.r < 0 && !t_pipes.Take(&d->pipe)) {
      log::Warn("{}: cannot make a pipe: {}", listener_->config.name, std::strerror(errno));
      Close();
      return;
    }
    ssize_t n = ::splice(d->from->native_handle(), nullptr, d->pipe.w, nullptr, kMaxChunk,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) {
      EndOfStream(d);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        // The pipe is empty here (every chunk is written out before the next is read), so the
        // source has nothing: give the pipe back while waiting, like the buffer.
        t_pipes.Give(&d->pipe, true);
        d->from->async_wait(tcp::socket::wait_read, [self = shared_from_this(), d](error_code ec) {
          if (self->closed_) return;
          if (ec) {
            self->Close();
            return;
          }
          self->Splice(d);
        });
        return;
      }
      log::Debug("{}: {} splice in: {}", listener_->config.name, d->to_target ? "client" : "target",
                 std::strerror(errno));
      Close();
      return;
    }
    d->in_pipe = static_cast<size_t>(n);
    Count(d, static_cast<size_t>(n));
    if (!SpliceOut(d)) return;
  }
  asio::post(client_.get_executor(), [self = shared_from_this(), d] {
    if (!self->closed_) self->Splice(d);
  });
}

bool Session::SpliceOut(Direction* d) {
  while (d->in_pipe > 0) {
    ssize_t m = ::splice(d->pipe.r, nullptr, d->to->native_handle(), nullptr, d->in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (m > 0) {
      d->in_pipe -= static_cast<size_t>(m);
      continue;
    }
    if (m < 0 && errno == EINTR) continue;
    if (m < 0 && errno == EAGAIN) {
      d->to->async_wait(tcp::socket::wait_write, [self = shared_from_this(), d](error_code ec) {
        if (self->closed_) return;
        if (ec) {
          self->Close();
          return;
        }
        if (self->SpliceOut(d)) self->Splice(d);
      });
      return false;
    }
    log::Debug("{}: {} splice out: {}", listener_->config.name, d->to_target ? "target" : "client",
               m < 0 ? std::strerror(errno) : "no progress");
    Close();
    return false;
  }
  return true;
}

void Session::WaitReadable(Direction* d) {
  // Asio reads speculatively only while its last read filled the buffer or an edge has come
  // since, so after a short read this costs no syscall (a wait would cost an epoll_ctl, and
  // reading until EAGAIN a recv): two syscalls per message, read and write, as in HAProxy.
  t_pool.Give(std::move(d->buffer));
  d->chunks_this_turn = 0;
  d->from->async_read_some(asio::buffer(d->first.data(), d->first.size()),
                           [self = shared_from_this(), d](error_code ec, size_t n) {
                             if (self->closed_) return;
                             if (ec == asio::error::eof) {
                               self->EndOfStream(d);
                               return;
                             }
                             if (self->Failed(d, ec, "read")) return;
                             self->Count(d, n);
                             if (n < d->first.size()) {
                               self->Write(d, d->first.data(), n, /*drained=*/true);
                               return;
                             }
                             // More may be waiting: go on in a pool buffer.
                             d->buffer = t_pool.Take();
                             std::memcpy(d->buffer.get(), d->first.data(), n);
                             self->Read(d, n);
                           });
}

void Session::Read(Direction* d, size_t have) {
  if (!d->buffer) d->buffer = t_pool.Take();
  error_code ec;
  size_t space = kBufferSize - have;
  size_t n = d->from->read_some(asio::buffer(d->buffer.get() + have, space), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    if (have > 0) {
      Write(d, d->buffer.get(), have, /*drained=*/true);
    } else {
      WaitReadable(d);
    }
    return;
  }
  if (ec == asio::error::eof) {
    // What came before the end goes out first; the next read sees the end again.
    if (have > 0) {
      Write(d, d->buffer.get(), have, /*drained=*/false);
    } else {
      EndOfStream(d);
    }
    return;
  }
  if (Failed(d, ec, "read")) return;
  Count(d, n);
  // A read that did not fill the space emptied the socket's receive queue. Yet after a large
  // chunk more is usually on its way (a bulk transfer): reading on then saves a round through
  // the small buffer.
  constexpr size_t kLargeChunk = kBufferSize / 4;
  Write(d, d->buffer.get(), have + n, /*drained=*/n < space && have + n < kLargeChunk);
}

void Session::Write(Direction* d, const char* data, size_t n, bool drained) {
  // Written at once when the socket takes it (the usual case): no trip through the event loop.
  error_code ec;
  size_t written = d->to->write_some(asio::buffer(data, n), ec);
  if (!ec && written == n) {
    AfterWrite(d, drained);
    return;
  }
  if (ec != asio::error::would_block && ec != asio::error::try_again && Failed(d, ec, "write")) {
    return;
  }
  asio::async_write(*d->to, asio::buffer(data + written, n - written),
                    [self = shared_from_this(), d, drained](error_code ec, size_t) {
                      if (self->closed_ || self->Failed(d, ec, "write")) return;
                      self->AfterWrite(d, drained);
                    });
}

bool Session::Failed(Direction* d, error_code ec, std::string_view what) {
  if (!ec) return false;
  bool from_client = d->to_target == (what == "read");
  log::Debug("{}: {} {}: {}", listener_->config.name, from_client ? "client" : "target", what,
             ec.message());
  Close();
  return true;
}

void Session::AfterWrite(Direction* d, bool drained) {
  if (drained) {
    WaitReadable(d);
    return;
  }
  // A busy source: read on, but let the loop's other sessions have a turn now and then.
  constexpr int kChunksPerTurn = 16;
  if (++d->chunks_this_turn < kChunksPerTurn) {
    Read(d, 0);
    return;
  }
  d->chunks_this_turn = 0;
  asio::post(client_.get_executor(), [self = shared_from_this(), d] {
    if (!self->closed_) self->Read(d, 0);
  });
}

void Session::ArmIdleTimer() {
  auto idle = std::chrono::milliseconds(listener_->config.idle_timeout);
  int64_t due = last_activity_ms_ + idle.count();
  int64_t now = SteadyNowMs();
  timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(due - now, 1)));
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->closed_) return;
    int64_t since = SteadyNowMs() - self->last_activity_ms_;
    if (since >= self->listener_->config.idle_timeout.count()) {
      self->listener_->stats.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
      log::Info("{}: closing a connection idle for {}ms", self->listener_->config.name, since);
      self->Close();
      return;
    }
    self->ArmIdleTimer();
  });
}

void Session::Close() {
  if (closed_) return;
  closed_ = true;
  // The buffers stay with the session until it is destroyed: an aborted write may still be
  // queued with one of them.
  error_code ignored;
  timer_.cancel();
  resolver_.cancel();
  client_.close(ignored);
  upstream_.close(ignored);
}

}  // namespace zdap::proxy
