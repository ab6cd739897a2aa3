#include <openssl/sha.h>

#include <catch2/catch.hpp>
#include <random>

#include "wire/mysql_wire.h"

using namespace zdap::wire::mysql;

namespace {

std::string Le(uint32_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

const std::string kSalt = "abcdefghijklmnopqrst";  // 20 bytes

// A MariaDB 10.11-like HandshakeV10 payload.
std::string GreetingPayload(const std::string& plugin = "mysql_native_password") {
  std::string p;
  p.push_back(10);
  p += std::string("5.5.5-10.11.19-MariaDB") + '\0';
  p += Le(42, 4);
  p += kSalt.substr(0, 8);
  p.push_back('\0');
  uint32_t caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000;
  p += Le(caps & 0xffff, 2);
  p.push_back(45);
  p += Le(2, 2);
  p += Le(caps >> 16, 2);
  p.push_back(21);
  p.append(10, '\0');
  p += kSalt.substr(8) + '\0';
  p += plugin + '\0';
  return p;
}

std::string Sha1(const std::string& s) {
  unsigned char out[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace

TEST_CASE("a MariaDB greeting parses into version, salt and plugin") {
  auto g = ParseGreeting(Frame(0, GreetingPayload()));
  REQUIRE(g.kind == Parse::kOk);
  CHECK(g.greeting.protocol == 10);
  CHECK(g.greeting.server_version == "5.5.5-10.11.19-MariaDB");
  CHECK(g.greeting.connection_id == 42);
  CHECK(g.greeting.salt == kSalt);
  CHECK(g.greeting.auth_plugin == "mysql_native_password");
}

TEST_CASE("every truncation of a greeting is incomplete, never a crash or a guess") {
  std::string whole = Frame(0, GreetingPayload());
  for (size_t n = 0; n < whole.size(); ++n) {
    CHECK(ParseGreeting(std::string_view(whole).substr(0, n)).kind == Parse::kIncomplete);
  }
}

TEST_CASE("hostile or foreign greetings are malformed") {
  // An HTTP server, a PostgreSQL error, an oversized length, a zero length.
  CHECK(ParseGreeting("HTTP/1.1 400 Bad Request\r\n\r\n").kind == Parse::kMalformed);
  // (A PostgreSQL error reads as a 69-byte frame: it never completes, and never parses.)
  CHECK(ParseGreeting(std::string("E\0\0\0\x10SFATAL\0", 12)).kind == Parse::kIncomplete);
  CHECK(ParseGreeting(std::string("\xff\xff\xff\x00", 4) + "xxxx").kind == Parse::kMalformed);
  CHECK(ParseGreeting(std::string("\x00\x00\x00\x00", 4)).kind == Parse::kMalformed);
  // Protocol 9, a version string without its NUL, fields cut short inside the packet.
  std::string p = GreetingPayload();
  std::string v9 = p;
  v9[0] = 9;
  CHECK(ParseGreeting(Frame(0, v9)).kind == Parse::kMalformed);
  CHECK(ParseGreeting(Frame(0, std::string("\x0a") + std::string(200, 'x'))).kind ==
        Parse::kMalformed);
  for (size_t n = 1; n < p.size() - 30; ++n) {
    auto r = ParseGreeting(Frame(0, p.substr(0, n)));
    CHECK(r.kind != Parse::kOk);
  }
  // No 4.1 authentication (secure connection flag cleared).
  std::string old = p;
  size_t caps_at = 1 + 23 + 4 + 8 + 1;
  old[caps_at + 1] = 0;  // clears 0x8000 (and 0x200)
  CHECK(ParseGreeting(Frame(0, old)).kind == Parse::kMalformed);
}

TEST_CASE("an ERR packet instead of a greeting carries the server's code and message") {
  std::string err = std::string("\xff") + Le(1040, 2) + "Too many connections";
  auto g = ParseGreeting(Frame(0, err));
  REQUIRE(g.kind == Parse::kError);
  CHECK(g.error.code == 1040);
  CHECK(g.error.sqlstate.empty());
  CHECK(g.error.message == "Too many connections");
  CHECK(ParseGreeting(Frame(0, "\xff\x01")).kind == Parse::kMalformed);
}

TEST_CASE("native password scramble matches its definition and the response frames it") {
  std::string pw = "zdap";
  std::string s1 = Sha1(pw);
  std::string expect = Sha1(kSalt + Sha1(s1));
  for (size_t i = 0; i < expect.size(); ++i) expect[i] = static_cast<char>(expect[i] ^ s1[i]);
  CHECK(NativePasswordScramble(pw, kSalt) == expect);
  CHECK(NativePasswordScramble("", kSalt).empty());

  auto g = ParseGreeting(Frame(0, GreetingPayload())).greeting;
  std::string resp = HandshakeResponse(g, "root", pw, "chinook");
  uint32_t len = static_cast<uint8_t>(resp[0]) | (static_cast<uint8_t>(resp[1]) << 8) |
                 (static_cast<uint8_t>(resp[2]) << 16);
  CHECK(len + 4 == resp.size());
  CHECK(resp[3] == 1);  // sequence after the greeting's 0
  CHECK(resp.find(std::string("root\0", 5) + '\x14' + expect) != std::string::npos);
  CHECK(resp.find(std::string("chinook\0mysql_native_password\0", 30)) != std::string::npos);
  // The password itself never goes on the wire.
  CHECK(resp.find(pw) == std::string::npos);
}

TEST_CASE("login replies: OK, ERR with SQLSTATE, auth switch, and junk") {
  CHECK(ParseAuthReply(Frame(2, std::string("\x00\x00\x00\x02\x00\x00\x00", 7))).kind ==
        Parse::kOk);
  auto denied = ParseAuthReply(
      Frame(2, std::string("\xff") + Le(1045, 2) + "#28000Access denied for user 'root'"));
  REQUIRE(denied.kind == Parse::kError);
  CHECK(denied.error.code == 1045);
  CHECK(denied.error.sqlstate == "28000");
  CHECK(denied.error.message == "Access denied for user 'root'");

  std::string new_salt = "ABCDEFGHIJKLMNOPQRST";
  auto sw = ParseAuthReply(
      Frame(2, std::string("\xfemysql_native_password\0", 23) + new_salt + std::string(1, '\0')));
  REQUIRE(sw.kind == Parse::kOk);
  REQUIRE(sw.auth_switch);
  CHECK(sw.plugin == "mysql_native_password");
  CHECK(sw.plugin_data == new_salt);
  std::string answer = AuthSwitchResponse(sw, "zdap");
  CHECK(answer == Frame(3, NativePasswordScramble("zdap", new_salt)));

  auto other = ParseAuthReply(Frame(2, std::string("\xfe") + "client_ed25519" + '\0' + "x"));
  REQUIRE(other.auth_switch);
  CHECK(AuthSwitchResponse(other, "zdap").empty());

  CHECK(ParseAuthReply(Frame(2, "\x01\x03")).kind == Parse::kMalformed);  // AuthMoreData
  CHECK(ParseAuthReply(Frame(2, std::string("\xfe", 1))).kind == Parse::kMalformed);
  CHECK(ParseAuthReply(Frame(2, std::string("\x00\x00", 2))).kind == Parse::kMalformed);
  CHECK(ParseAuthReply(std::string("\x07\x00\x00", 3)).kind == Parse::kIncomplete);
  CHECK(ParseAuthReply(std::string("\x01\x00\x01\x02", 4) + "x").kind == Parse::kMalformed);
}

// Both parsers decide on the first packet alone: every prefix of an input is still incomplete
// or already decided the same way. A greeting that parses yields a login that is one packet.
TEST_CASE("random bytes: decisions are stable under more bytes, logins are well framed") {
  std::mt19937 rng(7);
  std::string base = Frame(0, GreetingPayload());
  int greetings = 0, decided = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = base;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) b[4 + rng() % (b.size() - 4)] = static_cast<char>(rng());
    if (i % 4 == 0) b[rng() % 4] = static_cast<char>(rng());  // the header too, now and then
    b.resize(rng() % (b.size() + 8), static_cast<char>(rng()));
    auto g = ParseGreeting(b);
    auto a = ParseAuthReply(b);
    for (size_t n = 0; n < b.size(); ++n) {
      INFO("input " << i << " prefix " << n);
      auto gp = ParseGreeting(b.substr(0, n));
      if (gp.kind != Parse::kIncomplete) REQUIRE(gp.kind == g.kind);
      auto ap = ParseAuthReply(b.substr(0, n));
      if (ap.kind != Parse::kIncomplete) REQUIRE(ap.kind == a.kind);
    }
    if (g.kind != Parse::kIncomplete) ++decided;
    if (g.kind == Parse::kOk) {
      ++greetings;
      CHECK(g.greeting.salt.size() == 20);
      std::string login = HandshakeResponse(g.greeting, "u", "p", "d");
      REQUIRE(login.size() > 4);
      CHECK(Le(static_cast<uint32_t>(login.size() - 4), 3) == login.substr(0, 3));
      CHECK(static_cast<uint8_t>(login[3]) == static_cast<uint8_t>(g.greeting.sequence + 1));
    }
    if (a.auth_switch) {
      std::string answer = AuthSwitchResponse(a, "p");
      if (!answer.empty()) CHECK(static_cast<uint8_t>(answer[3]) == uint8_t(a.sequence + 1));
    }
  }
  CHECK(decided > 300);
  CHECK(greetings > 100);  // flips outside the checked fields leave good greetings
}

TEST_CASE("COM_QUIT is one packet of sequence 0") {
  CHECK(ComQuit() == std::string("\x01\0\0\0\x01", 5));
}
