#include "proxy/check_protocol.h"

#include <fmt/format.h>

#include <cstdint>

#include "proxy/address.h"

namespace zdap::proxy {
namespace {

uint32_t Be32(std::string_view d, size_t at) {
  return (uint32_t{static_cast<unsigned char>(d[at])} << 24) |
         (uint32_t{static_cast<unsigned char>(d[at + 1])} << 16) |
         (uint32_t{static_cast<unsigned char>(d[at + 2])} << 8) |
         uint32_t{static_cast<unsigned char>(d[at + 3])};
}

void PutBe32(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v >> 24));
  s->push_back(static_cast<char>(v >> 16));
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v));
}

void PutLe32(std::string* s, uint32_t v) {
  s->push_back(static_cast<char>(v));
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v >> 16));
  s->push_back(static_cast<char>(v >> 24));
}

ProbeResult Fail(std::string reason) {
  return {Verdict::kFail, std::move(reason)};
}

}  // namespace

std::string PostgresStartupMessage() {
  std::string body;
  PutBe32(&body, 196608);  // protocol 3.0
  for (std::string_view s :
       {"user", "zdap-healthcheck", "database", "postgres", "application_name", "zdap-proxyd"}) {
    body.append(s);
    body.push_back('\0');
  }
  body.push_back('\0');
  std::string msg;
  PutBe32(&msg, static_cast<uint32_t>(body.size() + 4));
  return msg + body;
}

std::string PostgresTerminateMessage() {
  std::string msg = "X";
  PutBe32(&msg, 4);
  return msg;
}

ProbeResult ParsePostgresReply(std::string_view data) {
  if (data.empty()) return {};
  char type = data[0];
  if (type != 'R' && type != 'E' && type != 'v') {
    return Fail(fmt::format("not a PostgreSQL reply (first byte {})", Quote(data.substr(0, 1))));
  }
  if (data.size() < 5) return {};
  uint32_t len = Be32(data, 1);
  if (len < 4 || len > kMaxProbeReply) {
    return Fail(fmt::format("PostgreSQL reply with bad length {}", len));
  }
  if (type == 'R' || type == 'v') return {Verdict::kPass, {}};
  // ErrorResponse: fields (code byte, C string) until a 0 byte.
  if (data.size() < 1 + size_t{len}) return {};
  std::string_view body = data.substr(5, len - 4);
  std::string_view sqlstate, message;
  size_t i = 0;
  while (i < body.size() && body[i] != '\0') {
    char code = body[i++];
    size_t end = body.find('\0', i);
    if (end == std::string_view::npos) return Fail("PostgreSQL error reply is malformed");
    std::string_view value = body.substr(i, end - i);
    if (code == 'C') sqlstate = value;
    if (code == 'M') message = value;
    i = end + 1;
  }
  if (sqlstate == "57P03" || sqlstate == "53300" || sqlstate.substr(0, 2) == "57" ||
      sqlstate.substr(0, 2) == "53" || sqlstate.substr(0, 2) == "58") {
    return Fail(
        fmt::format("PostgreSQL refuses connections: {} {}", Quote(sqlstate), Quote(message)));
  }
  return {Verdict::kPass, {}};
}

ProbeResult ParseMysqlGreeting(std::string_view data) {
  if (data.size() < 4) return {};
  uint32_t len = uint32_t{static_cast<unsigned char>(data[0])} |
                 (uint32_t{static_cast<unsigned char>(data[1])} << 8) |
                 (uint32_t{static_cast<unsigned char>(data[2])} << 16);
  if (len == 0 || len > 4096) return Fail(fmt::format("MySQL greeting with bad length {}", len));
  if (data[3] != 0) return Fail("MySQL greeting with a sequence number other than 0");
  if (data.size() < 4 + size_t{len}) return {};
  std::string_view p = data.substr(4, len);
  unsigned char kind = static_cast<unsigned char>(p[0]);
  if (kind == 0xff) {
    if (p.size() < 3) return Fail("MySQL error packet is malformed");
    unsigned code = unsigned{static_cast<unsigned char>(p[1])} |
                    (unsigned{static_cast<unsigned char>(p[2])} << 8);
    std::string_view msg = p.substr(3);
    if (!msg.empty() && msg[0] == '#' && msg.size() >= 6) msg = msg.substr(6);  // SQL state
    return Fail(fmt::format("MySQL refuses connections: error {} {}", code, Quote(msg)));
  }
  if (kind != 10)
    return Fail(fmt::format("not a MySQL protocol 10 greeting (first byte {})", kind));
  size_t nul = p.find('\0', 1);
  if (nul == std::string_view::npos || nul == 1) return Fail("MySQL greeting without a version");
  for (size_t i = 1; i < nul; ++i) {
    if (p[i] < 0x20 || p[i] > 0x7e) return Fail("MySQL greeting with a garbled version");
  }
  // connection id (4), auth data part 1 (8), filler (1), capability flags low (2).
  if (p.size() < nul + 1 + 4 + 8 + 1 + 2) return Fail("MySQL greeting is too short");
  if (p[nul + 1 + 4 + 8] != '\0') return Fail("MySQL greeting with a bad filler byte");
  return {Verdict::kPass, {}};
}

std::string MysqlLoginPacket() {
  std::string body;
  // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
  PutLe32(&body, 0x1 | 0x200 | 0x8000 | 0x80000);
  PutLe32(&body, 16 * 1024 * 1024);
  body.push_back(static_cast<char>(33));  // utf8_general_ci
  body.append(23, '\0');
  body.append("zdap-healthcheck");
  body.push_back('\0');
  body.push_back('\0');  // empty auth response
  body.append("mysql_native_password");
  body.push_back('\0');
  std::string pkt;
  pkt.push_back(static_cast<char>(body.size() & 0xff));
  pkt.push_back(static_cast<char>((body.size() >> 8) & 0xff));
  pkt.push_back(static_cast<char>((body.size() >> 16) & 0xff));
  pkt.push_back(1);  // sequence id
  return pkt + body;
}

}  // namespace zdap::proxy
