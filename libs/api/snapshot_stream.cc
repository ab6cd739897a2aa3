#include "api/snapshot_stream.h"

#include <openssl/evp.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <limits>

#include "api/fields.h"
#include "api/json_reader.h"
#include "core/names.h"

namespace json = boost::json;

namespace zdap::api {

namespace {

// The stream's own keys (the others are shared with the snapshot object, in api/fields.h).
constexpr const char* kFormatKey = "format";
constexpr const char* kBaseKey = "base";
constexpr const char* kSizeKey = "size";
constexpr const char* kBytesKey = "bytes";
constexpr const char* kSha256Key = "sha256";
constexpr const char* kCloneLockKey = "clone_lock";
constexpr const char* kNoPassword = "no-password";

constexpr size_t kFrameHead = 5;  // type, then the body's length as 4 bytes big-endian
constexpr size_t kMaxOrigin = 256;
// Both ends hint at what went wrong the same way: the sender can only stop.
constexpr const char* kCutOffHint = "the upstream origin stopped or the connection dropped";

void AppendFrameHead(char type, size_t length, std::string* out) {
  // A longer body would wrap the 4-byte length into a different, valid-looking frame.
  assert(length <= std::numeric_limits<uint32_t>::max());
  out->push_back(type);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((length >> shift) & 0xff));
  }
}

std::string Frame(char type, std::string_view body) {
  std::string out;
  out.reserve(kFrameHead + body.size());
  AppendFrameHead(type, body.size(), &out);
  out.append(body);
  return out;
}

const char* FrameName(char type) {
  switch (type) {
    case 'H':
      return "header";
    case 'D':
      return "data";
    case 'T':
      return "trailer";
  }
  return "unknown";
}

bool IsControl(char c) {
  return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

// `s` with its control characters as '?', for an error message: the text comes from the other
// end and lands in a log or a terminal.
std::string WithoutControls(std::string s) {
  std::replace_if(s.begin(), s.end(), IsControl, '?');
  return s;
}

// At most 64 bytes of `s`, for an error message.
std::string Printable(std::string_view s) {
  std::string out = WithoutControls(std::string(s.substr(0, 64)));
  if (s.size() > 64) out += "...";
  return out;
}

bool IsStreamFormat(std::string_view format) {
  return format == kStreamFormatBtrfs || format == kStreamFormatTarZstd ||
         format == kStreamFormatZfs;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), IsControl);
}

// `id` ("snapshot" or "base") is a snapshot id of `resource`.
void CheckSnapshotOf(const std::string& resource, const char* key, const std::string& id,
                     ObjectReader* r) {
  SnapshotId parsed;
  if (Status s = ParseSnapshotId(id, &parsed); !s.ok()) {
    // The message quotes `id` (100 bytes of it at most).
    return r->Fail(fmt::format("'{}': {}", key, WithoutControls(s.message())));
  }
  if (parsed.resource != resource) {
    r->Fail(fmt::format("'{}' is '{}', a snapshot of '{}', but the stream is of resource '{}'", key,
                        Printable(id), parsed.resource, Printable(resource)));
  }
}

// An RFC 3339 time under `key` (checked by ObjectReader::Time), or nothing if absent or null.
std::optional<SystemTime> ReadTime(const char* key, bool required, ObjectReader* r) {
  std::string text;
  r->Time(key, &text, required);
  if (!r->status().ok() || text.empty()) return std::nullopt;
  Result<SystemTime> t = ParseRfc3339(text);
  if (!t.ok()) {
    r->Fail(fmt::format("'{}' is not an RFC 3339 time", key));
    return std::nullopt;
  }
  return *t;
}

