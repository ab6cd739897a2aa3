#include "wire/postgres_wire.h"

namespace zdap::wire::pg {
namespace {

void PutInt32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>((v >> 24) & 0xff));
  out->push_back(static_cast<char>((v >> 16) & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

uint32_t GetInt32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

}  // namespace

std::string StartupMessage(std::string_view user, std::string_view database) {
  std::string body;
  PutInt32(&body, 196608);  // protocol 3.0
  auto param = [&](std::string_view k, std::string_view v) {
    body.append(k);
    body.push_back('\0');
    body.append(v);
    body.push_back('\0');
  };
  param("user", user);
  param("database", database);
  param("application_name", "zdap-probe");
  body.push_back('\0');
  std::string msg;
  PutInt32(&msg, static_cast<uint32_t>(body.size() + 4));
  msg += body;
  return msg;
}

std::string SslRequest() {
  std::string msg;
  PutInt32(&msg, 8);
  PutInt32(&msg, 80877103);  // 1234 << 16 | 5679
  return msg;
}

std::string TerminateMessage() {
  std::string msg = "X";
  PutInt32(&msg, 4);
  return msg;
}

SslReply ParseSslReply(std::string_view b) {
  SslReply r;
  if (b.empty()) return r;
  switch (b[0]) {
    case 'S':
      r.kind = SslReplyKind::kAccepted;
      return r;
    case 'N':
      r.kind = SslReplyKind::kRefused;
      return r;
    case 'E':
      r.error = ParseStartupReply(b);
      if (r.error.kind == ReplyKind::kError) r.kind = SslReplyKind::kError;
      if (r.error.kind == ReplyKind::kMalformed) r.kind = SslReplyKind::kMalformed;
      return r;
    default:
      r.kind = SslReplyKind::kMalformed;
      return r;
  }
}

Reply ParseStartupReply(std::string_view b) {
  Reply r;
  if (b.size() < 5) return r;
  char type = b[0];
  uint32_t len = GetInt32(b, 1);
  if (len < 4 || len > 65536) {
    r.kind = ReplyKind::kMalformed;
    return r;
  }
  if (type == 'R') {
    r.kind = ReplyKind::kAuthentication;
    return r;
  }
  if (type != 'E') {
    r.kind = ReplyKind::kMalformed;
    return r;
  }
  if (b.size() < 1 + static_cast<size_t>(len)) return r;
  // ErrorResponse: a list of (1-byte field type, C string), ended by a zero byte.
  std::string_view body = b.substr(5, len - 4);
  size_t i = 0;
  bool terminated = false;
  while (i < body.size()) {
    char field = body[i++];
    if (field == '\0') {
      terminated = true;
      break;
    }
    size_t end = body.find('\0', i);
    if (end == std::string_view::npos) break;
    std::string_view value = body.substr(i, end - i);
    if (field == 'C') r.sqlstate = std::string(value);
    if (field == 'M') r.message = std::string(value.substr(0, 1024));
    i = end + 1;
  }
  r.kind = terminated ? ReplyKind::kError : ReplyKind::kMalformed;
  return r;
}

}  // namespace zdap::wire::pg
