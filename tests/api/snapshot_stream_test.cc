// libs/api/snapshot_stream.h: a stream reads back the same however it is cut into pieces, data
// is handed on as it arrives (never kept), and every cut, altered, malformed, oversized or
// hostile stream is refused with a message that says what happened, the same wherever the
// pieces were cut, and for good.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "api/snapshot_stream.h"
#include "support/test_env.h"

namespace json = boost::json;

namespace zdap {
namespace {

const std::string kCutOffHint = "the upstream origin stopped or the connection dropped";

SystemTime At(const char* rfc3339) {
  return *ParseRfc3339(rfc3339);
}

api::StreamHeader SampleHeader() {
  api::StreamHeader h;
  h.format = "btrfs";
  h.resource = "chinook";
  h.snapshot = "chinook@20261130T101010Z";
  h.base = "chinook@20261129T101010Z";
  h.created_at = At("2026-11-30T10:10:10Z");
  h.data_as_of = At("2026-11-30T03:00:00Z");
  h.origin = "origin-a.example.com:7432";
  h.size = 12;
  h.clone_lock_no_password = true;
  return h;
}

// A full tar.zst stream of a snapshot of unknown size and data age.
api::StreamHeader FullHeader() {
  api::StreamHeader h = SampleHeader();
  h.format = "tar.zst";
  h.base.clear();
  h.data_as_of.reset();
  h.size = 0;
  h.clone_lock_no_password = false;
  return h;
}

void CheckSameHeader(const api::StreamHeader& a, const api::StreamHeader& b) {
  CHECK(a.format == b.format);
  CHECK(a.resource == b.resource);
  CHECK(a.snapshot == b.snapshot);
  CHECK(a.base == b.base);
  CHECK(a.created_at == b.created_at);
  CHECK(a.data_as_of == b.data_as_of);
  CHECK(a.origin == b.origin);
  CHECK(a.size == b.size);
  CHECK(a.clone_lock_no_password == b.clone_lock_no_password);
}

std::string Digest(std::string_view data) {
  api::Sha256 sha;
  sha.Update(data);
  return sha.HexDigest();
}

// A frame written by hand, not by the encoder under test: type, 4-byte big-endian length, body.
std::string RawFrame(char type, std::string_view body, uint64_t length) {
  std::string out(1, type);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  out.append(body);
  return out;
}
std::string RawFrame(char type, std::string_view body) {
  return RawFrame(type, body, body.size());
}

// The header frame's JSON object, to be changed by a test and framed with RawFrame.
json::object HeaderJson(const api::StreamHeader& h = SampleHeader()) {
  return json::parse(api::EncodeHeaderFrame(h).substr(5)).as_object();
}
std::string HeaderFrameOf(const json::value& v) {
  return RawFrame('H', json::serialize(v));
}

// A whole stream: the header, `frames` as data frames, the trailer they call for.
std::string Stream(const api::StreamHeader& h, const std::vector<std::string>& frames) {
  std::string out = api::EncodeHeaderFrame(h);
  std::string payload;
  for (const std::string& f : frames) {
    out += api::EncodeDataFrame(f);
    payload += f;
  }
  return out + api::EncodeTrailerFrame(payload.size(), Digest(payload));
}

// The small stream most tests start from: 12 bytes of payload in three frames, one empty.
const std::vector<std::string> kSmallFrames = {"hello, ", "", "world"};
std::string SmallStream() {
  return Stream(SampleHeader(), kSmallFrames);
}

std::string TrailerOf(const json::value& v) {
  return RawFrame('T', json::serialize(v));
}

// The small stream up to its trailer (header and data frames), for a test's own trailer.
std::string SmallStreamBody() {
  std::string s = SmallStream();
  return s.substr(0, s.size() - api::EncodeTrailerFrame(12, Digest("hello, world")).size());
}

struct Received {
  std::optional<api::StreamHeader> header;
  int header_calls = 0;
  bool data_before_header = false;
  std::string payload;
  size_t data_calls = 0;
  uint64_t payload_bytes = 0;
  Status status;  // Feed's first error, else Finish's answer
};

bool SameStatus(const Status& a, const Status& b) {
  return a.code() == b.code() && a.message() == b.message();
}

// Reads `stream` cut at offsets `cuts` (ascending). An error must be final: Feed and Finish
// return it again, and no handler runs after it.
Received Read(std::string_view stream, const std::vector<size_t>& cuts, uint64_t max_payload = 0,
              api::SnapshotStreamReader::Handlers handlers = {}) {
  Received got;
  bool failed = false;
  api::SnapshotStreamReader::Handlers h;
  h.on_header = [&](const api::StreamHeader& header) {
    CHECK_FALSE(failed);
    ++got.header_calls;
    got.header = header;
    return handlers.on_header ? handlers.on_header(header) : Status::Ok();
  };
  h.on_data = [&](std::string_view data) {
    CHECK_FALSE(failed);
    CHECK_FALSE(data.empty());
    if (got.header_calls == 0) got.data_before_header = true;
    ++got.data_calls;
    got.payload.append(data);
    return handlers.on_data ? handlers.on_data(data) : Status::Ok();
  };
  api::SnapshotStreamReader reader(std::move(h), max_payload);
  size_t from = 0;
  for (size_t i = 0; i <= cuts.size() && got.status.ok(); ++i) {
    size_t to = i < cuts.size() ? cuts[i] : stream.size();
    got.status = reader.Feed(stream.substr(from, to - from));
    from = to;
  }
  if (got.status.ok()) got.status = reader.Finish();
  if (!got.status.ok()) {
    failed = true;
    CHECK(SameStatus(reader.Feed(SmallStream()), got.status));
    CHECK(SameStatus(reader.Feed(""), got.status));
    CHECK(SameStatus(reader.Finish(), got.status));
  } else {
    CHECK(reader.Finish().ok());  // and again
  }
  CHECK(reader.has_header() == got.header.has_value());
  got.payload_bytes = reader.payload_bytes();
  return got;
}

Received ReadWhole(std::string_view stream, uint64_t max_payload = 0) {
  return Read(stream, {}, max_payload);
}

std::vector<size_t> EveryByte(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

// `stream` read whole and a byte at a time: refused both ways, with the same InvalidArgument
// that begins "snapshot stream: " and contains `says`. Returns the whole read.
Received Refused(std::string_view stream, const std::string& says, uint64_t max_payload = 0) {
  Received whole = ReadWhole(stream, max_payload);
  INFO(whole.status.message());
  REQUIRE_FALSE(whole.status.ok());
  CHECK(whole.status.code() == Code::kInvalidArgument);
  CHECK(whole.status.message().rfind("snapshot stream: ", 0) == 0);
  CHECK(whole.status.message().find(says) != std::string::npos);
  CHECK_FALSE(whole.data_before_header);
  CHECK(whole.header_calls <= 1);
  if (stream.size() < (1u << 16)) {
    Received bytes = Read(stream, EveryByte(stream.size()), max_payload);
    INFO("byte by byte: " << bytes.status.message());
    CHECK(SameStatus(bytes.status, whole.status));
    CHECK(bytes.payload == whole.payload);
  }
  return whole;
}

// `stream` read whole (and a byte at a time when it is small) without an error.
Received Accepted(std::string_view stream, uint64_t max_payload = 0) {
  Received whole = ReadWhole(stream, max_payload);
  INFO(whole.status.message());
  REQUIRE(whole.status.ok());
  CHECK(whole.header_calls == 1);
  CHECK_FALSE(whole.data_before_header);
  CHECK(whole.payload_bytes == whole.payload.size());
  if (stream.size() < (1u << 16)) {
    Received bytes = Read(stream, EveryByte(stream.size()), max_payload);
    INFO("byte by byte: " << bytes.status.message());
    CHECK(bytes.status.ok());
    CHECK(bytes.payload == whole.payload);
  }
  return whole;
}

std::string Flipped(std::string s, size_t at) {
  s[at] = static_cast<char>(s[at] ^ 0x20);
  return s;
}

}  // namespace

TEST_CASE("snapshot stream: Sha256 of known vectors, in one piece or many") {
  CHECK(Digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  api::Sha256 pieces;
  pieces.Update("a");
  pieces.Update("");
  pieces.Update("bc");
  CHECK(pieces.HexDigest() == Digest("abc"));
  // A million 'a' (FIPS 180-2's third vector), in pieces of 1000.
  api::Sha256 million;
  for (int i = 0; i < 1000; ++i) million.Update(std::string(1000, 'a'));
  CHECK(million.HexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // After HexDigest the object hashes anew.
  million.Update("abc");
  CHECK(million.HexDigest() == Digest("abc"));
}

TEST_CASE("snapshot stream: frames on the wire") {
  CHECK(api::EncodeDataFrame("abc") == std::string("D\0\0\0\3abc", 8));
  CHECK(api::EncodeDataFrame("") == std::string("D\0\0\0\0", 5));
  std::string out = "x";
  api::AppendDataFrameHead(api::kMaxDataFrame, &out);
  CHECK(out == std::string("xD\x00\x40\x00\x00", 6));
  out.clear();
  api::AppendDataFrameHead(0x010203, &out);
  CHECK(out == std::string("D\x00\x01\x02\x03", 5));

  std::string header = api::EncodeHeaderFrame(SampleHeader());
  REQUIRE(header.size() > 5);
  CHECK(header.substr(0, 5) == RawFrame('H', "", header.size() - 5));
  json::object o = json::parse(header.substr(5)).as_object();
  CHECK(o.size() == 9);
  CHECK(o.at("clone_lock") == "no-password");
  CHECK(o.at("format") == "btrfs");
  CHECK(o.at("resource") == "chinook");
  CHECK(o.at("snapshot") == "chinook@20261130T101010Z");
  CHECK(o.at("base") == "chinook@20261129T101010Z");
  CHECK(o.at("created_at") == "2026-11-30T10:10:10Z");
  CHECK(o.at("data_as_of") == "2026-11-30T03:00:00Z");
  CHECK(o.at("origin") == "origin-a.example.com:7432");
  CHECK(o.at("size") == 12);
  api::StreamHeader full = SampleHeader();
  full.base.clear();
  full.data_as_of.reset();
  full.size = 0;
  o = json::parse(api::EncodeHeaderFrame(full).substr(5)).as_object();
  CHECK(o.at("base").is_null());
  CHECK(o.at("data_as_of").is_null());
  CHECK(o.at("size") == 0);

  std::string trailer = api::EncodeTrailerFrame(3, Digest("abc"));
  CHECK(trailer.substr(0, 5) == RawFrame('T', "", trailer.size() - 5));
  CHECK(json::parse(trailer.substr(5)) ==
        json::parse(R"({"bytes":3,"sha256":")" + Digest("abc") + "\"}"));
}

TEST_CASE("snapshot stream: a small stream reads back the same, split at every byte boundary") {
  for (const api::StreamHeader& sent : {SampleHeader(), FullHeader()}) {
    std::string stream = Stream(sent, kSmallFrames);
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
      INFO("cut at " << cut);
      Received got = Read(stream, {cut});
      REQUIRE(got.status.ok());
      CHECK(got.header_calls == 1);
      CHECK_FALSE(got.data_before_header);
      REQUIRE(got.header);
      CheckSameHeader(*got.header, sent);
      CHECK(got.payload == "hello, world");
      CHECK(got.payload_bytes == 12);
    }
    Received whole = Accepted(stream);
    CHECK(whole.payload == "hello, world");
    CHECK(whole.data_calls == 2);  // the empty frame is not handed on
  }
  // No data frames at all: an empty payload.
  Received empty = Accepted(Stream(SampleHeader(), {}));
  CHECK(empty.payload.empty());
  CHECK(empty.data_calls == 0);
}

TEST_CASE("snapshot stream: a 5 MB stream split at random boundaries is handed on as it comes") {
  std::mt19937_64 rng(23);  // fixed: the same pieces on every run
  std::string payload(5 * 1024 * 1024 + 123, '\0');
  for (char& c : payload) c = static_cast<char>(rng());
  // Frames of the largest size allowed, of random sizes, and empty ones.
  std::vector<std::string> frames;
  size_t at = 0;
  while (at < payload.size()) {
    size_t n = frames.empty() ? api::kMaxDataFrame : rng() % (300 << 10);
    if (frames.size() % 5 == 3) n = 0;
    n = std::min(n, payload.size() - at);
    frames.push_back(payload.substr(at, n));
    at += n;
  }
  REQUIRE(frames.size() > 4);
  api::StreamHeader h = SampleHeader();
  h.size = payload.size();
  std::string stream = Stream(h, frames);
  // payload_in[i]: payload bytes in the stream's first i bytes.
  std::vector<uint32_t> payload_in(stream.size() + 1, 0);
  {
    std::vector<bool> is_payload(stream.size(), false);
    size_t pos = api::EncodeHeaderFrame(h).size();
    for (const std::string& f : frames) {
      for (size_t i = 0; i < f.size(); ++i) is_payload[pos + 5 + i] = true;
      pos += 5 + f.size();
    }
    for (size_t i = 0; i < stream.size(); ++i) payload_in[i + 1] = payload_in[i] + is_payload[i];
  }

  for (int round = 0; round < 3; ++round) {
    std::string received;
    api::SnapshotStreamReader::Handlers handlers;
    handlers.on_data = [&](std::string_view data) {
      received.append(data);
      return Status::Ok();
    };
    api::SnapshotStreamReader reader(std::move(handlers));
    size_t fed = 0;
    while (fed < stream.size()) {
      // Mostly large pieces, some of a few bytes (cutting frame heads apart).
      size_t n = rng() % 4 == 0 ? 1 + rng() % 7 : 1 + rng() % (round == 0 ? 1 << 20 : 70000);
      n = std::min(n, stream.size() - fed);
      REQUIRE(reader.Feed(std::string_view(stream).substr(fed, n)).ok());
      fed += n;
      // Every payload byte fed has been handed on: nothing is kept back.
      REQUIRE(received.size() == payload_in[fed]);
    }
    Status finished = reader.Finish();
    INFO(finished.message());
    REQUIRE(finished.ok());
    CHECK(reader.payload_bytes() == payload.size());
    CHECK(received == payload);
  }
}

TEST_CASE("snapshot stream: a stream cut off anywhere is refused by Finish, saying where") {
  std::string stream = SmallStream();
  size_t header_end = api::EncodeHeaderFrame(SampleHeader()).size();
  size_t trailer_start = SmallStreamBody().size();
  for (size_t n = 0; n < stream.size(); ++n) {
    INFO("the first " << n << " bytes");
    Received got = ReadWhole(std::string_view(stream).substr(0, n));
    REQUIRE_FALSE(got.status.ok());
    CHECK(got.status.code() == Code::kInvalidArgument);
    CHECK(got.status.message().find(kCutOffHint) != std::string::npos);
    CHECK(got.header_calls == (n >= header_end ? 1 : 0));
  }
  auto cut = [&](size_t n) { return ReadWhole(std::string_view(stream).substr(0, n)).status; };
  CHECK(cut(0).message() == "snapshot stream: empty (no header frame): " + kCutOffHint);
  CHECK(cut(3).message().find("cut off in a frame's head after 0 bytes") != std::string::npos);
  CHECK(cut(header_end - 1).message().find("cut off in a header frame, 1 of its bytes missing") !=
        std::string::npos);
  // In "world", two bytes of it received.
  CHECK(cut(trailer_start - 3).message() ==
        "snapshot stream: cut off in a data frame, 3 of its bytes missing, after 9 bytes of "
        "payload: " +
            kCutOffHint);
  CHECK(cut(trailer_start).message() ==
        "snapshot stream: cut off after 12 bytes of payload (no trailer): " + kCutOffHint);
  CHECK(cut(trailer_start + 5).message().find("cut off in a trailer frame") != std::string::npos);
}

TEST_CASE("snapshot stream: an altered payload or a trailer that does not match is refused") {
  std::string stream = SmallStream();
  size_t header_end = api::EncodeHeaderFrame(SampleHeader()).size();
  // Each payload byte flipped in turn ("hello, " at header_end + 5, "world" after two heads).
  std::vector<size_t> payload_at;
  for (size_t i = 0; i < 7; ++i) payload_at.push_back(header_end + 5 + i);
  for (size_t i = 0; i < 5; ++i) payload_at.push_back(header_end + 5 + 7 + 5 + 5 + i);
  for (size_t at : payload_at) {
    INFO("byte " << at);
    Received got =
        Refused(Flipped(stream, at), "snapshot stream: digest mismatch: the payload was altered");
    CHECK(got.payload.size() == 12);  // handed on before the trailer could tell
    CHECK(got.payload != "hello, world");
  }
  std::string body = SmallStreamBody();
  std::string digest = Digest("hello, world");
  for (uint64_t bytes : {0, 11, 13}) {
    Refused(body + api::EncodeTrailerFrame(bytes, digest),
            "the trailer says the payload has " + std::to_string(bytes) + " bytes, but 12 came");
  }
  Refused(body + api::EncodeTrailerFrame(12, Digest("hello, World")), "digest mismatch");
  Accepted(body + api::EncodeTrailerFrame(12, digest));
}

TEST_CASE("snapshot stream: the trailer is exactly bytes and sha256, strictly typed") {
  std::string body = SmallStreamBody();
  std::string digest = Digest("hello, world");
  std::string upper = digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  struct Bad {
    json::value trailer;
    std::string says;
  };
  std::vector<Bad> bad = {
      {json::object{{"bytes", 12}, {"sha256", digest}, {"sha512", "00"}},
       "'sha512' is not a trailer key"},
      {json::object{{"bytes", 12}, {"sha256", digest}, {"note", nullptr}}, "'note' is not a"},
      {json::object{{"sha256", digest}}, "the trailer: 'bytes' is missing"},
      {json::object{{"bytes", nullptr}, {"sha256", digest}}, "'bytes' is missing"},
      {json::object{{"bytes", 12}}, "'sha256' is missing"},
      {json::object{{"bytes", "12"}, {"sha256", digest}}, "'bytes' must be a non-negative"},
      {json::object{{"bytes", -12}, {"sha256", digest}}, "'bytes' must be a non-negative"},
      {json::object{{"bytes", 12.0}, {"sha256", digest}}, "'bytes' must be a non-negative"},
      {json::object{{"bytes", 12}, {"sha256", 7}}, "'sha256' must be a string"},
      {json::object{{"bytes", 12}, {"sha256", upper}}, "not 64 lowercase hex digits"},
      {json::object{{"bytes", 12}, {"sha256", digest.substr(1)}}, "not 64 lowercase hex digits"},
      {json::object{{"bytes", 12}, {"sha256", digest + "0"}}, "not 64 lowercase hex digits"},
      {json::object{{"bytes", 12}, {"sha256", "g" + digest.substr(1)}}, "not 64 lowercase hex"},
      {json::array{12, digest}, "the trailer is not a JSON object"},
      {nullptr, "the trailer is not a JSON object"},
  };
  for (const Bad& b : bad) {
    INFO(json::serialize(b.trailer));
    Refused(body + TrailerOf(b.trailer), b.says);
  }
  for (std::string text : {"", "{", "{\"bytes\":12,}", "{\"bytes\":12}x"}) {
    INFO(text);
    Refused(body + RawFrame('T', text), "the trailer is not valid JSON");
  }
}

TEST_CASE("snapshot stream: frames out of place or of unknown type are refused at their head") {
  std::string header = api::EncodeHeaderFrame(SampleHeader());
  std::string stream = SmallStream();
  Received got = Refused(RawFrame('D', "x") + stream, "a data frame before the header frame");
  CHECK(got.payload.empty());
  Refused(api::EncodeTrailerFrame(0, Digest("")) + stream, "a trailer frame before the header");
  Refused(R"({"error":{"code":"not_found","message":"no snapshot"}})",
          "the body starts with byte 0x7b, not a header frame");
  // 'H' then "TTP/" as a length.
  Refused("HTTP/1.1 200 OK\r\n", "a header frame of 1414811695 bytes, more than the 65536");
  Refused(header + header + api::EncodeTrailerFrame(0, Digest("")), "a second header frame");
  got = Refused(header + api::EncodeDataFrame("abc") + RawFrame('X', "abc") + stream,
                "unknown frame type 0x58 after 3 bytes of payload");
  CHECK(got.payload == "abc");
  Refused(header + RawFrame('h', ""), "unknown frame type 0x68");
  Refused(header + RawFrame('\0', ""), "unknown frame type 0x00");
  // Anything after the trailer: a byte, a frame, a whole stream.
  for (const std::string& more :
       {std::string(1, 'D'), std::string(1, '\0'), api::EncodeDataFrame(""),
        api::EncodeTrailerFrame(12, Digest("hello, world")), stream}) {
    Refused(stream + more, "bytes after the trailer");
  }
}

TEST_CASE("snapshot stream: oversized frames are refused at their head, before their body") {
  std::string header = api::EncodeHeaderFrame(SampleHeader());
  // A hostile length: refused on the head alone, nothing handed on, nothing awaited.
  Received got = Refused(header + RawFrame('D', "", 0xFFFFFFFF),
                         "a data frame of 4294967295 bytes, more than the 4194304");
  CHECK(got.data_calls == 0);
  Refused(RawFrame('H', "", 0xFFFFFFFF), "a header frame of 4294967295 bytes, more than the 65536");
  Refused(header + RawFrame('T', "", 0xFFFFFFFF), "a trailer frame of 4294967295 bytes");
  Refused(header + RawFrame('D', "", api::kMaxDataFrame + 1), "a data frame of 4194305 bytes");
  Refused(header + RawFrame('T', "", api::kMaxHeaderFrame + 1), "a trailer frame of 65537 bytes");

  // At the limits exactly: accepted (the header padded with a key the reader ignores).
  api::StreamHeader big = SampleHeader();
  big.size = 0;
  std::string max_data(api::kMaxDataFrame, 'd');
  Received whole = Accepted(Stream(big, {max_data, "x"}));
  CHECK(whole.payload.size() == api::kMaxDataFrame + 1);
  json::object padded = HeaderJson();
  padded["padding"] = "";
  size_t short_by = api::kMaxHeaderFrame - json::serialize(padded).size();
  padded["padding"] = std::string(short_by, 'p');
  std::string max_header = HeaderFrameOf(padded);
  REQUIRE(max_header.size() == 5 + api::kMaxHeaderFrame);
  std::string rest = SmallStream().substr(api::EncodeHeaderFrame(SampleHeader()).size());
  Accepted(max_header + rest);
  padded["padding"] = std::string(short_by + 1, 'p');
  Refused(HeaderFrameOf(padded) + rest, "a header frame of 65537 bytes, more than the 65536");
}

TEST_CASE("snapshot stream: a payload over the follower's limit or twice the announced size") {
  // "hello, " then "world": refused at the frame that would go over, before its bytes.
  std::string stream = SmallStream();  // size 12 announced
  CHECK(Accepted(stream, /*max_payload=*/12).payload == "hello, world");
  Received got = Refused(stream, "the payload goes over the 11 bytes this follower takes", 11);
  CHECK(got.payload == "hello, ");
  Refused(stream, "a data frame of 7 bytes after 0", 6);

  api::StreamHeader h = SampleHeader();
  h.size = 6;  // twice that: 12
  Accepted(Stream(h, kSmallFrames));
  h.size = 5;
  got = Refused(Stream(h, kSmallFrames),
                "the payload goes over twice the 5 bytes the header announced (a data frame "
                "of 5 bytes after 7)");
  CHECK(got.payload == "hello, ");
  h.size = UINT64_MAX;  // twice that does not wrap around
  Accepted(Stream(h, kSmallFrames));
  h.size = 0;  // unknown: no limit of its own
  Accepted(Stream(h, {std::string(100000, 'x')}));
  // Both limits: the smaller one counts.
  h.size = 100;
  Refused(Stream(h, kSmallFrames), "the 11 bytes this follower takes", 11);
  h.size = 5;
  Refused(Stream(h, kSmallFrames), "twice the 5 bytes", 1000);
}

TEST_CASE("snapshot stream: the header is strict about types and values, tolerant of new keys") {
  std::string rest = SmallStream().substr(api::EncodeHeaderFrame(SampleHeader()).size());
  auto with = [&](const char* key, json::value v) {
    json::object o = HeaderJson();
    o[key] = std::move(v);
    return HeaderFrameOf(o) + rest;
  };
  auto without = [&](const char* key) {
    json::object o = HeaderJson();
    o.erase(key);
    return HeaderFrameOf(o) + rest;
  };

  // Keys from a newer sender are ignored; null or absent optional keys are "none".
  Received got = Accepted(with("compression", json::object{{"level", 19}, {"x", json::array{}}}));
  REQUIRE(got.header);
  CheckSameHeader(*got.header, SampleHeader());
  for (const char* key : {"base", "data_as_of", "size"}) {
    for (const std::string& stream : {with(key, nullptr), without(key)}) {
      got = Accepted(stream);
      REQUIRE(got.header);
      CHECK(got.header->base.empty() == (std::string(key) == "base"));
      CHECK(got.header->data_as_of.has_value() == (std::string(key) != "data_as_of"));
      CHECK(got.header->size == (std::string(key) == "size" ? 0 : 12));
    }
  }
  CHECK(Accepted(with("base", "")).header->base.empty());
  CHECK_FALSE(Accepted(with("clone_lock", nullptr)).header->clone_lock_no_password);
  CHECK_FALSE(Accepted(without("clone_lock")).header->clone_lock_no_password);
  CHECK(Accepted(with("origin", json::string(std::string(256, 'o')))).header->origin.size() == 256);
  CHECK(Accepted(with("origin", "https://[::1]:7432/ é")).header->origin ==
        "https://[::1]:7432/ é");
  CHECK(Accepted(with("created_at", "2026-11-30T10:10:10.250Z")).header->created_at ==
        At("2026-11-30T10:10:10Z") + std::chrono::milliseconds(250));
  for (const char* format : {"btrfs", "tar.zst", "zfs"}) {
    CHECK(Accepted(with("format", format)).header->format == format);
  }

  for (const char* key : {"format", "resource", "snapshot", "created_at", "origin"}) {
    INFO(key);
    Refused(without(key), std::string("snapshot stream: the header: '") + key + "' is missing");
    Refused(with(key, nullptr), std::string("'") + key + "' is missing");
  }
  struct Bad {
    const char* key;
    json::value v;
    std::string says;
  };
  std::vector<Bad> bad = {
      {"format", 7, "'format' must be a string"},
      {"format", "zip", "'format' is 'zip', not one this follower reads (btrfs, tar.zst or zfs)"},
      {"format", "BTRFS", "'format' is 'BTRFS'"},
      {"format", "", "'format' is ''"},
      {"resource", json::array{}, "'resource' must be a string"},
      {"resource", "sakila",
       "'snapshot' is 'chinook@20261130T101010Z', a snapshot of 'chinook', but the stream is of "
       "resource 'sakila'"},
      {"resource", "", "but the stream is of resource ''"},
      {"snapshot", json::object{}, "'snapshot' must be a string"},
      {"snapshot", "sakila@20261130T101010Z", "a snapshot of 'sakila'"},
      {"snapshot", "chinook", "'snapshot': snapshot id 'chinook' is not valid"},
      {"snapshot", "chinook@yesterday", "'snapshot': snapshot id 'chinook@yesterday' is not"},
      {"snapshot", "../etc@20261130T101010Z", "'snapshot': "},
      {"snapshot", "", "'snapshot': "},
      {"snapshot", "chin\nook@20261130T101010Z", "'snapshot': resource name 'chin?ook' is not"},
      {"base", 5, "'base' must be a string"},
      {"clone_lock", true, "'clone_lock' must be a string"},
      {"clone_lock", "none", "'clone_lock' is 'none', not \"no-password\" or null"},
      {"base", "sakila@20261129T101010Z", "'base' is 'sakila@20261129T101010Z', a snapshot of"},
      {"base", "chinook@x", "'base': snapshot id 'chinook@x' is not valid"},
      {"created_at", 0, "'created_at' must be a string"},
      {"created_at", "yesterday", "'created_at' is not an RFC 3339 time"},
      {"created_at", "2026-11-30 10:10:10", "'created_at' is not an RFC 3339 time"},
      {"data_as_of", true, "'data_as_of' must be a string"},
      {"data_as_of", "2026-13-01T00:00:00Z", "'data_as_of' is not an RFC 3339 time"},
      {"origin", json::array{"a"}, "'origin' must be a string"},
      {"origin", json::string(std::string(257, 'o')), "'origin' has 257 bytes, more than 256"},
      {"origin", "a\nb", "'origin' 'a?b' has control characters"},
      {"origin", "a\x01", "has control characters"},
      {"origin", "a\x7f", "has control characters"},
      {"origin", json::string(std::string("a\0b", 3)), "has control characters"},
      {"size", -1, "'size' must be a non-negative integer"},
      {"size", "12", "'size' must be a non-negative integer"},
      {"size", 1.5, "'size' must be a non-negative integer"},
  };
  for (const Bad& b : bad) {
    INFO(b.key << " = " << json::serialize(b.v));
    Received r = Refused(with(b.key, b.v), b.says);
    CHECK(r.header_calls == 0);
    CHECK(r.payload.empty());
    // What came from the other end is quoted without its control characters.
    for (char c : r.status.message()) CHECK(static_cast<unsigned char>(c) >= 0x20);
  }

  for (std::string text : {"[]", "\"chinook\"", "null", "42", "true"}) {
    INFO(text);
    Refused(RawFrame('H', text) + rest, "snapshot stream: the header is not a JSON object");
  }
  std::string deep = "{\"x\":" + std::string(1000, '[') + std::string(1000, ']') + "}";
  for (std::string text : {std::string(), std::string("{"), std::string("{\"format\":\"btrfs\",}"),
                           json::serialize(HeaderJson()) + "x", std::string("\xff\xfe"), deep}) {
    INFO(text.substr(0, 40));
    Refused(RawFrame('H', text) + rest, "snapshot stream: the header is not valid JSON");
  }
}

TEST_CASE("snapshot stream: an error from a handler is returned as is and ends the stream") {
  std::string stream = SmallStream();
  api::SnapshotStreamReader::Handlers refuse_header;
  refuse_header.on_header = [](const api::StreamHeader& h) {
    return Status(Code::kConflict, "no room for " + std::to_string(h.size) + " bytes");
  };
  for (const std::vector<size_t>& cuts : {std::vector<size_t>{}, EveryByte(stream.size())}) {
    Received got = Read(stream, cuts, 0, refuse_header);
    CHECK(got.status.code() == Code::kConflict);
    CHECK(got.status.message() == "no room for 12 bytes");
    CHECK(got.header_calls == 1);
    CHECK(got.data_calls == 0);
  }

  int calls = 0;
  api::SnapshotStreamReader::Handlers refuse_data;
  refuse_data.on_data = [&](std::string_view) {
    return ++calls < 2 ? Status::Ok() : IoError("write to btrfs receive: Broken pipe");
  };
  for (const std::vector<size_t>& cuts : {std::vector<size_t>{}, EveryByte(stream.size())}) {
    calls = 0;
    Received got = Read(stream, cuts, 0, refuse_data);
    CHECK(got.status.code() == Code::kIoError);
    CHECK(got.status.message() == "write to btrfs receive: Broken pipe");
    CHECK(got.data_calls == 2);
  }

  // Without handlers the stream is still read and checked.
  api::SnapshotStreamReader bare(api::SnapshotStreamReader::Handlers{});
  REQUIRE(bare.Feed(stream).ok());
  CHECK(bare.Finish().ok());
  CHECK(bare.payload_bytes() == 12);
  REQUIRE(bare.header());
  CheckSameHeader(*bare.header(), SampleHeader());
  api::SnapshotStreamReader bare_flipped(api::SnapshotStreamReader::Handlers{});
  // The trailer is checked as it arrives, by Feed.
  CHECK(bare_flipped.Feed(Flipped(stream, SmallStreamBody().size() - 2))
            .message()
            .find("digest mismatch") != std::string::npos);
  CHECK_FALSE(bare_flipped.Finish().ok());
}

// The seeds of fuzz/snapshot_stream.cc: its first byte picks where the rest is cut, the rest is
// a stream. Written once by the hidden test below; checked here so that they stay what their
// names say when the format changes.
namespace {

struct Seed {
  const char* name;
  std::string input;
  const char* says;  // "" = a whole stream
};

std::vector<Seed> FuzzSeeds() {
  api::StreamHeader h = SampleHeader();
  std::string stream = Stream(h, kSmallFrames);
  // A byte of "world", the payload's last frame.
  size_t payload_end = SmallStreamBody().size();
  return {
      {"valid-whole", '\0' + stream, ""},
      {"valid-split", '\x07' + stream, ""},
      {"valid-full-empty", '\x03' + Stream(FullHeader(), {}), ""},
      {"truncated", '\x05' + stream.substr(0, stream.size() - 40), "cut off"},
      {"corrupted", '\x02' + Flipped(stream, payload_end - 2), "digest mismatch"},
  };
}

std::string FuzzCorpusDir() {
  return test::SourceDir() + "/fuzz/corpus/snapshot_stream";
}

}  // namespace

TEST_CASE("snapshot stream: the committed fuzz seeds are what their names say") {
  for (const Seed& seed : FuzzSeeds()) {
    INFO(seed.name);
    std::ifstream in(FuzzCorpusDir() + "/" + seed.name, std::ios::binary);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == seed.input);
    std::string stream = seed.input.substr(1);
    if (*seed.says == '\0') {
      Accepted(stream);
    } else {
      Refused(stream, seed.says);
    }
  }
}

TEST_CASE("snapshot stream: write the fuzz seeds", "[.write-fuzz-seeds]") {
  for (const Seed& seed : FuzzSeeds()) {
    std::ofstream out(FuzzCorpusDir() + "/" + seed.name, std::ios::binary | std::ios::trunc);
    out << seed.input;
    REQUIRE(out.good());
  }
}

}  // namespace zdap
