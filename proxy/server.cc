#include "proxy/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "proxy/health_check.h"
#include "proxy/listener.h"
#include "proxy/metrics.h"
#include "proxy/session.h"

namespace zdap::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

HostPort ToHostPort(const tcp::endpoint& ep) {
  return HostPort{ep.address().to_string(), ep.port()};
}

// Opens, binds and listens. An empty host means every interface: IPv6 and IPv4 when the host
// has IPv6, else IPv4. With `share_port` the socket sets SO_REUSEPORT, so that more sockets of
// this process can be bound to the same address (Share).
Status Listen(tcp::acceptor* acceptor, const HostPort& address, bool share_port = false) {
  std::vector<tcp::endpoint> candidates;
  error_code ec;
  if (address.host.empty()) {
    candidates.emplace_back(tcp::v6(), address.port);
    candidates.emplace_back(tcp::v4(), address.port);
  } else if (auto ip = asio::ip::make_address(address.host, ec); !ec) {
    candidates.emplace_back(ip, address.port);
  } else {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(address.host, std::to_string(address.port), ec);
    if (ec) {
      return Unavailable(fmt::format("listen {}: {}", address.ToString(), ec.message()));
    }
    for (const auto& r : results) candidates.push_back(r.endpoint());
  }
  std::string last_error = "no address";
  for (const tcp::endpoint& ep : candidates) {
    error_code ec;
    acceptor->open(ep.protocol(), ec);
    if (ec) {
      last_error = ec.message();
      continue;
    }
    if (ep.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(false), ec);
    acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (share_port) {
      int one = 1;
      if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
          0) {
        ec = error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) return Status::Ok();
    last_error = ec.message();
    error_code ignored;
    acceptor->close(ignored);
  }
  return Unavailable(fmt::format("listen {}: {}", address.ToString(), last_error));
}

// Binds the listening sockets of one listener, one per event loop, to the same address with
// SO_REUSEPORT: the kernel spreads new connections over them, so each loop accepts and serves
// its own and no session is handed from one thread to another (a wakeup and an epoll_ctl
// each). The address is first bound once without SO_REUSEPORT, so that a port held by anyone
// else (a second zdap-proxyd too) is refused as before instead of shared.
Status ListenShared(const std::vector<tcp::acceptor*>& acceptors, const HostPort& address) {
  if (acceptors.size() == 1) return Listen(acceptors[0], address);
  HostPort bound = address;
  {
    tcp::acceptor probe(acceptors[0]->get_executor());
    ZDAP_RETURN_IF_ERROR(Listen(&probe, address));
    error_code ec;
    bound.port = probe.local_endpoint(ec).port();  // port 0: the kernel's choice, for all
    if (ec) return Unavailable(fmt::format("listen {}: {}", address.ToString(), ec.message()));
  }
  for (tcp::acceptor* a : acceptors) {
    Status st = Listen(a, bound, /*share_port=*/true);
    if (!st.ok()) {
      error_code ignored;
      for (tcp::acceptor* b : acceptors) b->close(ignored);
      return st;
    }
  }
  return Status::Ok();
}

