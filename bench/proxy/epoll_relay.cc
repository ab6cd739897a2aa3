// epoll_relay: a minimal TCP relay for bench/proxy only -- not a product, not used by zdap.
// It measures the best a user-space relay can do on this machine with the traits HAProxy has
// and Asio's reactor lacks: a read shorter than the buffer is taken as "drained" (no EAGAIN
// recv after every message; the next edge says when there is more), every ready socket is
// handled in the loop turn that reported it, and a connection costs two epoll_ctl in all.
//
//   epoll_relay [--threads N] [--busy-poll-us U] LISTEN_PORT:UPSTREAM_PORT...
//     N threads (default: one per core), each with its own SO_REUSEPORT listening socket per
//     pair on 127.0.0.1 and its own edge-triggered epoll set; each accepted connection goes to
//     127.0.0.1:UPSTREAM_PORT and is served by the thread that accepted it.
//     U > 0: after a turn with events a thread polls (epoll_wait with timeout 0) for up to U µs
//     before it blocks again, trading CPU for wakeups (the experiment on wakeups' cost).
//
// What it leaves out, on purpose: no half-close (the first end of stream or error on either
// side closes both, which a general TCP proxy must not do: it saves the wakeup for the
// client's own close), no timeouts, no health checks, no logging, loopback only. Each
// direction holds one bounded buffer; a partial write stops that direction's reads until
// EPOLLOUT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "loopback.h"

namespace {

constexpr size_t kBufferSize = 16 * 1024;
constexpr int kMaxEvents = 64;

void NoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// What an epoll event points at: a listening socket or one side of a connection.
struct Watched {
  bool is_listener;
};

struct Listener : Watched {
  int fd = -1;
  sockaddr_in upstream{};
};

struct Connection;

// One side's socket; direction `side` reads from it and writes to the other side's socket.
struct Side : Watched {
  Connection* connection = nullptr;
  int index = 0;
  int fd = -1;
  bool readable = false;  // an edge came and no short read or EAGAIN since
  bool watches_out = false;
};

// The bytes read from one side and not yet written to the other.
struct Direction {
  size_t offset = 0;
  size_t pending = 0;
  char buffer[kBufferSize];
};

struct Connection {
  Side side[2];  // 0: client, 1: upstream
  Direction from[2];
  bool connecting = false;
  bool closed = false;
};

class Loop {
 public:
  bool Start(const std::vector<std::pair<int, int>>& pairs);
  void Run(std::chrono::microseconds busy_poll);

 private:
  void Accept(Listener* l);
  void OnSide(Side* s, uint32_t events);
  void Finish(Connection* c);
  // Moves data from side `from` to the other side until it would block or the source is
  // drained; false when the connection was closed.
  bool Pump(Connection* c, int from);
  bool WatchOut(Side* s);
  void Close(Connection* c);

  int epoll_ = -1;
  std::vector<Listener> listeners_;
  std::vector<Connection*> dead_;  // closed in this turn, freed after its events
};

bool Loop::Start(const std::vector<std::pair<int, int>>& pairs) {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return false;
  listeners_.resize(pairs.size());  // never resized again: events point into it
  for (size_t i = 0; i < pairs.size(); ++i) {
    Listener& l = listeners_[i];
    l.is_listener = true;
    l.upstream = Loopback(pairs[i].second);
    l.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(l.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in a = Loopback(pairs[i].first);
    epoll_event ev{EPOLLIN | EPOLLET, {.ptr = &l}};
    if (l.fd < 0 || ::bind(l.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(l.fd, 4096) != 0 || ::epoll_ctl(epoll_, EPOLL_CTL_ADD, l.fd, &ev) != 0) {
      std::fprintf(stderr, "epoll_relay: listen 127.0.0.1:%d: %s\n", pairs[i].first,
                   std::strerror(errno));
      return false;
    }
  }
  return true;
}

void Loop::Run(std::chrono::microseconds busy_poll) {
  using Clock = std::chrono::steady_clock;
  epoll_event events[kMaxEvents];
  Clock::time_point poll_until{};  // while now is before it, epoll_wait does not block
  while (true) {
    bool polling = busy_poll.count() > 0 && Clock::now() < poll_until;
    int n = ::epoll_wait(epoll_, events, kMaxEvents, polling ? 0 : -1);
    if (n == 0) continue;
    if (busy_poll.count() > 0 && n > 0) poll_until = Clock::now() + busy_poll;
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "epoll_relay: epoll_wait: %s\n", std::strerror(errno));
      std::exit(1);
    }
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<Watched*>(events[i].data.ptr);
      if (w->is_listener) {
        Accept(static_cast<Listener*>(w));
      } else {
        OnSide(static_cast<Side*>(w), events[i].events);
      }
    }
    for (Connection* c : dead_) delete c;
    dead_.clear();
  }
}

