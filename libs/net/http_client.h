// HttpClient: zdap's one HTTP/1.1 client, synchronous, one connection per request. It speaks
// to zdapd origins (CLI, proxy, zdapd's own commands), to the Docker Engine API and to
// zdap-proxyd's /healthz:
// - transports: http:// over TCP; https:// over TCP with OpenSSL (TLS 1.2+, SNI, the
//   certificate verified against the system CAs plus `ca_file` and its name against the URL's
//   host, or pinned to one certificate); plain HTTP over a unix socket (`unix_socket`).
// - time: every step (resolve, connect, TLS handshake, write, read) has a timeout, and a
//   request may carry a timeout for the whole exchange, so a silent server yields a clear
//   Unavailable error instead of a hang.
// - bodies: a reply is decoded whole (plain, chunked or read-to-close) up to `max_body_bytes`,
//   or handed piece by piece to the request's `body_sink` with bounded memory (a download of
//   any size: progress, rate limits and writing to disk are the sink's business).
// Not thread-safe; cheap to create. Only http_client.cc includes Beast/Asio/OpenSSL.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "net/http_url.h"

namespace zdap::net {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PATCH, DELETE, ...
  std::string target;          // path and query, appended to the base URL's path: "/v1/health"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with `content_type` when not empty
  std::string content_type = "application/json";
  // Set: the whole exchange (connect, handshake, request and reply) ends this long after Send
  // starts, each step getting the smaller of its own timeout and what is left. Zero: the
  // per-step timeouts alone. A caller with a deadline of its own passes what is left of it.
  std::chrono::milliseconds timeout{0};
  // Set: a 2xx reply's body goes to the sink as it arrives, in pieces of at most 64 KiB, and
  // HttpResponse::body stays empty; max_body_bytes does not apply. Any other reply's body (an
  // error) is kept in HttpResponse::body instead, its first 64 KiB. A sink error ends the
  // exchange and is returned as it is.
  std::function<Status(std::string_view piece)> body_sink;
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  // resolve + connect (+ TLS handshake)
  std::chrono::milliseconds io_timeout{30000};      // writing the request, reading the reply
  size_t max_body_bytes = 64u << 20;                // a longer reply fails the request (kIoError)
  std::string user_agent = "zdap";
  std::string accept = "application/json";
  // Connect to this unix socket instead of the URL's host and port, which then only name the
  // server in the Host header (the Docker API: "http://docker/v1.41"). Plain HTTP only.
  std::string unix_socket;
  // How errors name the server; empty: "origin <base URL>".
  std::string server_name;
  // Ends the message of a failed connect, in parentheses: what the user may check.
  std::string connect_hint;
  std::string ca_file;  // https: extra CA bundle (PEM); empty = system store only
  // Ends the error when the server's certificate does not verify: how this program's user
  // names the CA that signed it.
  std::string ca_hint = "add the CA with `zdap origin add URL --ca FILE`";
  // https: trust exactly the (first) certificate in this PEM file instead of CAs and the host
  // name (pinning). For a client on the server's own host that can read the certificate file
  // the server serves, reaching it at an address its certificate need not name (127.0.0.1).
  // Expiry is not checked: the pin alone decides. Ends a mismatch error: `pin_hint`.
  std::string pinned_cert_file;
  std::string pin_hint;
};

class HttpClient {
 public:
  explicit HttpClient(HttpUrl base, HttpClientOptions options = {})
      : base_(std::move(base)), options_(std::move(options)) {}

  // Sends `request` to base URL + request.target and reads the reply. Any HTTP status is a
  // successful Result; transport failures (refused, timeout, TLS, a reply that is not HTTP)
  // are Unavailable errors that name the server, a reply over max_body_bytes is kIoError.
  Result<HttpResponse> Send(const HttpRequest& request) const;

  const HttpUrl& base() const { return base_; }
  const HttpClientOptions& options() const { return options_; }

 private:
  HttpUrl base_;
  HttpClientOptions options_;
};

// Decodes a whole reply as a server sent it (status line, headers, plain, chunked or
// read-to-close body) with the limits Send applies. The pure part of Send, for tests and
// fuzzing: errors are malformed or truncated replies (InvalidArgument) and bodies over
// `max_body` (kIoError).
Result<HttpResponse> ParseHttpReply(std::string_view raw, size_t max_body);

}  // namespace zdap::net
