#include "http_server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "config/daemon_config.h"
#include "core/file_util.h"
#include "core/latency_hint.h"
#include "core/log.h"
#include "event_stream.h"
#include "net/any_stream.h"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace zdap::daemon {

namespace {

constexpr size_t kHeaderLimit = 16u << 10;
constexpr size_t kPemLimit = 1u << 20;
constexpr auto kReadTimeout = 60s;
constexpr auto kOverCapReadTimeout = 5s;  // long enough to read the request the 503 answers
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kShutdownTimeout = 2s;
constexpr auto kAcceptBackoffFirst = 10ms;
constexpr auto kAcceptBackoffMax = 1000ms;
constexpr auto kDrainPoll = 20ms;
// A long-lived answer (GET /v1/events) writes a comment when it has been quiet this long, so
// that proxies keep it open and a client that went away is noticed.
constexpr auto kStreamHeartbeat = 20s;
constexpr auto kStreamWriteTimeout = 60s;  // a reader that takes nothing for this long is dropped
// Precedence of the threads that answer (the I/O thread and the quick lane) over the rest of the
// host, database servers starting by the dozen among them: they use little CPU, but a request
// wakes them several times, and at nice 0 on a busy 2-core host each wakeup waited up to tens of
// milliseconds behind CPU-bound processes. A short slice makes them run soon after waking; the
// nice keeps them ahead under saturation. Long work keeps the default (it starts the servers,
// which inherit neither).
constexpr int kAnsweringNice = -10;
constexpr std::chrono::microseconds kAnsweringSlice{100};

// Modern clients only: TLS 1.2 with AEAD ciphers and forward secrecy, and TLS 1.3.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// A server context from PEM files; every error names the file it is about.
Result<std::shared_ptr<ssl::context>> LoadTlsContext(const std::string& cert_file,
                                                     const std::string& key_file) {
  auto cert_pem = ReadFile(cert_file, kPemLimit);
  if (!cert_pem.ok()) return cert_pem.status().Wrap("tls.cert");
  auto key_pem = ReadFile(key_file, kPemLimit);
  if (!key_pem.ok()) return key_pem.status().Wrap("tls.key");
  struct stat st {};
  if (::stat(key_file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    log::Warn("tls.key {} has mode {:04o}: other users can read the private key; chmod 600 it",
              key_file, st.st_mode & 07777);
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Internal("TLS: no usable TLS 1.2 cipher: " + OpenSslError());
  }
  beast::error_code ec;
  ctx->use_certificate_chain(asio::buffer(*cert_pem), ec);
  if (ec) {
    return InvalidArgument(
        fmt::format("tls.cert {}: not a PEM certificate (chain): {}", cert_file, ec.message()));
  }
  ctx->use_private_key(asio::buffer(*key_pem), ssl::context::pem, ec);
  if (ec) {
    return InvalidArgument(
        fmt::format("tls.key {}: not a PEM private key, or it does not match the "
                    "certificate in tls.cert {}: {}",
                    key_file, cert_file, ec.message()));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return InvalidArgument(fmt::format("tls.key {} does not match the certificate in tls.cert {}",
                                       key_file, cert_file));
  }
  return ctx;
}

// A connection that drain can close (when idle) from any thread.
class Drainable {
 public:
  virtual ~Drainable() = default;
  virtual void Drain() = 0;
};

// What the listener and its connections share.
struct Shared {
  Shared(Api& a, ServerOptions o)
      : api(a),
        options(std::move(o)),
        quick_lane(static_cast<size_t>(options.worker_threads)),
        long_lane(static_cast<size_t>(options.long_work_threads)) {
    // One task per quick-lane thread (each waits for the others, so no thread takes two).
    auto all_started = std::make_shared<std::latch>(options.worker_threads);
    for (int i = 0; i < options.worker_threads; ++i) {
      asio::post(quick_lane, [all_started] {
        (void)PreferLowLatency(kAnsweringNice,
                               kAnsweringSlice);  // as the I/O thread's, logged there
        all_started->arrive_and_wait();
      });
    }
  }

  std::shared_ptr<ssl::context> CurrentTls() {
    std::lock_guard lock(mu);
    return tls;
  }

  Api& api;
  ServerOptions options;
  asio::thread_pool quick_lane;
  asio::thread_pool long_lane;
  std::atomic<int> open{0};       // connections holding a slot (within max_connections)
  std::atomic<int> in_flight{0};  // requests handed to a lane, not answered yet
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::shared_ptr<ssl::context> tls;                  // guarded by mu; null = plain HTTP
  std::map<uint64_t, std::weak_ptr<Drainable>> live;  // guarded by mu
  uint64_t next_id = 0;                               // guarded by mu
};

// One of max_connections; empty for a connection over the cap. Move-only.
class Slot {
 public:
  Slot() = default;
  explicit Slot(Shared* shared) : shared_(shared) {}
  Slot(Slot&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (shared_ != nullptr) shared_->open.fetch_sub(1);
  }
  bool held() const { return shared_ != nullptr; }

 private:
  Shared* shared_ = nullptr;
};

// A connection's byte stream, plain TCP or TLS over it, behind one interface: Connection's
// HTTP operations run on its AnyStream (net/any_stream.h), so they are compiled once, not once
// per transport.
class ConnectionStream {
 public:
  using HandshakeHandler = asio::any_completion_handler<void(beast::error_code, size_t)>;
  using ShutdownHandler = asio::any_completion_handler<void(beast::error_code)>;

  virtual ~ConnectionStream() = default;
  virtual net::AnyStream& Any() = 0;
  virtual beast::tcp_stream& Tcp() = 0;
  virtual bool tls() const = 0;
  // TLS only: the server handshake, over the bytes already read (TlsDetector's), which the
  // handler says how many it used; and the close_notify exchange.
  virtual void Handshake(asio::const_buffer already_read, HandshakeHandler handler) = 0;
  virtual void Shutdown(ShutdownHandler handler) = 0;
};

class PlainStream final : public ConnectionStream {
 public:
  explicit PlainStream(beast::tcp_stream tcp) : tcp_(std::move(tcp)) {}
  net::AnyStream& Any() override { return any_; }
  beast::tcp_stream& Tcp() override { return tcp_; }
  bool tls() const override { return false; }
  void Handshake(asio::const_buffer, HandshakeHandler) override { std::abort(); }
  void Shutdown(ShutdownHandler) override { std::abort(); }

 private:
  beast::tcp_stream tcp_;
  net::AnyStreamOf<beast::tcp_stream> any_{tcp_};
};

class TlsStream final : public ConnectionStream {
 public:
  TlsStream(beast::tcp_stream tcp, std::shared_ptr<ssl::context> context)
      : context_(std::move(context)), ssl_(std::move(tcp), *context_) {}
  net::AnyStream& Any() override { return any_; }
  beast::tcp_stream& Tcp() override { return beast::get_lowest_layer(ssl_); }
  bool tls() const override { return true; }
  void Handshake(asio::const_buffer already_read, HandshakeHandler handler) override {
    // (`used` has a default: Boost 1.81 checks the buffered handshake's handler against the
    // one-argument signature too.) Bound to the strand: see net/any_stream.h.
    ssl_.async_handshake(ssl::stream_base::server, already_read,
                         asio::bind_executor(any_.get_executor(),
                                             [handler = std::move(handler)](
                                                 beast::error_code ec, size_t used = 0) mutable {
                                               std::move(handler)(ec, used);
                                             }));
  }
  void Shutdown(ShutdownHandler handler) override {
    ssl_.async_shutdown(asio::bind_executor(any_.get_executor(), std::move(handler)));
  }

 private:
  std::shared_ptr<ssl::context> context_;  // outlives ssl_, which uses it
  beast::ssl_stream<beast::tcp_stream> ssl_;
  net::AnyStreamOf<beast::ssl_stream<beast::tcp_stream>> any_{ssl_};
};

// One HTTP connection over a ConnectionStream. Lifetime: held by its pending operation's
// shared_ptr; all its I/O runs on its strand, the Api call on a lane.
class Connection : public Drainable, public std::enable_shared_from_this<Connection> {
 public:
  Connection(Shared& shared, std::unique_ptr<ConnectionStream> stream, beast::flat_buffer buffer,
             Slot slot)
      : shared_(shared),
        slot_(std::move(slot)),
        stream_(std::move(stream)),
        buffer_(std::move(buffer)) {}

  ~Connection() override {
    std::lock_guard lock(shared_.mu);
    shared_.live.erase(id_);
  }

  void Start() {
    {
      std::lock_guard lock(shared_.mu);
      id_ = shared_.next_id++;
      shared_.live[id_] = this->weak_from_this();
    }
    asio::dispatch(Any().get_executor(), [self = this->shared_from_this()] {
      if (self->stream_->tls()) {
        self->Handshake();
      } else {
        self->Read();
      }
    });
  }

  void Drain() override {
    asio::post(Any().get_executor(), [self = this->shared_from_this()] {
      // An event stream ends now (its client resumes elsewhere or later with Last-Event-ID);
      // a request being handled finishes and is answered (with Connection: close).
      if (self->answer_) return self->CloseNow();
      if (!self->busy_) self->Tcp().cancel();
    });
  }

 private:
  net::AnyStream& Any() { return stream_->Any(); }
  beast::tcp_stream& Tcp() { return stream_->Tcp(); }

  void Handshake() {
    Tcp().expires_after(kHandshakeTimeout);
    stream_->Handshake(buffer_.data(),
                       [self = this->shared_from_this()](beast::error_code ec, size_t used) {
                         // Failed handshakes (wrong CA, scanners) are the client's business; debug
                         // only.
                         if (ec) {
                           log::Debug("tls handshake: {}", ec.message());
                           return self->CloseNow();
                         }
                         self->buffer_.consume(used);
                         self->Read();
                       });
  }

  void Read() {
    busy_ = false;
    if (shared_.draining) return Close();
    parser_.emplace();
    parser_->body_limit(kMaxRequestBodyBytes);
    parser_->header_limit(kHeaderLimit);
    Tcp().expires_after(slot_.held() ? kReadTimeout : kOverCapReadTimeout);
    http::async_read_header(
        Any(), buffer_, *parser_,
        beast::bind_front_handler(&Connection::OnHeader, this->shared_from_this()));
  }

  void ReadFailed(const beast::error_code& ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      Close();
    } else if (ec == http::error::body_limit) {
      WriteError(413, "too_large",
                 fmt::format("request body is larger than {} bytes", kMaxRequestBodyBytes));
    } else if (ec == http::error::header_limit) {
      WriteError(431, "too_large", "request headers are larger than 16 KiB");
    } else {
      WriteError(400, "invalid_argument", "malformed HTTP request: " + ec.message());
    }
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return ReadFailed(ec);
    busy_ = true;
    auto& req = parser_->get();
    version_ = req.version();
    if (!slot_.held()) {
      return WriteError(
          503, "unavailable",
          fmt::format("zdapd is serving its maximum of {} connections (max_connections); "
                      "close idle connections or retry later",
                      shared_.options.max_connections));
    }
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(Any(), *cont,
                        [self = this->shared_from_this(), cont](beast::error_code e, size_t) {
                          if (e) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(Any(), buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) return ReadFailed(ec);
    auto& req = parser_->get();
    ApiRequest ar;
    ar.method = std::string(req.method_string());
    ar.target = std::string(req.target());
    ar.body = std::move(req.body());
    ar.authorization = std::string(req[http::field::authorization]);
    ar.user_header = std::string(req["X-Zdap-User"]);
    ar.cookie = std::string(req[http::field::cookie]);
    ar.csrf_token = std::string(req["X-CSRF-Token"]);
    ar.origin = std::string(req[http::field::origin]);
    ar.host = std::string(req[http::field::host]);
    ar.fetch_site = std::string(req["Sec-Fetch-Site"]);
    ar.last_event_id = std::string(req["Last-Event-ID"]);
    ar.if_none_match = std::string(req[http::field::if_none_match]);
    ar.tls = stream_->tls();
    beast::error_code ep_ec;
    auto peer = Tcp().socket().remote_endpoint(ep_ec);
    ar.from_loopback = !ep_ec && peer.address().is_loopback();
    if (!ep_ec) ar.peer = peer.address().to_string();
    keep_alive_ = req.keep_alive();
    Tcp().expires_never();
    auto started = std::chrono::steady_clock::now();
    shared_.in_flight.fetch_add(1);
    // The route is matched once, here: its lane decides where the handler runs, and the match
    // goes along to Api::Handle.
    RouteTable::Match route = shared_.api.Route(ar);
    const Lane lane = route.lane();
    if (lane == Lane::kInline) {
      // Answered here on the I/O thread: no hand-over to a lane and back, each a wakeup that
      // waited tens of ms for a CPU while 32 database servers started.
      ApiResponse resp = shared_.api.Handle(ar, std::move(route));
      int status = resp.status;
      Write(std::move(resp), /*answers_in_flight=*/true);
      LogAnswered(ar, status, started);  // once the answer is on its way: the log takes a lock
      return;
    }
    asio::thread_pool& pool = lane == Lane::kLong ? shared_.long_lane : shared_.quick_lane;
    // Run the handler on its lane, then come back to this connection's strand to write.
    asio::post(pool, [self = this->shared_from_this(), ar = std::move(ar), route = std::move(route),
                      started]() mutable {
      ApiResponse resp = self->shared_.api.Handle(ar, std::move(route));
      LogAnswered(ar, resp.status, started);
      asio::post(self->Any().get_executor(), [self, resp = std::move(resp)]() mutable {
        self->Write(std::move(resp), /*answers_in_flight=*/true);
      });
    });
  }

  static void LogAnswered(const ApiRequest& ar, int status,
                          std::chrono::steady_clock::time_point started) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    log::Info("api: {} {} -> {} ({} ms)", ar.method, ar.target.substr(0, 200), status, ms);
  }

  void WriteError(int status, const char* code, const std::string& message) {
    busy_ = true;
    keep_alive_ = false;
    Write(ErrorResponse(status, code, message), false);
  }

  void Write(ApiResponse resp, bool answers_in_flight) {
    if (resp.stream) return StartStream(std::move(resp), answers_in_flight);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(resp.status), version_ ? version_ : 11);
    res->set(http::field::server, "zdapd");
    for (const auto& [name, value] : resp.headers) res->set(name, value);
    if (resp.status != 204) {
      res->set(http::field::content_type, resp.content_type);
      res->body() = std::move(resp.body);
    }
    if (shared_.draining) keep_alive_ = false;
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    Tcp().expires_after(kReadTimeout);
    http::async_write(
        Any(), *res,
        [self = this->shared_from_this(), res, answers_in_flight](beast::error_code ec, size_t) {
          if (answers_in_flight) self->shared_.in_flight.fetch_sub(1);
          if (ec) return self->CloseNow();
          if (!self->keep_alive_) return self->Close();
          self->Read();
        });
  }

  // A long-lived answer: the status line and headers once (the body ends with the connection),
  // then whatever the stream has whenever it wakes us, and a heartbeat when it has been quiet.
  // A read stays posted to notice the client going away.
  void StartStream(ApiResponse resp, bool answers_in_flight) {
    answer_ = std::move(resp.stream);
    keep_alive_ = false;
    std::string head =
        fmt::format("HTTP/1.1 {} {}\r\nServer: zdapd\r\nContent-Type: {}\r\n", resp.status,
                    std::string(http::obsolete_reason(static_cast<http::status>(resp.status))),
                    resp.content_type);
    for (const auto& [name, value] : resp.headers) head += fmt::format("{}: {}\r\n", name, value);
    head += "Connection: close\r\n\r\n";
    pending_ = std::move(head);
    if (answers_in_flight) shared_.in_flight.fetch_sub(1);  // answered; it now only streams
    heartbeat_.emplace(Any().get_executor());
    std::weak_ptr<Connection> weak = this->shared_from_this();
    answer_->SetWake([weak, executor = Any().get_executor()] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->Pump();
      });
    });
    WatchForHangUp();
    Pump();
  }

  void Pump() {
    if (!answer_ || writing_) return;
    std::string out = std::move(pending_);
    pending_.clear();
    out += answer_->Next();
    if (out.empty()) {
      if (answer_->ended()) return Close();
      return ArmHeartbeat();
    }
    writing_ = true;
    auto buf = std::make_shared<std::string>(std::move(out));
    Tcp().expires_after(kStreamWriteTimeout);
    asio::async_write(Any(), asio::buffer(*buf),
                      [self = this->shared_from_this(), buf](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->CloseNow();
                        self->Tcp().expires_never();
                        self->Pump();
                      });
  }

  void ArmHeartbeat() {
    heartbeat_->expires_after(kStreamHeartbeat);
    heartbeat_->async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->answer_ || self->writing_) return;
      self->pending_ += self->answer_->Heartbeat();
      self->Pump();
    });
  }

  void WatchForHangUp() {
    Any().async_read_some(asio::buffer(hangup_buf_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->CloseNow();
                            self->WatchForHangUp();  // a client has nothing to say: ignore it
                          });
  }

  // Graceful: TLS close_notify (bounded), or a TCP half-close.
  void Close() {
    if (stream_->tls() && !shared_.draining) {
      Tcp().expires_after(kShutdownTimeout);
      stream_->Shutdown([self = this->shared_from_this()](beast::error_code) { self->CloseNow(); });
      return;
    }
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  void CloseNow() {
    beast::error_code ec;
    if (heartbeat_) heartbeat_->cancel();
    Tcp().socket().close(ec);
  }

  Shared& shared_;
  Slot slot_;
  std::unique_ptr<ConnectionStream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  uint64_t id_ = 0;
  bool busy_ = false;  // a request is being read to its end, handled or answered
  bool keep_alive_ = false;
  unsigned version_ = 11;
  // A long-lived answer being written (GET /v1/events), on this connection's strand.
  std::shared_ptr<ResponseStream> answer_;
  std::string pending_;
  bool writing_ = false;
  std::optional<asio::steady_timer> heartbeat_;
  std::array<char, 256> hangup_buf_{};
};