void Loop::Accept(Listener* l) {
  while (true) {
    int client = ::accept4(l->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // EAGAIN: drained. Anything else (out of descriptors): this benchmark relay gives up on
      // the backlog until the next connection's edge.
      if (errno != EAGAIN) std::fprintf(stderr, "epoll_relay: accept: %s\n", std::strerror(errno));
      return;
    }
    NoDelay(client);
    int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (upstream < 0) {
      ::close(client);
      continue;
    }
    NoDelay(upstream);
    auto* to = reinterpret_cast<const sockaddr*>(&l->upstream);
    bool connecting = false;
    if (::connect(upstream, to, sizeof l->upstream) != 0) {
      // On loopback the handshake is done before connect returns EINPROGRESS: a second
      // connect says so (0 or EISCONN) and saves waiting for EPOLLOUT; EALREADY if it is not.
      bool ok = errno == EINPROGRESS;
      if (ok && ::connect(upstream, to, sizeof l->upstream) != 0 && errno != EISCONN) {
        ok = errno == EALREADY;
        connecting = ok;
      }
      if (!ok) {
        ::close(upstream);
        ::close(client);
        continue;
      }
    }
    auto* c = new Connection;
    c->connecting = connecting;
    for (int i = 0; i < 2; ++i) {
      Side& s = c->side[i];
      s.is_listener = false;
      s.connection = c;
      s.index = i;
      s.fd = i == 0 ? client : upstream;
    }
    // EPOLLOUT only while it is needed (a pending connect here, a partial write later): a
    // writable socket would otherwise report an edge at once and cost an epoll_wait turn.
    // Data already waiting on the client is reported by the ADD itself.
    epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLET, {.ptr = &c->side[0]}};
    epoll_event up{EPOLLIN | EPOLLRDHUP | EPOLLET | (connecting ? EPOLLOUT : 0u),
                   {.ptr = &c->side[1]}};
    c->side[1].watches_out = connecting;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, client, &ev) != 0 ||
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, upstream, &up) != 0) {
      Close(c);
    }
  }
}

void Loop::OnSide(Side* s, uint32_t events) {
  Connection* c = s->connection;
  if (c->closed) return;  // closed earlier in this turn
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->readable = true;
  if (c->connecting) {
    if (s->index == 0 || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Close(c);
      return;
    }
    c->connecting = false;
    Finish(c);
    return;
  }
  Finish(c);
}

// Both directions, each until it blocks or its source is drained.
void Loop::Finish(Connection* c) {
  if (Pump(c, 0)) Pump(c, 1);
}

bool Loop::WatchOut(Side* s) {
  if (s->watches_out) return true;
  s->watches_out = true;
  epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLET | EPOLLOUT, {.ptr = s}};
  return ::epoll_ctl(epoll_, EPOLL_CTL_MOD, s->fd, &ev) == 0;
}

bool Loop::Pump(Connection* c, int from) {
  Side& src = c->side[from];
  Side& dst = c->side[1 - from];
  Direction& d = c->from[from];
  while (true) {
    while (d.pending > 0) {
      ssize_t n = ::send(dst.fd, d.buffer + d.offset, d.pending, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN && WatchOut(&dst)) return true;  // the next EPOLLOUT goes on
        Close(c);
        return false;
      }
      d.offset += static_cast<size_t>(n);
      d.pending -= static_cast<size_t>(n);
    }
    if (!src.readable) return true;
    ssize_t n = ::recv(src.fd, d.buffer, kBufferSize, 0);
    if (n > 0) {
      d.offset = 0;
      d.pending = static_cast<size_t>(n);
      // The trait under test: a short read means the socket is empty; the next data brings an
      // edge of its own (edge-triggered epoll reports every arrival, not only the first).
      if (static_cast<size_t>(n) < kBufferSize) src.readable = false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      src.readable = false;
      return true;
    }
    Close(c);  // end of stream or error: both sides go (no half-close, see the top)
    return false;
  }
}

void Loop::Close(Connection* c) {
  if (c->closed) return;
  c->closed = true;
  ::close(c->side[0].fd);  // close also takes each socket out of the epoll set
  ::close(c->side[1].fd);
  dead_.push_back(c);
}

// The whole of `text` as a number in [lo, hi], or false.
bool ParseInt(std::string_view text, int lo, int hi, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: epoll_relay [--threads N (1-64)] [--busy-poll-us U (0-10000)] "
               "LISTEN_PORT:UPSTREAM_PORT...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1) threads = 1;
  std::chrono::microseconds busy_poll{0};
  std::vector<std::pair<int, int>> pairs;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      if (!ParseInt(argv[++i], 1, 64, &threads)) return Usage();
      continue;
    }
    if (a == "--busy-poll-us" && i + 1 < argc) {
      int us = 0;
      if (!ParseInt(argv[++i], 0, 10000, &us)) return Usage();
      busy_poll = std::chrono::microseconds(us);
      continue;
    }
    size_t colon = a.find(':');
    int listen_port = 0, upstream_port = 0;
    if (colon == std::string_view::npos || !ParseInt(a.substr(0, colon), 1, 65535, &listen_port) ||
        !ParseInt(a.substr(colon + 1), 1, 65535, &upstream_port)) {
      return Usage();
    }
    pairs.emplace_back(listen_port, upstream_port);
  }
  if (pairs.empty()) return Usage();
  std::vector<Loop> loops(static_cast<size_t>(threads));
  for (Loop& l : loops) {
    if (!l.Start(pairs)) return 1;
  }
  std::vector<std::thread> workers;
  for (size_t i = 1; i < loops.size(); ++i) {
    workers.emplace_back([&loops, i, busy_poll] { loops[i].Run(busy_poll); });
  }
  loops[0].Run(busy_poll);  // never returns; the benchmark ends the process with a signal
}