bool IsResourceExhaustion(const error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

// One HTTP/1.x request on the metrics port: GET /metrics or GET /healthz, then close. Beast
// parses the request (headers limited to 8 KiB, no body); this is the only file that includes
// it in zdap-proxyd.
class MetricsConnection : public std::enable_shared_from_this<MetricsConnection> {
 public:
  MetricsConnection(tcp::socket socket, std::function<std::string()> render,
                    std::function<bool()> healthy)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        render_(std::move(render)),
        healthy_(std::move(healthy)) {}

  void Start() {
    timer_.expires_after(std::chrono::seconds(5));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) {
        error_code ignored;
        self->socket_.close(ignored);
      }
    });
    parser_.header_limit(8192);
    parser_.body_limit(0);
    http::async_read(socket_, buffer_, parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->OnRequest(ec); });
  }

 private:
  void OnRequest(error_code ec) {
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      Respond(http::status::payload_too_large, "too large\n");
      return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      Respond(http::status::bad_request, "bad request\n");
      return;
    }
    if (ec) {
      timer_.cancel();
      return;
    }
    const auto& req = parser_.get();
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      Respond(http::status::method_not_allowed, "only GET\n");
      return;
    }
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/metrics") {
      Respond(http::status::ok, render_(), "text/plain; version=0.0.4; charset=utf-8");
    } else if (path == "/healthz" || path == "/") {
      bool ok = healthy_();
      Respond(ok ? http::status::ok : http::status::service_unavailable,
              ok ? "ok\n" : "no healthy target\n");
    } else {
      Respond(http::status::not_found, "not found\n");
    }
  }

  void Respond(http::status status, std::string body,
               std::string_view type = "text/plain; charset=utf-8") {
    response_.result(status);
    response_.version(11);
    response_.set(http::field::content_type, type);
    response_.keep_alive(false);
    response_.body() = std::move(body);
    response_.prepare_payload();
    http::async_write(socket_, response_, [self = shared_from_this()](error_code, size_t) {
      error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->socket_.close(ignored);
      self->timer_.cancel();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> response_;
  std::function<std::string()> render_;
  std::function<bool()> healthy_;
};

struct Server::Impl {
  // One listening socket of a listener, on one event loop: the sessions it accepts run there.
  // A listener has one slot per event loop, all bound to its address (ListenShared).
  struct Slot {
    Slot(asio::io_context& io, ListenerRuntime* r) : acceptor(io), backoff(io), runtime(r) {}
    tcp::acceptor acceptor;
    asio::steady_timer backoff;  // after EMFILE and the like; on the slot's loop
    ListenerRuntime* runtime;
  };

  explicit Impl(ProxyConfig c) : config(std::move(c)) {
    for (const ListenerConfig& l : config.listeners) {
      listeners.push_back(std::make_unique<ListenerRuntime>(l));
    }
    size_t n = config.threads > 0 ? static_cast<size_t>(config.threads)
                                  : std::max(1u, std::thread::hardware_concurrency());
    for (size_t i = 0; i < n; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
    for (auto& io : contexts) work.push_back(asio::make_work_guard(*io));
    for (auto& l : listeners) {
      auto& per_loop = slots.emplace_back();
      for (auto& io : contexts) per_loop.push_back(std::make_unique<Slot>(*io, l.get()));
    }
    metrics_acceptor = std::make_unique<tcp::acceptor>(main());
    drain_timer = std::make_unique<asio::steady_timer>(main());
    signals = std::make_unique<asio::signal_set>(main());
  }

  ~Impl() {
    // Pending handlers hold sessions, which use the listeners and the tracker: destroy the
    // event loops (and with them every session) while those still exist.
    stopped.store(true);
    // Resolver callbacks post to the event loops: end them before the loops go.
    for (auto& l : listeners) {
      if (l->follow) l->follow->Stop();
    }
    signals.reset();
    drain_timer.reset();
    metrics_acceptor.reset();
    slots.clear();
    checkers.clear();
    work.clear();
    contexts.clear();
  }

  asio::io_context& main() { return *contexts[0]; }

  // Runs on the slot's event loop, as do the sessions it starts.
  void Accept(Slot* slot) {
    slot->acceptor.async_accept([this, slot](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !slot->acceptor.is_open()) return;
      if (ec) {
        log::Warn("{}: accept: {}", slot->runtime->config.name, ec.message());
        if (IsResourceExhaustion(ec)) {
          slot->backoff.expires_after(std::chrono::milliseconds(100));
          slot->backoff.async_wait([this, slot](error_code ec) {
            if (!ec) Accept(slot);
          });
          return;
        }
        Accept(slot);
        return;
      }
      std::make_shared<Session>(std::move(socket), slot->runtime, &tracker)->Start();
      Accept(slot);
    });
  }

  void AcceptMetrics() {
    metrics_acceptor->async_accept([this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !metrics_acceptor->is_open()) return;
      if (!ec) {
        std::make_shared<MetricsConnection>(
            std::move(socket), [this] { return Render(); }, [this] { return Healthy(); })
            ->Start();
      }
      AcceptMetrics();
    });
  }

  std::string Render() const {
    std::vector<ListenerView> views;
    for (const auto& l : listeners) views.push_back({l->config.name, &l->stats, &l->targets});
    return RenderMetrics(views);
  }

  // Healthy when every listener has a target it would use.
  bool Healthy() const {
    for (const auto& l : listeners) {
      if (l->targets.UpCount() == 0) return false;
    }
    return true;
  }

  void WaitSignal() {
    signals->async_wait([this](error_code ec, int sig) {
      if (ec) return;
      log::Info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      BeginShutdown();
      WaitSignal();
    });
  }

  void BeginShutdown() {
    if (shutting_down) {
      log::Warn("second stop request: closing {} open connections now", tracker.open());
      StopAll();
      return;
    }
    shutting_down = true;
    error_code ignored;
    metrics_acceptor->close(ignored);
    for (auto& c : checkers) c->Stop();
    // Each listener is closed on its own event loop. The drain starts, and says "no new
    // connections", once all of them are closed: a client that connects after the line is
    // refused (a test connects right then).
    size_t listeners = 0;
    for (auto& per_loop : slots) listeners += per_loop.size();
    if (listeners == 0) {
      Drain();
      return;
    }
    auto pending = std::make_shared<std::atomic<size_t>>(listeners);
    for (auto& per_loop : slots) {
      for (auto& s : per_loop) {
        asio::post(s->acceptor.get_executor(), [this, s = s.get(), pending] {
          error_code ignored;
          s->acceptor.close(ignored);
          s->backoff.cancel();
          if (pending->fetch_sub(1) == 1) asio::post(main(), [this] { Drain(); });
        });
      }
    }
  }

  // The listeners are closed: wait for the open connections, up to the drain timeout.
  void Drain() {
    if (stopped.load()) return;  // a second stop request came first
    int64_t open = tracker.open();
    log::Info("stopping: no new connections; {} open, waiting up to {} for them to finish", open,
              FormatDurationMillis(config.drain_timeout));
    bool none = tracker.SetDraining([this] {
      if (!stopped.load()) asio::post(main(), [this] { StopAll(); });
    });
    if (none) {
      StopAll();
      return;
    }
    drain_timer->expires_after(config.drain_timeout);
    drain_timer->async_wait([this](error_code ec) {
      if (ec) return;
      log::Warn("drain deadline reached: closing {} open connections", tracker.open());
      StopAll();
    });
  }

  void StopAll() {
    if (stopped.exchange(true)) return;
    for (auto& w : work) w.reset();
    for (auto& io : contexts) io->stop();
  }

  ProxyConfig config;
  std::vector<std::unique_ptr<ListenerRuntime>> listeners;
  SessionTracker tracker;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::vector<std::unique_ptr<Slot>>> slots;  // [listener][event loop]
  std::vector<std::shared_ptr<HealthChecker>> checkers;
  std::unique_ptr<tcp::acceptor> metrics_acceptor;
  std::unique_ptr<asio::steady_timer> drain_timer;
  std::unique_ptr<asio::signal_set> signals;
  bool shutting_down = false;  // main loop only
  std::atomic<bool> stopped{false};
  bool bound = false;
};

Server::Server(ProxyConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;

Status Server::Bind() {
  for (auto& per_loop : impl_->slots) {
    std::vector<tcp::acceptor*> acceptors;
    for (auto& slot : per_loop) acceptors.push_back(&slot->acceptor);
    ZDAP_RETURN_IF_ERROR(ListenShared(acceptors, per_loop[0]->runtime->config.listen));
  }
  if (impl_->config.metrics) {
    ZDAP_RETURN_IF_ERROR(Listen(impl_->metrics_acceptor.get(), *impl_->config.metrics));
  }
  impl_->bound = true;
  return Status::Ok();
}

std::vector<HostPort> Server::listen_addresses() const {
  std::vector<HostPort> out;
  for (auto& per_loop : impl_->slots) {
    error_code ec;
    auto ep = per_loop[0]->acceptor.local_endpoint(ec);
    if (!ec) out.push_back(ToHostPort(ep));
  }
  return out;
}

std::optional<HostPort> Server::metrics_address() const {
  if (!impl_->metrics_acceptor->is_open()) return std::nullopt;
  error_code ec;
  auto ep = impl_->metrics_acceptor->local_endpoint(ec);
  if (ec) return std::nullopt;
  return ToHostPort(ep);
}

Status Server::Run(bool handle_signals) {
  Impl& s = *impl_;
  if (!s.bound) ZDAP_RETURN_IF_ERROR(Bind());
  if (handle_signals) {
    s.signals->add(SIGTERM);
    s.signals->add(SIGINT);
    s.WaitSignal();
  }
  for (auto& l : s.listeners) {
    if (l->config.check.kind == CheckKind::kNone) continue;
    for (size_t i = 0; i < l->targets.size(); ++i) {
      auto c = std::make_shared<HealthChecker>(s.main().get_executor(), l.get(), i);
      s.checkers.push_back(c);
      asio::post(s.main(), [c] { c->Start(); });
    }
  }
  for (auto& per_loop : s.slots) {
    Impl::Slot* slot = per_loop[0].get();
    const ListenerConfig& c = slot->runtime->config;
    std::string targets;
    for (const HostPort& t : c.targets) targets += (targets.empty() ? "" : ", ") + t.ToString();
    if (c.clone) {
      targets = fmt::format("clone {} (asking", c.clone->id);
      for (const std::string& o : c.clone->origins) targets += " " + o;
      targets += ")";
      slot->runtime->follow->Start();
    }
    error_code ec;
    auto ep = slot->acceptor.local_endpoint(ec);
    log::Info("listening on {} -> {} (balance {}, check {})",
              ec ? c.listen.ToString() : ToHostPort(ep).ToString(), targets, BalanceName(c.balance),
              CheckKindName(c.check.kind));
    for (auto& p : per_loop) {
      asio::post(p->acceptor.get_executor(), [&s, p = p.get()] { s.Accept(p); });
    }
  }
  if (s.metrics_acceptor->is_open()) {
    log::Info("metrics on http://{}/metrics", metrics_address()->ToString());
    asio::post(s.main(), [&s] { s.AcceptMetrics(); });
  }

  std::vector<std::thread> threads;
  for (size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([io = s.contexts[i].get()] { io->run(); });
  }
  s.main().run();
  for (auto& t : threads) t.join();
  log::Info("stopped");
  return Status::Ok();
}

void Server::Shutdown() {
  // Queued even before Run(): it runs first thing once the main loop starts.
  asio::post(impl_->main(), [s = impl_.get()] { s->BeginShutdown(); });
}

}  // namespace zdap::proxy