// On the TLS port: peeks at the first bytes. A TLS ClientHello goes on to a TLS Connection;
// plain HTTP gets a 400 that says the port speaks HTTPS, then the connection closes.
class TlsDetector : public std::enable_shared_from_this<TlsDetector> {
 public:
  TlsDetector(Shared& shared, tcp::socket socket, Slot slot)
      : shared_(shared), stream_(std::move(socket)), slot_(std::move(slot)) {}

  void Start() {
    stream_.expires_after(kHandshakeTimeout);
    beast::async_detect_ssl(stream_, buffer_,
                            [self = shared_from_this()](beast::error_code ec, bool is_tls) {
                              self->OnDetect(ec, is_tls);
                            });
  }

 private:
  void OnDetect(beast::error_code ec, bool is_tls) {
    if (ec) return;  // closed or timed out before saying anything
    if (is_tls) {
      std::make_shared<Connection>(
          shared_, std::make_unique<TlsStream>(std::move(stream_), shared_.CurrentTls()),
          std::move(buffer_), std::move(slot_))
          ->Start();
      return;
    }
    log::Info("http: plain HTTP on the TLS port; answered 400 (use https://)");
    auto res = std::make_shared<http::response<http::string_body>>(http::status::bad_request, 11);
    res->set(http::field::server, "zdapd");
    res->set(http::field::content_type, "text/plain");
    res->body() = fmt::format("this port speaks HTTPS: use https://{}/\n", shared_.options.listen);
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    });
  }

  Shared& shared_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  Slot slot_;
};

}  // namespace

