// HttpClient: a synchronous HTTP/1.1 client for the zdap API, one connection per request.
// http:// and https:// (OpenSSL: TLS 1.2+, SNI, the certificate verified against the system CAs
// plus `ca_file`, and its name against the URL's host, or pinned to one certificate); every
// step has a
// deadline, so a silent server yields a clear Unavailable error instead of a hang.
// Not thread-safe; cheap to create.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "net/http_url.h"

namespace zdap::net {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PATCH, DELETE, ...
  std::string target;          // path and query, appended to the base URL's path: "/v1/health"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Type: application/json when not empty
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  // resolve + connect (+ TLS handshake)
  std::chrono::milliseconds io_timeout{30000};      // writing the request and reading the reply
  size_t max_body_bytes = 64u << 20;
  std::string user_agent = "zdap";
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

  // Sends `request` to base URL + request.target and reads the whole reply. Any HTTP status
  // is a successful Result; transport failures (refused, timeout, bad reply) are Unavailable
  // errors that name the origin.
  Result<HttpResponse> Send(const HttpRequest& request) const;

  const HttpUrl& base() const { return base_; }

 private:
  HttpUrl base_;
  HttpClientOptions options_;
};

}  // namespace zdap::net
