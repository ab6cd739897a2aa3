#include "http_server.h"

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

#include "config/daemon_config.h"
#include "core/log.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace zdap::daemon {
namespace {

constexpr size_t kBodyLimit = 1u << 20;
constexpr size_t kHeaderLimit = 16u << 10;
constexpr auto kReadTimeout = std::chrono::seconds(60);

// One connection. Lifetime: held by the pending async operation's shared_ptr; all work on
// it runs on its strand (the socket's executor), the Api call runs on the worker pool.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Api& api, asio::thread_pool& workers)
      : stream_(std::move(socket)), api_(api), workers_(workers) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return WriteError(413, "too_large", "request body is larger than 1 MiB");
    }
    if (ec == http::error::header_limit) {
      return WriteError(431, "too_large", "request headers are larger than 16 KiB");
    }
    if (ec) return WriteError(400, "invalid_argument", "malformed HTTP request: " + ec.message());

    auto& req = parser_->get();
    ApiRequest ar;
    ar.method = std::string(req.method_string());
    ar.target = std::string(req.target());
    ar.body = std::move(req.body());
    ar.authorization = std::string(req[http::field::authorization]);
    ar.user_header = std::string(req["X-Zdap-User"]);
    beast::error_code ep_ec;
    auto peer = stream_.socket().remote_endpoint(ep_ec);
    ar.from_loopback = !ep_ec && peer.address().is_loopback();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    stream_.expires_never();
    auto started = std::chrono::steady_clock::now();
    // Run the handler on the pool, then come back to this session's executor to write.
    asio::post(workers_, [self = shared_from_this(), ar = std::move(ar), started]() mutable {
      ApiResponse resp = self->api_.Handle(ar);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
      log::Info("api: {} {} -> {} ({} ms)", ar.method, ar.target.substr(0, 200), resp.status, ms);
      asio::post(self->stream_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
    });
  }

  void WriteError(int status, const char* code, const std::string& message) {
    keep_alive_ = false;
    Write(ErrorResponse(status, code, message));
  }

  void Write(ApiResponse resp) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(resp.status), version_ ? version_ : 11);
    res->set(http::field::server, "zdapd");
    for (const auto& [name, value] : resp.headers) res->set(name, value);
    if (resp.status != 204) {
      res->set(http::field::content_type, resp.content_type);
      res->body() = std::move(resp.body);
    }
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Api& api_;
  asio::thread_pool& workers_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

}  // namespace

struct HttpServer::Impl {
  Impl(Api& a, ServerOptions o)
      : api(a),
        options(std::move(o)),
        workers(static_cast<size_t>(options.worker_threads)),
        acceptor(ioc),
        signals(ioc, SIGINT, SIGTERM) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        log::Warn("accept: {}", ec.message());
      } else {
        std::make_shared<Session>(std::move(s), api, workers)->Start();
      }
      Accept();
    });
  }

  Api& api;
  ServerOptions options;
  asio::io_context ioc;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  asio::signal_set signals;
};

HttpServer::HttpServer(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}

HttpServer::~HttpServer() {
  impl_->workers.join();
}

Status HttpServer::Run(const std::function<void(const std::string&)>& on_listening) {
  std::string host;
  int port;
  ZDAP_RETURN_IF_ERROR(config::SplitHostPort(impl_->options.listen, &host, &port));
  beast::error_code ec;
  auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return InvalidArgument(fmt::format("listen: '{}' is not an IP address", host));
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return IoError(fmt::format("cannot listen on {}: {}", impl_->options.listen, ec.message()));
  }
  impl_->signals.async_wait([this](beast::error_code, int sig) {
    log::Info("zdapd: signal {} received; stopping", sig);
    Stop();
  });
  impl_->Accept();
  on_listening(fmt::format("{}:{}", host, a.local_endpoint().port()));
  impl_->ioc.run();
  return Status::Ok();
}

void HttpServer::Stop() {
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->signals.cancel(ec);
    impl_->ioc.stop();
  });
}

}  // namespace zdap::daemon
