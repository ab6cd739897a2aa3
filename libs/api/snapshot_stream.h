// The body of GET /v1/resources/{r}/snapshots/{id}/stream (issue 23): one snapshot moved from
// an upstream origin to a follower, as a sequence of frames so that the follower knows what it
// receives before the first byte of data, and can tell a whole stream from a cut or altered one.
//
//   frame   = type (1 byte) | length (4 bytes, big-endian) | `length` bytes
//   'H'     once, first: a JSON object, StreamHeader (at most kMaxHeaderFrame bytes)
//   'D'     zero or more: payload bytes, in order (each at most kMaxDataFrame bytes)
//   'T'     once, last: a JSON object {"bytes": N, "sha256": "<64 lowercase hex>"}, the
//           payload's length and digest (at most kMaxHeaderFrame bytes)
// Nothing may follow 'T'. The payload is what the format's receiver reads (a `btrfs send`
// stream, a tar.zst archive), unframed.
// The header's keys: format, resource, snapshot, base (null: a full stream), created_at,
// data_as_of (null: unknown), origin, size (times RFC 3339). A reader ignores keys it does not
// know in the header (a newer sender may say more about the snapshot) but refuses them in the
// trailer (a check it cannot make, another digest say, must not pass as made).
//
// The digest is sent after the payload because the sender learns it only then; the receiver
// applies the payload as it arrives (into a volume nobody sees yet) and keeps the result only
// if the trailer matches what it hashed itself.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace zdap::api {

inline constexpr size_t kMaxHeaderFrame = 64 * 1024;
inline constexpr size_t kMaxDataFrame = 4 * 1024 * 1024;

// Stream formats, by wire name (storage/driver.h says who speaks which).
inline constexpr std::string_view kStreamFormatBtrfs = "btrfs";
inline constexpr std::string_view kStreamFormatTarZstd = "tar.zst";
inline constexpr std::string_view kStreamFormatZfs = "zfs";

// What the 'H' frame says about the snapshot in the stream.
struct StreamHeader {
  std::string format;    // "btrfs", "tar.zst", "zfs"
  std::string resource;  // the upstream resource
  std::string snapshot;  // its id, kept by the follower: <resource>@<stamp>
  std::string base;      // "" = a full stream; else the snapshot it is the difference from
  SystemTime created_at{};
  std::optional<SystemTime> data_as_of;
  std::string origin;  // the upstream origin's name (its advertised host, or its URL)
  // The snapshot's fresh clones start without a password (engine::CloneLock::kNoPassword:
  // upstream readied its data for that). JSON key "clone_lock": "no-password" or absent.
  bool clone_lock_no_password = false;
  // The payload's expected size when the sender knows it (a full tar or btrfs stream of a
  // snapshot of this many bytes of files); 0 = unknown. The follower checks its free space
  // against it before taking a byte, and refuses a payload more than twice as long.
  uint64_t size = 0;
};

std::string EncodeHeaderFrame(const StreamHeader& header);
// One 'D' frame around `data` (at most kMaxDataFrame bytes).
std::string EncodeDataFrame(std::string_view data);
// Appends the 5-byte head of a 'D' frame of `length` bytes to `out` (the caller appends the
// data itself, without a copy of it into a frame of its own).
void AppendDataFrameHead(size_t length, std::string* out);
std::string EncodeTrailerFrame(uint64_t payload_bytes, std::string_view sha256_hex);

// SHA-256 over pieces of data, for both ends (OpenSSL).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();  // ends the hash: 64 lowercase hex digits

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Reads a stream from pieces of any size as they arrive, with bounded memory (one frame head
// and at most one header or trailer frame buffered; data is handed on, not kept).
// Errors are InvalidArgument with a message a person can act on ("snapshot stream: ...") and
// are final: after one, Feed and Finish return it again.
class SnapshotStreamReader {
 public:
  struct Handlers {
    // The header, once, before any data; an error here ends the stream (the follower refuses
    // what the header announces: no space, a wrong snapshot).
    std::function<Status(const StreamHeader&)> on_header;
    // Payload bytes, in order.
    std::function<Status(std::string_view)> on_data;
  };
  // `max_payload`: payload bytes allowed in all (0 = no limit besides the header's size: when
  // the header announces a size, a payload over twice that is refused).
  explicit SnapshotStreamReader(Handlers handlers, uint64_t max_payload = 0);

  Status Feed(std::string_view piece);
  // At the end of the body: Ok only if the trailer came, and its length and digest match
  // the payload received.
  Status Finish();

  uint64_t payload_bytes() const { return payload_bytes_; }
  bool has_header() const { return header_.has_value(); }
  const std::optional<StreamHeader>& header() const { return header_; }

 private:
  Status Fail(Status status);
  Status OnFrame(char type, std::string_view body);

  Handlers handlers_;
  uint64_t max_payload_;
  Status error_;
  std::string head_;         // the current frame's head, until it has 5 bytes
  std::string body_;         // the current 'H' or 'T' frame's body
  uint64_t frame_left_ = 0;  // bytes of the current frame's body still to come
  char frame_type_ = 0;
  bool in_frame_ = false;
  std::optional<StreamHeader> header_;
  bool ended_ = false;  // the trailer came and matched
  uint64_t payload_bytes_ = 0;
  Sha256 sha_;
};

}  // namespace zdap::api
