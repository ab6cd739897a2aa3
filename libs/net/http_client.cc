#include "net/http_client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <optional>

#include <openssl/pem.h>
#include <openssl/x509.h>

namespace zdap::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Runs the io_context until the started operation completes. Deadlines are enforced by the
// beast::tcp_stream timer (connect, read, write) or, for resolving, by run_for + cancel.
void RunUntilDone(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

class Exchange {
 public:
  Exchange(const HttpUrl& base, const HttpClientOptions& options)
      : base_(base), options_(options), stream_(ioc_) {}

  Result<HttpResponse> Run(const HttpRequest& request) {
    ZDAP_RETURN_IF_ERROR(Connect());
    if (base_.tls()) {
      ZDAP_RETURN_IF_ERROR(Handshake());
      return WriteAndRead(*tls_, request);
    }
    return WriteAndRead(stream_, request);
  }

 private:
  Status Fail(std::string_view what, const beast::error_code& ec) const {
    std::string why = ec == beast::error::timeout || ec == asio::error::operation_aborted
                          ? std::string("timed out")
                          : ec.message();
    return Unavailable(fmt::format("origin {}: {}: {}", base_.ToString(), what, why));
  }

  Status Connect() {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(base_.host, std::to_string(base_.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    ioc_.run_for(options_.connect_timeout);
    if (!ioc_.stopped()) {
      resolver.cancel();
      RunUntilDone(ioc_);
      return Fail(fmt::format("resolving {}", base_.host), asio::error::operation_aborted);
    }
    ioc_.restart();
    if (ec) return Fail(fmt::format("resolving {}", base_.host), ec);

    stream_.expires_after(options_.connect_timeout);
    stream_.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return Fail("cannot connect", ec);
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
        if (ec) return Fail(fmt::format("reading CA file {}", options_.ca_file), ec);
      }
      ssl_ctx_->set_verify_mode(asio::ssl::verify_peer);
    }
    tls_.emplace(std::move(stream_), *ssl_ctx_);
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), base_.host.c_str())) {
      return Unavailable(fmt::format("origin {}: cannot set TLS server name", base_.ToString()));
    }
    if (!pinned) tls_->set_verify_callback(asio::ssl::host_name_verification(base_.host));
    beast::get_lowest_layer(*tls_).expires_after(options_.connect_timeout);
    tls_->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) {
      long verify = SSL_get_verify_result(tls_->native_handle());
      if (verify != X509_V_OK) {
        return Unavailable(fmt::format("certificate verify failed for {} ({}): {}",
                                       base_.ToString(), X509_verify_cert_error_string(verify),
                                       options_.ca_hint));
      }
      return Fail("TLS handshake failed", ec);
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
      return Unavailable(
          fmt::format("origin {}: cannot read the pinned certificate {}", base_.ToString(), file));
    }
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (cert == nullptr) {
      ERR_clear_error();
      return Unavailable(fmt::format(
          "origin {}: the pinned certificate {} is not a PEM certificate", base_.ToString(), file));
    }
    return cert;
  }

  template <typename Stream>
  Result<HttpResponse> WriteAndRead(Stream& stream, const HttpRequest& request) {
    http::verb verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown) {
      return InvalidArgument(fmt::format("unknown HTTP method '{}'", request.method));
    }
    http::request<http::string_body> req(verb, base_.path + request.target, 11);
    req.set(http::field::host, base_.HostPort());
    req.set(http::field::user_agent, options_.user_agent);
    req.set(http::field::accept, "application/json");
    req.set(http::field::connection, "close");
    for (const auto& [name, value] : request.headers) req.set(name, value);
    if (!request.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
    }
    req.prepare_payload();

    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(options_.io_timeout);
    http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return Fail("sending the request", ec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    beast::get_lowest_layer(stream).expires_after(options_.io_timeout);
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    RunUntilDone(ioc_);
    if (ec) return Fail("reading the reply", ec);

    HttpResponse out;
    auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    beast::get_lowest_layer(stream).close();
    return out;
  }

  const HttpUrl& base_;
  const HttpClientOptions& options_;
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  std::optional<asio::ssl::context> ssl_ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

}  // namespace

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) const {
  if (request.target.empty() || request.target[0] != '/') {
    return InvalidArgument(fmt::format("HTTP target '{}' must start with '/'", request.target));
  }
  Exchange exchange(base_, options_);
  return exchange.Run(request);
}

}  // namespace zdap::net