// The 'H' frame's JSON. Unknown keys are ignored (a newer sender may say more); absent or null
// base, data_as_of and size mean a full stream, unknown, unknown.
Result<StreamHeader> ParseHeader(std::string_view body) {
  ZDAP_ASSIGN_OR_RETURN(json::value v,
                        ParseJson(body, "snapshot stream: the header", Code::kInvalidArgument));
  ObjectReader r(v, "snapshot stream: the header", Code::kInvalidArgument);
  StreamHeader h;
  r.String(kFormatKey, &h.format, /*required=*/true);
  r.String(field::kResource, &h.resource, /*required=*/true);
  r.String(field::kSnapshot, &h.snapshot, /*required=*/true);
  r.String(kBaseKey, &h.base);
  std::optional<SystemTime> created_at = ReadTime(field::kCreatedAt, /*required=*/true, &r);
  h.data_as_of = ReadTime(field::kDataAsOf, /*required=*/false, &r);
  r.String(field::kOrigin, &h.origin, /*required=*/true);
  r.Uint(kSizeKey, &h.size);
  std::string clone_lock;
  r.String(kCloneLockKey, &clone_lock);
  if (r.status().ok() && !clone_lock.empty() && clone_lock != kNoPassword) {
    r.Fail(fmt::format("'clone_lock' is '{}', not \"{}\" or null", Printable(clone_lock),
                       kNoPassword));
  }
  h.clone_lock_no_password = clone_lock == kNoPassword;
  if (created_at) h.created_at = *created_at;
  if (r.status().ok() && !IsStreamFormat(h.format)) {
    r.Fail(fmt::format("'format' is '{}', not one this follower reads ({}, {} or {})",
                       Printable(h.format), kStreamFormatBtrfs, kStreamFormatTarZstd,
                       kStreamFormatZfs));
  }
  if (r.status().ok()) CheckSnapshotOf(h.resource, field::kSnapshot, h.snapshot, &r);
  if (r.status().ok() && !h.base.empty()) CheckSnapshotOf(h.resource, kBaseKey, h.base, &r);
  if (r.status().ok() && h.origin.size() > kMaxOrigin) {
    r.Fail(fmt::format("'origin' has {} bytes, more than {}", h.origin.size(), kMaxOrigin));
  }
  if (r.status().ok() && HasControlCharacter(h.origin)) {
    r.Fail(fmt::format("'origin' '{}' has control characters", Printable(h.origin)));
  }
  if (!r.status().ok()) return r.status();
  return h;
}

struct Trailer {
  uint64_t bytes = 0;
  std::string sha256;
};

// The 'T' frame's JSON: exactly bytes and sha256. Unlike the header, an unknown key is refused:
// a trailer says whether the payload is whole, and a key this follower cannot check (another
// digest, say) must not pass as checked.
Result<Trailer> ParseTrailer(std::string_view body) {
  ZDAP_ASSIGN_OR_RETURN(json::value v,
                        ParseJson(body, "snapshot stream: the trailer", Code::kInvalidArgument));
  ObjectReader r(v, "snapshot stream: the trailer", Code::kInvalidArgument);
  Trailer t;
  if (r.status().ok()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() != kBytesKey && kv.key() != kSha256Key) {
        r.Fail(fmt::format("'{}' is not a trailer key (a trailer has only '{}' and '{}')",
                           Printable(kv.key()), kBytesKey, kSha256Key));
        break;
      }
    }
  }
  // ObjectReader::Uint has no `required`; a trailer without its count checks nothing.
  if (r.status().ok()) {
    const json::value* bytes = v.as_object().if_contains(kBytesKey);
    if (bytes == nullptr || bytes->is_null()) r.Fail(fmt::format("'{}' is missing", kBytesKey));
  }
  r.Uint(kBytesKey, &t.bytes);
  r.String(kSha256Key, &t.sha256, /*required=*/true);
  if (r.status().ok() && (t.sha256.size() != 64 || !IsLowerHex(t.sha256))) {
    r.Fail(
        fmt::format("'{}' is '{}', not 64 lowercase hex digits", kSha256Key, Printable(t.sha256)));
  }
  if (!r.status().ok()) return r.status();
  return t;
}

// The most payload a reader takes: `max_payload` (0 = no limit) and twice the header's `size`
// (0 = unknown), whichever is less.
uint64_t PayloadLimit(uint64_t max_payload, uint64_t size) {
  uint64_t limit = max_payload == 0 ? std::numeric_limits<uint64_t>::max() : max_payload;
  if (size != 0) {
    uint64_t twice = size > std::numeric_limits<uint64_t>::max() / 2
                         ? std::numeric_limits<uint64_t>::max()
                         : size * 2;
    limit = std::min(limit, twice);
  }
  return limit;
}

