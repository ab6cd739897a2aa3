#include <catch2/catch.hpp>

#include <random>

#include "engine/postgres_wire.h"

using namespace zdap::engine::pgwire;

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
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    (void)ParseStartupReply(junk);  // must not crash or trip the sanitizers
  }
}
