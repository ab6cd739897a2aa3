// libFuzzer target: snapshot streams (api/snapshot_stream.h), the body a follower reads from an
// upstream origin. The first byte picks where the rest is cut into pieces (0: not at all); the
// rest is fed to a reader in those pieces, then Finish. Properties: the outcome (Ok, or the same
// error message) and the payload handed on do not depend on the cuts; errors are final,
// InvalidArgument and say "snapshot stream: "; data never comes before the header nor after an
// error; a header that was read encodes to a frame that reads back the same.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/snapshot_stream.h"

namespace {

using zdap::Status;
using zdap::api::SnapshotStreamReader;
using zdap::api::StreamHeader;

struct Outcome {
  Status status;
  std::string payload;
  int headers = 0;
};

bool Same(const Status& a, const Status& b) {
  return a.code() == b.code() && a.message() == b.message();
}

// Piece sizes from `pick`: 0 = one piece; else sizes 1..pick+1 in a pattern that varies with
// the position, so that frame heads and bodies are cut in different places.
size_t PieceSize(uint8_t pick, size_t index) {
  if (pick == 0) return SIZE_MAX;
  return 1 + (static_cast<size_t>(pick) * (index + 1) * 7919u) % (static_cast<size_t>(pick) + 1);
}

Outcome Read(std::string_view stream, uint8_t pick) {
  Outcome out;
  bool failed = false;
  SnapshotStreamReader::Handlers h;
  h.on_header = [&](const StreamHeader&) {
    if (failed || out.headers != 0 || !out.payload.empty()) std::abort();
    ++out.headers;
    return Status::Ok();
  };
  h.on_data = [&](std::string_view data) {
    if (failed || out.headers != 1 || data.empty()) std::abort();
    out.payload.append(data);
    return Status::Ok();
  };
  SnapshotStreamReader reader(std::move(h));
  for (size_t i = 0; !stream.empty() && out.status.ok(); ++i) {
    size_t n = std::min(PieceSize(pick, i), stream.size());
    out.status = reader.Feed(stream.substr(0, n));
    stream.remove_prefix(n);
  }
  if (out.status.ok()) out.status = reader.Finish();
  if (reader.payload_bytes() != out.payload.size()) std::abort();
  if (reader.has_header() != (out.headers == 1)) std::abort();
  if (!out.status.ok()) {
    failed = true;
    if (out.status.code() != zdap::Code::kInvalidArgument) std::abort();
    if (out.status.message().rfind("snapshot stream: ", 0) != 0) std::abort();
    if (!Same(reader.Feed("D"), out.status) || !Same(reader.Finish(), out.status)) std::abort();
  }
  // A header that was read encodes to one that reads back the same, its times within a second
  // (they are written in whole seconds; FormatRfc3339 cuts a fraction toward 1970, so that
  // before 1970 the second written is the one after).
  if (reader.header()) {
    const StreamHeader& header = *reader.header();
    SnapshotStreamReader again(SnapshotStreamReader::Handlers{});
    if (!again.Feed(zdap::api::EncodeHeaderFrame(header)).ok() || !again.header()) std::abort();
    const StreamHeader& back = *again.header();
    auto near = [](zdap::SystemTime a, zdap::SystemTime b) {
      return a - b < std::chrono::seconds(1) && b - a < std::chrono::seconds(1);
    };
    if (back.format != header.format || back.resource != header.resource ||
        back.snapshot != header.snapshot || back.base != header.base ||
        back.origin != header.origin || back.size != header.size ||
        !near(back.created_at, header.created_at) ||
        back.data_as_of.has_value() != header.data_as_of.has_value() ||
        (back.data_as_of && !near(*back.data_as_of, *header.data_as_of))) {
      std::abort();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  uint8_t pick = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  Outcome cut = Read(stream, pick);
  Outcome whole = Read(stream, 0);
  if (!Same(cut.status, whole.status) || cut.payload != whole.payload) std::abort();
  return 0;
}
