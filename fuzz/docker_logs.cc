// libFuzzer target: the logs endpoint's multiplexed stream (runtime/docker_client.h
// DemultiplexLogs). On raw input: a decode that succeeds yields no more bytes than came in
// minus 8 per frame. On the input cut into frames by an encoder: decoding gives back exactly
// the payloads in order.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/docker_client.h"

namespace {

std::string Frame(uint8_t stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f.append(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto raw = zdap::runtime::DemultiplexLogs(in);
  if (raw.ok() && raw->size() > in.size()) std::abort();
  if (!raw.ok() && raw.status().message().empty()) std::abort();

  // Encoder: each input byte b starts a frame of (b % 17) payload bytes on stream 1 or 2.
  std::string stream, expected;
  size_t at = 0;
  while (at < in.size()) {
    size_t len = static_cast<uint8_t>(in[at]) % 17;
    uint8_t which = (static_cast<uint8_t>(in[at]) & 0x80) ? 2 : 1;
    ++at;
    std::string_view payload = in.substr(at, len);
    at += payload.size();
    stream += Frame(which, payload);
    expected += payload;
  }
  auto decoded = zdap::runtime::DemultiplexLogs(stream);
  if (!decoded.ok() || *decoded != expected) std::abort();
  // A stream cut anywhere inside a frame is an error, never a silent short read.
  if (!stream.empty()) {
    size_t cut = static_cast<size_t>(in[0]) % stream.size();
    std::string_view head = std::string_view(stream).substr(0, cut);
    size_t frames_end = 0;
    while (frames_end + 8 <= head.size()) {
      size_t n = (static_cast<uint8_t>(head[frames_end + 4]) << 24) |
                 (static_cast<uint8_t>(head[frames_end + 5]) << 16) |
                 (static_cast<uint8_t>(head[frames_end + 6]) << 8) |
                 static_cast<uint8_t>(head[frames_end + 7]);
      if (frames_end + 8 + n > head.size()) break;
      frames_end += 8 + n;
    }
    if (frames_end != head.size() && zdap::runtime::DemultiplexLogs(head).ok()) std::abort();
  }
  return 0;
}