// Whether a frame may start here: its type, its place, its length. Checked on the 5-byte head,
// before the body comes, so that a hostile length never makes the reader wait for or keep it.
Status CheckFrameHead(char type, uint64_t length, bool has_header, uint64_t payload_bytes,
                      uint64_t max_payload, uint64_t header_size) {
  if (type != 'H' && type != 'D' && type != 'T') {
    if (!has_header) {
      return InvalidArgument(fmt::format(
          "snapshot stream: the body starts with byte 0x{:02x}, not a header frame: it is not "
          "a snapshot stream (an error page, or an origin too old to send snapshots?)",
          static_cast<unsigned char>(type)));
    }
    return InvalidArgument(fmt::format(
        "snapshot stream: unknown frame type 0x{:02x} after {} bytes of payload: the stream is "
        "corrupt, or from a newer origin than this follower reads",
        static_cast<unsigned char>(type), payload_bytes));
  }
  if (type == 'H' && has_header) return InvalidArgument("snapshot stream: a second header frame");
  if (type != 'H' && !has_header) {
    return InvalidArgument(
        fmt::format("snapshot stream: a {} frame before the header frame", FrameName(type)));
  }
  size_t max = type == 'D' ? kMaxDataFrame : kMaxHeaderFrame;
  if (length > max) {
    return InvalidArgument(
        fmt::format("snapshot stream: a {} frame of {} bytes, more than the {} "
                    "a {} frame may have",
                    FrameName(type), length, max, FrameName(type)));
  }
  if (type != 'D') return Status::Ok();
  uint64_t limit = PayloadLimit(max_payload, header_size);
  if (length > limit - payload_bytes) {  // payload_bytes <= limit: each frame was checked so
    if (max_payload != 0 && limit == max_payload) {
      return InvalidArgument(
          fmt::format("snapshot stream: the payload goes over the {} bytes this follower takes "
                      "(a data frame of {} bytes after {})",
                      limit, length, payload_bytes));
    }
    return InvalidArgument(
        fmt::format("snapshot stream: the payload goes over twice the {} bytes the header "
                    "announced (a data frame of {} bytes after {}): the upstream origin sends "
                    "more than it said",
                    header_size, length, payload_bytes));
  }
  return Status::Ok();
}

EVP_MD_CTX* Ctx(void* ctx) {
  return static_cast<EVP_MD_CTX*>(ctx);
}

void InitSha256(EVP_MD_CTX* ctx) {
  // Fails only without memory or without SHA-256 in libcrypto: no digest means no checked
  // stream, and the interface has no error to return.
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
}

}  // namespace

std::string EncodeHeaderFrame(const StreamHeader& header) {
  json::object o;
  o[kFormatKey] = header.format;
  o[field::kResource] = header.resource;
  o[field::kSnapshot] = header.snapshot;
  if (header.base.empty()) {
    o[kBaseKey] = nullptr;
  } else {
    o[kBaseKey] = header.base;
  }
  o[field::kCreatedAt] = FormatRfc3339(header.created_at);
  if (header.data_as_of) {
    o[field::kDataAsOf] = FormatRfc3339(*header.data_as_of);
  } else {
    o[field::kDataAsOf] = nullptr;
  }
  o[field::kOrigin] = header.origin;
  o[kSizeKey] = header.size;
  if (header.clone_lock_no_password) o[kCloneLockKey] = kNoPassword;
  return Frame('H', json::serialize(o));
}

std::string EncodeDataFrame(std::string_view data) {
  assert(data.size() <= kMaxDataFrame);
  return Frame('D', data);
}

void AppendDataFrameHead(size_t length, std::string* out) {
  assert(length <= kMaxDataFrame);
  AppendFrameHead('D', length, out);
}

std::string EncodeTrailerFrame(uint64_t payload_bytes, std::string_view sha256_hex) {
  json::object o;
  o[kBytesKey] = payload_bytes;
  o[kSha256Key] = sha256_hex;
  return Frame('T', json::serialize(o));
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  InitSha256(Ctx(ctx_));
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(Ctx(ctx_));
}

void Sha256::Update(std::string_view data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()) != 1) std::abort();
}

std::string Sha256::HexDigest() {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(Ctx(ctx_), digest, &n) != 1) std::abort();
  // Started again, so that a later Update is defined (it begins a new hash).
  InitSha256(Ctx(ctx_));
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

SnapshotStreamReader::SnapshotStreamReader(Handlers handlers, uint64_t max_payload)
    : handlers_(std::move(handlers)), max_payload_(max_payload) {}

Status SnapshotStreamReader::Fail(Status status) {
  if (error_.ok()) error_ = std::move(status);
  return error_;
}