struct HttpServer::Impl {
  Impl(Api& a, ServerOptions o)
      : shared(a, std::move(o)),
        acceptor(ioc),
        accept_backoff_timer(ioc),
        drain_timer(ioc),
        stop_signals(ioc, SIGINT, SIGTERM),
        reload_signal(ioc, SIGHUP) {
    for (int i = 1; i < shared.options.io_threads; ++i) {
      more_contexts.push_back(std::make_unique<asio::io_context>(1));
    }
  }

  void Accept() {
    acceptor.async_accept(asio::make_strand(NextContext()), [this](beast::error_code ec,
                                                                   tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || shared.draining) return;
        // Out of file descriptors (EMFILE/ENFILE) and the like: retrying at once would spin.
        log::Warn("accept: {}; backing off (up to 1 s between attempts)", ec.message());
        accept_backoff_timer.expires_after(accept_backoff);
        accept_backoff = std::min<std::chrono::milliseconds>(accept_backoff * 2, kAcceptBackoffMax);
        accept_backoff_timer.async_wait([this](beast::error_code e) {
          if (!e && !shared.draining) Accept();
        });
        return;
      }
      accept_backoff = kAcceptBackoffFirst;
      OnAccepted(std::move(s));
      Accept();
    });
  }

  Slot TakeSlot() {
    if (shared.open.fetch_add(1) < shared.options.max_connections) return Slot(&shared);
    shared.open.fetch_sub(1);
    log::Warn("http: {} connections open (max_connections); answering 503",
              shared.options.max_connections);
    return Slot();
  }

  void OnAccepted(tcp::socket socket) {
    Slot slot = TakeSlot();
    // An answer goes out as several writes (TLS records): without this, Nagle holds the last
    // small one until the client's delayed ACK, 40 ms later (GET /v1/clones over TLS: p50 43 ms).
    beast::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    if (shared.CurrentTls()) {
      std::make_shared<TlsDetector>(shared, std::move(socket), std::move(slot))->Start();
    } else {
      std::make_shared<Connection>(
          shared, std::make_unique<PlainStream>(beast::tcp_stream(std::move(socket))),
          beast::flat_buffer(), std::move(slot))
          ->Start();
    }
  }

  void WaitForStopSignal() {
    stop_signals.async_wait([this](beast::error_code ec, int sig) {
      if (ec) return;
      log::Info("zdapd: signal {} received; draining (up to {} s)", sig,
                shared.options.drain_deadline.count() / 1000);
      BeginDrain();
    });
  }

  void WaitForReloadSignal() {
    reload_signal.async_wait([this](beast::error_code ec, int) {
      if (ec) return;
      Reload();
      WaitForReloadSignal();
    });
  }

  void Reload() {
    if (!shared.options.tls_cert.empty()) {
      auto ctx = LoadTlsContext(shared.options.tls_cert, shared.options.tls_key);
      if (!ctx.ok()) {
        log::Error("SIGHUP: keeping the previous TLS certificate: {}", ctx.status().message());
      } else {
        std::lock_guard lock(shared.mu);
        shared.tls = *std::move(ctx);
        log::Info("SIGHUP: reloaded TLS certificate {}", shared.options.tls_cert);
      }
    }
    if (shared.options.on_reload) shared.options.on_reload();
  }

  void BeginDrain() {
    if (shared.draining.exchange(true)) return;
    beast::error_code ec;
    acceptor.close(ec);
    accept_backoff_timer.cancel();
    stop_signals.cancel(ec);
    reload_signal.cancel(ec);
    std::vector<std::shared_ptr<Drainable>> conns;
    {
      std::lock_guard lock(shared.mu);
      for (auto& [id, weak] : shared.live) {
        if (auto c = weak.lock()) conns.push_back(std::move(c));
      }
    }
    for (auto& c : conns) c->Drain();
    conns.clear();
    drain_deadline = std::chrono::steady_clock::now() + shared.options.drain_deadline;
    PollDrain();
  }

  void PollDrain() {
    if (shared.open.load() == 0) return ioc.stop();
    if (std::chrono::steady_clock::now() >= drain_deadline) {
      abandoned = shared.in_flight.load();
      return ioc.stop();
    }
    drain_timer.expires_after(kDrainPoll);
    drain_timer.async_wait([this](beast::error_code ec) {
      if (!ec) PollDrain();
    });
  }

  // Connections are dealt to the I/O threads in turn (called on `ioc`'s thread only).
  asio::io_context& NextContext() {
    size_t i = next_context++ % (more_contexts.size() + 1);
    return i == 0 ? ioc : *more_contexts[i - 1];
  }

  // Declared first: connections reference it until the io_contexts below destroy them.
  Shared shared;
  // One each for the other I/O threads: a thread of its own per context, so that no scheduler
  // is shared (a multi-threaded io_context cost ~30 futex calls per answer). Declared before
  // `ioc`, so destroyed after it: a pending accept on `ioc` owns a socket of one of these.
  std::vector<std::unique_ptr<asio::io_context>> more_contexts;
  // The listener's and the first I/O thread's (Run()'s caller).
  asio::io_context ioc;
  size_t next_context = 0;
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff_timer;
  std::chrono::milliseconds accept_backoff = kAcceptBackoffFirst;
  asio::steady_timer drain_timer;
  std::chrono::steady_clock::time_point drain_deadline;
  int abandoned = 0;
  asio::signal_set stop_signals;
  asio::signal_set reload_signal;
};

