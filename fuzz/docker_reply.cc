// libFuzzer target: HTTP replies as the Docker API sends them (net/http_client.h ParseHttpReply,
// the decoder of zdap's one HTTP client): status line, headers, plain, chunked and
// read-to-close bodies. A reply that parses keeps its body within the limit, and the same reply
// written again with a Content-Length parses to the same status and body (the chunked decoding
// loses and invents nothing).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/http_client.h"
#include "runtime/docker_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kLimit = 1 << 16;
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto r = zdap::net::ParseHttpReply(raw, kLimit);
  if (!r.ok()) {
    if (r.status().message().empty()) std::abort();
    return 0;
  }
  if (r->body.size() > kLimit || r->status < 100 || r->status > 999) std::abort();
  std::string again = "HTTP/1.1 " + std::to_string(r->status) +
                      " X\r\nContent-Length: " + std::to_string(r->body.size()) + "\r\n\r\n" +
                      r->body;
  auto r2 = zdap::net::ParseHttpReply(again, kLimit);
  if (!r2.ok() || r2->status != r->status || r2->body != r->body) std::abort();
  // The error message helper accepts whatever body came.
  if (zdap::runtime::DockerErrorMessage(*r).empty()) std::abort();
  return 0;
}