Status SnapshotStreamReader::Feed(std::string_view piece) {
  if (!error_.ok()) return error_;
  while (!piece.empty()) {
    if (ended_) {
      return Fail(InvalidArgument(
          "snapshot stream: bytes after the trailer: nothing may follow it (the upstream origin "
          "is broken, or the stream was altered in transit)"));
    }
    if (!in_frame_) {
      size_t take = std::min(kFrameHead - head_.size(), piece.size());
      head_.append(piece.substr(0, take));
      piece.remove_prefix(take);
      if (head_.size() < kFrameHead) break;
      uint64_t length = 0;
      for (size_t i = 1; i < kFrameHead; ++i) {
        length = (length << 8) | static_cast<unsigned char>(head_[i]);
      }
      frame_type_ = head_[0];
      head_.clear();
      Status ok = CheckFrameHead(frame_type_, length, has_header(), payload_bytes_, max_payload_,
                                 header_ ? header_->size : 0);
      if (!ok.ok()) return Fail(std::move(ok));
      in_frame_ = true;
      frame_left_ = length;
      body_.clear();
      if (frame_type_ != 'D') body_.reserve(length);
    } else {
      // A data frame's bytes go on as they come; a header's or trailer's wait for the rest.
      size_t take = static_cast<size_t>(std::min<uint64_t>(frame_left_, piece.size()));
      if (frame_type_ == 'D') {
        Status ok = OnFrame('D', piece.substr(0, take));
        if (!ok.ok()) return Fail(std::move(ok));
      } else {
        body_.append(piece.substr(0, take));
      }
      piece.remove_prefix(take);
      frame_left_ -= take;
    }
    // A frame is over when its last byte came, or at once when it has none.
    if (in_frame_ && frame_left_ == 0) {
      in_frame_ = false;
      if (frame_type_ != 'D') {
        Status ok = OnFrame(frame_type_, body_);
        body_.clear();
        body_.shrink_to_fit();
        if (!ok.ok()) return Fail(std::move(ok));
      }
    }
  }
  return Status::Ok();
}

// A whole 'H' or 'T' frame's body, or a piece of a 'D' frame's (CheckFrameHead has let the frame
// start here).
Status SnapshotStreamReader::OnFrame(char type, std::string_view body) {
  if (type == 'D') {
    if (body.empty()) return Status::Ok();
    sha_.Update(body);
    payload_bytes_ += body.size();
    return handlers_.on_data ? handlers_.on_data(body) : Status::Ok();
  }
  if (type == 'H') {
    ZDAP_ASSIGN_OR_RETURN(StreamHeader h, ParseHeader(body));
    header_ = std::move(h);
    return handlers_.on_header ? handlers_.on_header(*header_) : Status::Ok();
  }
  ZDAP_ASSIGN_OR_RETURN(Trailer t, ParseTrailer(body));
  if (t.bytes != payload_bytes_) {
    return InvalidArgument(
        fmt::format("snapshot stream: the trailer says the payload has {} bytes, but {} came: "
                    "the stream was altered in transit, or the upstream origin is broken",
                    t.bytes, payload_bytes_));
  }
  if (t.sha256 != sha_.HexDigest()) {
    return InvalidArgument("snapshot stream: digest mismatch: the payload was altered in transit");
  }
  ended_ = true;
  return Status::Ok();
}

Status SnapshotStreamReader::Finish() {
  if (!error_.ok()) return error_;
  if (ended_) return Status::Ok();
  if (!header_ && !in_frame_ && head_.empty()) {
    return Fail(
        InvalidArgument(fmt::format("snapshot stream: empty (no header frame): {}", kCutOffHint)));
  }
  if (in_frame_) {
    return Fail(InvalidArgument(fmt::format(
        "snapshot stream: cut off in a {} frame, {} of its bytes missing, after {} bytes of "
        "payload: {}",
        FrameName(frame_type_), frame_left_, payload_bytes_, kCutOffHint)));
  }
  if (!head_.empty()) {
    return Fail(InvalidArgument(
        fmt::format("snapshot stream: cut off in a frame's head after {} bytes of payload: {}",
                    payload_bytes_, kCutOffHint)));
  }
  return Fail(InvalidArgument(
      fmt::format("snapshot stream: cut off after {} bytes of payload (no trailer): {}",
                  payload_bytes_, kCutOffHint)));
}

}  // namespace zdap::api
