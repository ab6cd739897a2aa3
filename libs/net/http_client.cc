#include "net/http_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <limits>
#include <memory>
#include <optional>

#include "net/any_stream.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace zdap::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;
// A unix-socket stream with Beast's per-operation timeouts, like beast::tcp_stream.
using UnixStream = beast::basic_stream<local, asio::any_io_executor, beast::unlimited_rate_policy>;

// Docker's container inspect headers run past Beast's default 8 KiB.
constexpr size_t kHeaderLimit = 64 * 1024;
// The most a body_sink gets at once, and all a streamed reply holds in memory besides Beast's
// read buffer.
constexpr size_t kSinkPiece = 64 * 1024;
// What a streamed request keeps of an error reply's body (its JSON error); the rest is dropped.
constexpr size_t kErrorBodyMax = 64 * 1024;

// Beast accepts any three digits; a status below 100 is not HTTP (found by fuzzing).
bool StatusIsHttp(unsigned status) {
  return status >= 100;
}

// Runs the io_context until the started operation completes. Deadlines are enforced by the
// stream's timer (connect, handshake, read, write) or, for resolving, by run_for + cancel.
void RunUntilDone(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

class Exchange {
 public:
  Exchange(const HttpUrl& base, const HttpClientOptions& options, const HttpRequest& request)
      : base_(base), options_(options), request_(request), tcp_(ioc_) {}

  Result<HttpResponse> Run() {
    if (!options_.unix_socket.empty()) {
      if (base_.tls()) {
        return InvalidArgument(
            fmt::format("{}: https over a unix socket is not supported", Name()));
      }
      UnixStream stream(ioc_);
      beast::error_code ec;
      stream.expires_at(StepDeadline(options_.connect_timeout));
      stream.async_connect(local::endpoint(options_.unix_socket),
                           [&](beast::error_code e) { ec = e; });
      RunUntilDone(ioc_);
      if (ec) return ConnectFailed(ec);
      AnyStreamOf<UnixStream> any(stream);
      return WriteAndRead(any);
    }
    ZDAP_RETURN_IF_ERROR(ConnectTcp());
    if (base_.tls()) {
      ZDAP_RETURN_IF_ERROR(Handshake());
      AnyStreamOf<beast::ssl_stream<beast::tcp_stream>> any(*tls_);
      return WriteAndRead(any);
    }
    AnyStreamOf<beast::tcp_stream> any(tcp_);
    return WriteAndRead(any);
  }

 private:
  std::string Name() const {
    return options_.server_name.empty() ? "origin " + base_.ToString() : options_.server_name;
  }

  // Now + `step`, or the end of the request's timeout when that comes first.
  Clock::time_point StepDeadline(std::chrono::milliseconds step) const {
    Clock::time_point at = Clock::now() + step;
    if (deadline_ && *deadline_ < at) at = *deadline_;
    return at;
  }

  std::string Why(const beast::error_code& ec) const {
    if (ec != beast::error::timeout && ec != asio::error::operation_aborted) return ec.message();
    if (deadline_ && Clock::now() >= *deadline_) {
      return fmt::format("timed out after {} ms", request_.timeout.count());
    }
    return "timed out";
  }

  Status Fail(std::string_view what, const beast::error_code& ec) const {
    return Unavailable(
        fmt::format("{}: {} {}: {}: {}", Name(), request_.method, request_.target, what, Why(ec)));
  }

  Status ConnectFailed(const beast::error_code& ec) const {
    std::string hint = options_.connect_hint.empty() ? "" : " (" + options_.connect_hint + ")";
    return Unavailable(fmt::format("{}: cannot connect: {}{}", Name(), Why(ec), hint));
  }

  Status ConnectTcp() {
    beast::error_code ec;
    // An address needs no resolver: Asio resolves on a thread of its own, which costs a
    // thread start (~1 ms) per request, 15 times a loopback GET /healthz (bench/http).
    asio::ip::address address = asio::ip::make_address(base_.host, ec);
    if (!ec) {
      tcp_.expires_at(StepDeadline(options_.connect_timeout));
      tcp_.async_connect(tcp::endpoint(address, base_.port), [&](beast::error_code e) { ec = e; });
      RunUntilDone(ioc_);
      if (ec) return ConnectFailed(ec);
      return Status::Ok();
    }
    ec = {};
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(base_.host, std::to_string(base_.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    ioc_.run_until(StepDeadline(options_.connect_timeout));
    if (!ioc_.stopped()) {
      resolver.cancel();
      RunUntilDone(ioc_);
      return Unavailable(fmt::format("{}: resolving {}: {}", Name(), base_.host,
                                     Why(asio::error::operation_aborted)));
    }
    ioc_.restart();
    if (ec) return Unavailable(fmt::format("{}: resolving {}: {}", Name(), base_.host, Why(ec)));

    tcp_.expires_at(StepDeadline(options_.connect_timeout));
    tcp_.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return ConnectFailed(ec);
    return Status::Ok();
  }

  Status Handshake() {
    ssl_ctx_.emplace(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ssl_ctx_->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    const bool pinned = !options_.pinned_cert_file.empty();
    std::unique_ptr<X509, decltype(&X509_free)> pin(nullptr, X509_free);
    if (pinned) {
      // The handshake proves the server holds the key of the certificate it sends; comparing
      // that certificate with the pinned one is the whole check.
      ZDAP_ASSIGN_OR_RETURN(pin, ReadPinnedCertificate());
      ssl_ctx_->set_verify_mode(asio::ssl::verify_none);
    } else {
      ssl_ctx_->set_default_verify_paths(ec);
      if (!options_.ca_file.empty()) {
        ssl_ctx_->load_verify_file(options_.ca_file, ec);
        if (ec) {
          return Unavailable(
              fmt::format("{}: reading CA file {}: {}", Name(), options_.ca_file, ec.message()));
        }
      }
      ssl_ctx_->set_verify_mode(asio::ssl::verify_peer);
    }
    tls_.emplace(std::move(tcp_), *ssl_ctx_);
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), base_.host.c_str())) {
      return Unavailable(fmt::format("{}: cannot set TLS server name", Name()));
    }
    if (!pinned) tls_->set_verify_callback(asio::ssl::host_name_verification(base_.host));
    beast::get_lowest_layer(*tls_).expires_at(StepDeadline(options_.connect_timeout));
    tls_->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) {
      long verify = SSL_get_verify_result(tls_->native_handle());
      if (verify != X509_V_OK) {
        return Unavailable(fmt::format("certificate verify failed for {} ({}): {}",
                                       base_.ToString(), X509_verify_cert_error_string(verify),
                                       options_.ca_hint));
      }
      return Unavailable(fmt::format("{}: TLS handshake failed: {}", Name(), Why(ec)));
    }
    if (pinned) {
      std::unique_ptr<X509, decltype(&X509_free)> peer(
          SSL_get1_peer_certificate(tls_->native_handle()), X509_free);
      if (peer == nullptr || X509_cmp(peer.get(), pin.get()) != 0) {
        return Unavailable(
            fmt::format("certificate verify failed for {} (not the certificate in {}): {}",
                        base_.ToString(), options_.pinned_cert_file, options_.pin_hint));
      }
    }
    return Status::Ok();
  }

  // The first certificate in options_.pinned_cert_file.
  Result<std::unique_ptr<X509, decltype(&X509_free)>> ReadPinnedCertificate() const {
    const std::string& file = options_.pinned_cert_file;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(file.c_str(), "r"), BIO_free);
    if (bio == nullptr) {
      ERR_clear_error();
      return Unavailable(fmt::format("{}: cannot read the pinned certificate {}", Name(), file));
    }
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (cert == nullptr) {
      ERR_clear_error();
      return Unavailable(
          fmt::format("{}: the pinned certificate {} is not a PEM certificate", Name(), file));
    }
    return cert;
  }

  // Beast's operations are instantiated for AnyStream alone (net/any_stream.h).
  Result<HttpResponse> WriteAndRead(AnyStream& stream) {
    http::verb verb = http::string_to_verb(request_.method);
    http::request<http::string_body> req(verb, base_.path + request_.target, 11);
    req.set(http::field::host, base_.HostPort());
    req.set(http::field::user_agent, options_.user_agent);
    req.set(http::field::accept, options_.accept);
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : request_.headers) req.set(name, value);
    if (!request_.body.empty()) {
      req.set(http::field::content_type, request_.content_type);
      req.body() = request_.body;
    }
    req.prepare_payload();

    beast::error_code ec;
    stream.ExpiresAt(StepDeadline(options_.io_timeout));
    http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return Fail("sending the request", ec);

    HttpResponse out;
    if (request_.body_sink) {
      ZDAP_RETURN_IF_ERROR(ReadStreamed(stream, &out));
    } else {
      ZDAP_RETURN_IF_ERROR(ReadWhole(stream, &out));
    }
    stream.Close();
    return out;
  }

  Status ReadWhole(AnyStream& stream, HttpResponse* out) {
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options_.max_body_bytes);
    stream.ExpiresAt(StepDeadline(options_.io_timeout));
    http::async_read(stream, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunUntilDone(ioc_);
    if (ec == http::error::body_limit) {
      return IoError(fmt::format("{}: {} {}: the reply is larger than {} bytes", Name(),
                                 request_.method, request_.target, options_.max_body_bytes));
    }
    if (ec) return Fail("reading the reply", ec);
    auto& res = parser.get();
    ZDAP_RETURN_IF_ERROR(CheckStatus(res.result_int()));
    out->status = static_cast<int>(res.result_int());
    out->content_type = std::string(res[http::field::content_type]);
    out->body = std::move(res.body());
    return Status::Ok();
  }

  // The body in pieces of at most kSinkPiece bytes; each read gets io_timeout (within the
  // deadline), so a long download lives as long as bytes keep coming.
  Status ReadStreamed(AnyStream& stream, HttpResponse* out) {
    beast::error_code ec;
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    stream.ExpiresAt(StepDeadline(options_.io_timeout));
    http::async_read_header(stream, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return Fail("reading the reply", ec);
    ZDAP_RETURN_IF_ERROR(CheckStatus(parser.get().result_int()));
    out->status = static_cast<int>(parser.get().result_int());
    out->content_type = std::string(parser.get()[http::field::content_type]);
    std::unique_ptr<char[]> piece(new char[kSinkPiece]);
    while (!parser.is_done()) {
      parser.get().body().data = piece.get();
      parser.get().body().size = kSinkPiece;
      stream.ExpiresAt(StepDeadline(options_.io_timeout));
      http::async_read_some(stream, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
      RunUntilDone(ioc_);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return Fail("reading the reply", ec);
      size_t n = kSinkPiece - parser.get().body().size;
      if (n == 0) continue;
      std::string_view got(piece.get(), n);
      if (out->status / 100 == 2) {
        ZDAP_RETURN_IF_ERROR(request_.body_sink(got));
      } else if (out->body.size() < kErrorBodyMax) {
        // An error reply is for the caller to read whole, not for the sink.
        out->body.append(got.substr(0, kErrorBodyMax - out->body.size()));
      }
    }
    return Status::Ok();
  }

  Status CheckStatus(unsigned status) const {
    if (StatusIsHttp(status)) return Status::Ok();
    return Unavailable(fmt::format("{}: {} {}: status {} is not HTTP", Name(), request_.method,
                                   request_.target, status));
  }

  const HttpUrl& base_;
  const HttpClientOptions& options_;
  const HttpRequest& request_;
  // The end of the request's timeout, if it has one.
  const std::optional<Clock::time_point> deadline_ = request_.timeout.count() > 0
                                                         ? std::optional(Clock::now() +
                                                                         request_.timeout)
                                                         : std::nullopt;
  asio::io_context ioc_;
  beast::tcp_stream tcp_;
  beast::flat_buffer buffer_;
  std::optional<asio::ssl::context> ssl_ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

}  // namespace

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) const {
  if (request.target.empty() || request.target[0] != '/') {
    return InvalidArgument(fmt::format("HTTP target '{}' must start with '/'", request.target));
  }
  if (http::string_to_verb(request.method) == http::verb::unknown) {
    return InvalidArgument(fmt::format("unknown HTTP method '{}'", request.method));
  }
  Exchange exchange(base_, options_, request);
  return exchange.Run();
}

Result<HttpResponse> ParseHttpReply(std::string_view raw, size_t max_body) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(max_body);
  parser.eager(true);
  beast::error_code ec;
  size_t at = 0;
  while (!parser.is_done() && at < raw.size()) {
    size_t used = parser.put(asio::buffer(raw.data() + at, raw.size() - at), ec);
    at += used;
    if (ec == http::error::need_more) {
      ec = {};
      break;  // all bytes given: what is missing can only be the end of the stream
    }
    if (ec || used == 0) break;
  }
  // An empty reply is no reply: Beast would finish it as a default "200 OK" without a header.
  if (!parser.got_some()) return InvalidArgument("malformed HTTP reply: empty");
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec == http::error::body_limit) {
    return IoError(fmt::format("HTTP reply larger than {} bytes", max_body));
  }
  if (ec) return InvalidArgument(fmt::format("malformed HTTP reply: {}", ec.message()));
  if (!parser.is_done()) return InvalidArgument("malformed HTTP reply: incomplete");
  auto& res = parser.get();
  if (!StatusIsHttp(res.result_int())) return InvalidArgument("malformed HTTP reply: status < 100");
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  return out;
}

}  // namespace zdap::net
