#include <catch2/catch.hpp>

#include <random>

#include "wire/postgres_wire.h"

using namespace zdap::wire::pg;

namespace {
std::string Msg(char type, const std::string& body) {
  std::string m(1, type);
  uint32_t len = static_cast<uint32_t>(body.size() + 4);
  for (int s = 24; s >= 0; s -= 8) m.push_back(static_cast<char>((len >> s) & 0xff));
  return m + body;
}
}  // namespace

TEST_CASE("StartupMessage is a length-prefixed protocol 3.0 message") {
  std::string m = StartupMessage("postgres", "chinook");
  REQUIRE(m.size() > 8);
  uint32_t len = (static_cast<uint8_t>(m[0]) << 24) | (static_cast<uint8_t>(m[1]) << 16) |
                 (static_cast<uint8_t>(m[2]) << 8) | static_cast<uint8_t>(m[3]);
  CHECK(len == m.size());
  CHECK(m.substr(4, 4) == std::string("\x00\x03\x00\x00", 4));
  CHECK(m.find(std::string("user\0postgres\0", 14)) != std::string::npos);
  CHECK(m.back() == '\0');
}

TEST_CASE("startup replies: auth request means ready, 57P03 means starting") {
  CHECK(ParseStartupReply(Msg('R', std::string("\0\0\0\x0a", 4))).kind ==
        ReplyKind::kAuthentication);
  auto starting = ParseStartupReply(
      Msg('E', std::string("SFATAL\0C57P03\0Mthe database system is starting up\0\0", 52)));
  CHECK(starting.kind == ReplyKind::kError);
  CHECK(starting.sqlstate == "57P03");
  CHECK(starting.message == "the database system is starting up");
  CHECK(ParseStartupReply("E\0\0").kind == ReplyKind::kIncomplete);
  CHECK(ParseStartupReply(Msg('E', "SFATAL\0C57P0")).kind == ReplyKind::kMalformed);
}

TEST_CASE("hostile startup replies are malformed, never read out of bounds") {
  CHECK(ParseStartupReply(std::string("R\xff\xff\xff\xff", 5)).kind == ReplyKind::kMalformed);
  CHECK(ParseStartupReply(std::string("R\0\0\0\x02", 5)).kind == ReplyKind::kMalformed);
  CHECK(ParseStartupReply("HTTP/1.1 400 Bad Request\r\n").kind == ReplyKind::kMalformed);
  CHECK(ParseStartupReply(std::string("E\x01\0\0\0", 5)).kind == ReplyKind::kMalformed);
  CHECK(ParseStartupReply(std::string("E\0\x01\0\0", 5)).kind == ReplyKind::kIncomplete);
}

// The parser decides on the first message alone: every prefix of an input is either still
// incomplete or already decided the same way, and bytes after a decision change nothing.
TEST_CASE("random replies: a decision never changes with more bytes") {
  std::mt19937 rng(7);
  int decided = 0, errors = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) {  // a plausible header, so that errors and incomplete replies are reached
      std::string fields = std::string("SFATAL\0C57P03\0Mm\0\0", 18);
      if (i % 4 == 2) fields.resize(rng() % 19);  // cut short, or unterminated
      std::string msg = Msg("EER"[i % 3], fields);
      if (i % 8 == 6) msg.resize(rng() % msg.size());  // incomplete
      junk = msg + junk;
    }
    Reply whole = ParseStartupReply(junk);
    if (whole.kind == ReplyKind::kError) {
      ++errors;
      CHECK(junk.find(whole.sqlstate) != std::string::npos);
      CHECK(whole.message.size() <= 1024);
    }
    for (size_t n = 0; n <= junk.size(); ++n) {
      Reply part = ParseStartupReply(junk.substr(0, n));
      INFO("input " << i << " prefix " << n);
      if (part.kind == ReplyKind::kIncomplete) continue;
      REQUIRE(part.kind == whole.kind);
      REQUIRE(part.sqlstate == whole.sqlstate);
    }
    if (whole.kind != ReplyKind::kIncomplete) {
      ++decided;
      CHECK(ParseStartupReply(junk + "more").kind == whole.kind);
    }
    SslReply ssl = ParseSslReply(junk);
    if (!junk.empty() && junk[0] != 'E') CHECK(ssl.kind != SslReplyKind::kIncomplete);
  }
  CHECK(decided > 1000);  // the loop reached decisions and errors, not only short inputs
  CHECK(errors > 50);
}

TEST_CASE("SSLRequest and its one-byte answers") {
  CHECK(SslRequest() == std::string("\0\0\0\x08\x04\xd2\x16\x2f", 8));
  CHECK(ParseSslReply("").kind == SslReplyKind::kIncomplete);
  CHECK(ParseSslReply("S").kind == SslReplyKind::kAccepted);
  CHECK(ParseSslReply("N").kind == SslReplyKind::kRefused);
  CHECK(ParseSslReply("E\0").kind == SslReplyKind::kIncomplete);
  SslReply e = ParseSslReply(Msg('E', std::string("SFATAL\0C0A000\0Munsupported\0\0", 28)));
  CHECK(e.kind == SslReplyKind::kError);
  CHECK(e.error.sqlstate == "0A000");
  CHECK(ParseSslReply("HTTP/1.1").kind == SslReplyKind::kMalformed);
  CHECK(TerminateMessage() == std::string("X\0\0\0\x04", 5));
}