HttpServer::HttpServer(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}

HttpServer::~HttpServer() {
  impl_->shared.long_lane.join();
  impl_->shared.quick_lane.join();
}

Status HttpServer::Run(const std::function<void(const std::string&)>& on_listening) {
  const ServerOptions& opts = impl_->shared.options;
  if (opts.tls_cert.empty() != opts.tls_key.empty()) {
    return InvalidArgument("tls needs both cert and key");
  }
  if (!opts.tls_cert.empty()) {
    ZDAP_ASSIGN_OR_RETURN(auto ctx, LoadTlsContext(opts.tls_cert, opts.tls_key));
    std::lock_guard lock(impl_->shared.mu);
    impl_->shared.tls = std::move(ctx);
  }
  std::string host;
  int port;
  ZDAP_RETURN_IF_ERROR(config::SplitHostPort(opts.listen, &host, &port));
  beast::error_code ec;
  auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return InvalidArgument(fmt::format("listen: '{}' is not an IP address", host));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return IoError(fmt::format("cannot listen on {}: {}", opts.listen, ec.message()));
  impl_->WaitForStopSignal();
  impl_->WaitForReloadSignal();
  impl_->Accept();
  on_listening(fmt::format("{}:{}", host, a.local_endpoint().port()));
  if (Status hint = PreferLowLatency(kAnsweringNice, kAnsweringSlice); !hint.ok()) {
    log::Warn("answering threads: {}", hint.message());
  }
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::thread> io_threads;
  for (auto& context : impl_->more_contexts) {
    keep_running.emplace_back(context->get_executor());
    io_threads.emplace_back([&context] {
      (void)PreferLowLatency(kAnsweringNice, kAnsweringSlice);  // logged above if refused
      context->run();
    });
  }
  impl_->ioc.run();  // until the drain ends (all connections closed, or its deadline)
  for (auto& context : impl_->more_contexts) context->stop();
  for (auto& t : io_threads) t.join();
  return Status::Ok();
}

int HttpServer::AbandonedRequests() const {
  return impl_->abandoned;
}

void HttpServer::Stop() {
  asio::post(impl_->ioc, [this] { impl_->BeginDrain(); });
}

}  // namespace zdap::daemon
