// A small client for the Docker Engine API v1.41 over its unix socket, on net::HttpClient: one
// HTTP/1.1 request per connection (the daemon closes idle connections anyway, and a request
// costs well under a millisecond on a local socket). Responses may be chunked; bodies are
// bounded. The logs endpoint's multiplexed stream format is decoded by DemultiplexLogs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/http_client.h"

namespace zdap::runtime {

using DockerResponse = net::HttpResponse;

class DockerClient {
 public:
  // Bodies longer than this fail the request: nothing zdap asks for is that large.
  static constexpr size_t kMaxBody = 8 << 20;

  explicit DockerClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}
  const std::string& socket_path() const { return socket_path_; }

  // `method` GET/POST/DELETE; `target` the path and query below the version prefix
  // ("/containers/json?all=1"); `json_body` "" = no body. Any HTTP status is a result;
  // errors are transport failures, malformed responses and timeouts (the whole exchange is
  // bounded by `timeout`).
  Result<DockerResponse> Request(const std::string& method, const std::string& target,
                                 const std::string& json_body, std::chrono::milliseconds timeout,
                                 size_t max_body = kMaxBody) const;

 private:
  std::string socket_path_;
};

// The message of a Docker error response ({"message": "..."}), or the start of the body when
// it is not such JSON, or the HTTP status when the body is empty.
std::string DockerErrorMessage(const DockerResponse& response);

// Decodes the logs endpoint's stream format for containers without a TTY: frames of an
// 8-byte header (stream type 0/1/2, three zero bytes, big-endian 32-bit length) and the
// payload. Returns stdout and stderr interleaved as written. A truncated or malformed frame
// is an error.
Result<std::string> DemultiplexLogs(std::string_view raw);

// The last `lines` lines of `text`.
std::string LastLines(std::string_view text, int lines);

}  // namespace zdap::runtime
