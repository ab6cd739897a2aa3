#include "wire/mysql_wire.h"

#include <openssl/sha.h>

#include <algorithm>

namespace zdap::wire::mysql {
namespace {

constexpr uint32_t kClientLongPassword = 0x1;
constexpr uint32_t kClientConnectWithDb = 0x8;
constexpr uint32_t kClientProtocol41 = 0x200;
constexpr uint32_t kClientTransactions = 0x2000;
constexpr uint32_t kClientSecureConnection = 0x8000;
constexpr uint32_t kClientPluginAuth = 0x80000;
constexpr uint8_t kCharsetUtf8mb4 = 45;
constexpr const char* kNativePassword = "mysql_native_password";

struct Frame_ {
  Parse kind = Parse::kIncomplete;
  uint8_t sequence = 0;
  std::string_view payload;
};

uint8_t Byte(std::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]);
}

uint32_t Le(std::string_view b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | Byte(b, at + static_cast<size_t>(i));
  return v;
}

void PutLe(std::string* out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// The first packet in `bytes`; never reads past them.
Frame_ FirstFrame(std::string_view bytes) {
  Frame_ f;
  if (bytes.size() < 4) return f;
  uint32_t len = Le(bytes, 0, 3);
  if (len == 0 || len > kMaxPayload) {
    f.kind = Parse::kMalformed;
    return f;
  }
  if (bytes.size() < 4 + static_cast<size_t>(len)) return f;
  f.kind = Parse::kOk;
  f.sequence = Byte(bytes, 3);
  f.payload = bytes.substr(4, len);
  return f;
}

// An ERR packet's payload (0xFF already checked): code, optional "#" + SQLSTATE, message.
Parse ParseErr(std::string_view p, ServerError* err) {
  if (p.size() < 3) return Parse::kMalformed;
  err->code = static_cast<uint16_t>(Le(p, 1, 2));
  size_t at = 3;
  if (p.size() >= 9 && p[3] == '#') {
    err->sqlstate = std::string(p.substr(4, 5));
    at = 9;
  }
  err->message = std::string(p.substr(at, 512));
  return Parse::kError;
}

std::string Sha1(std::string_view data) {
  unsigned char out[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace

std::string Frame(uint8_t sequence, std::string_view payload) {
  std::string out;
  PutLe(&out, static_cast<uint32_t>(payload.size()), 3);
  out.push_back(static_cast<char>(sequence));
  out.append(payload);
  return out;
}

std::string ComQuit() {
  return Frame(0, "\x01");
}

GreetingReply ParseGreeting(std::string_view bytes) {
  GreetingReply r;
  Frame_ f = FirstFrame(bytes);
  if (f.kind != Parse::kOk) {
    r.kind = f.kind;
    return r;
  }
  r.kind = Parse::kMalformed;
  std::string_view p = f.payload;
  Greeting& g = r.greeting;
  g.sequence = f.sequence;
  if (Byte(p, 0) == 0xff) {
    r.kind = ParseErr(p, &r.error);
    return r;
  }
  g.protocol = Byte(p, 0);
  if (g.protocol != 10) return r;
  size_t nul = p.find('\0', 1);
  if (nul == std::string_view::npos) return r;
  g.server_version = std::string(p.substr(1, std::min<size_t>(nul - 1, 128)));
  size_t at = nul + 1;
  // connection id (4), salt part 1 (8), filler (1), capabilities low (2)
  if (p.size() < at + 15) return r;
  g.connection_id = Le(p, at, 4);
  g.salt = std::string(p.substr(at + 4, 8));
  g.capabilities = Le(p, at + 13, 2);
  at += 15;
  // charset (1), status (2), capabilities high (2), salt length (1), reserved (10)
  if (p.size() < at + 16) return r;  // a pre-4.1 server: no 20-byte salt, no native password
  g.capabilities |= Le(p, at + 3, 2) << 16;
  size_t salt_len = Byte(p, at + 5);
  at += 16;
  if ((g.capabilities & kClientSecureConnection) == 0) return r;
  size_t part2 = std::max<size_t>(13, salt_len > 8 ? salt_len - 8 : 0);
  if (p.size() < at + part2) return r;
  g.salt += std::string(p.substr(at, 12));
  at += part2;
  if (g.capabilities & kClientPluginAuth) {
    size_t end = p.find('\0', at);
    g.auth_plugin = std::string(p.substr(at, end == std::string_view::npos ? 64 : end - at));
  }
  r.kind = Parse::kOk;
  return r;
}

std::string NativePasswordScramble(std::string_view password, std::string_view salt) {
  if (password.empty()) return "";
  std::string stage1 = Sha1(password);
  std::string stage2 = Sha1(stage1);
  std::string mix = Sha1(std::string(salt.substr(0, 20)) + stage2);
  for (size_t i = 0; i < mix.size(); ++i) mix[i] = static_cast<char>(mix[i] ^ stage1[i]);
  return mix;
}

std::string HandshakeResponse(const Greeting& greeting, std::string_view user,
                              std::string_view password, std::string_view database) {
  uint32_t caps = kClientLongPassword | kClientProtocol41 | kClientTransactions |
                  kClientSecureConnection | kClientPluginAuth;
  if (!database.empty()) caps |= kClientConnectWithDb;
  std::string p;
  PutLe(&p, caps, 4);
  PutLe(&p, kMaxPayload, 4);
  p.push_back(static_cast<char>(kCharsetUtf8mb4));
  p.append(23, '\0');
  p.append(user);
  p.push_back('\0');
  std::string auth = NativePasswordScramble(password, greeting.salt);
  p.push_back(static_cast<char>(auth.size()));
  p.append(auth);
  if (!database.empty()) {
    p.append(database);
    p.push_back('\0');
  }
  p.append(kNativePassword);
  p.push_back('\0');
  return Frame(static_cast<uint8_t>(greeting.sequence + 1), p);
}

AuthReply ParseAuthReply(std::string_view bytes) {
  AuthReply r;
  Frame_ f = FirstFrame(bytes);
  if (f.kind != Parse::kOk) {
    r.kind = f.kind;
    return r;
  }
  r.sequence = f.sequence;
  std::string_view p = f.payload;
  switch (Byte(p, 0)) {
    case 0x00:  // OK: affected rows, insert id, status, warnings; a login needs no more
      r.kind = p.size() >= 7 ? Parse::kOk : Parse::kMalformed;
      return r;
    case 0xff:
      r.kind = ParseErr(p, &r.error);
      return r;
    case 0xfe: {
      // Auth switch request: plugin name NUL, then the plugin's data (often NUL-terminated).
      size_t nul = p.find('\0', 1);
      if (nul == std::string_view::npos || nul == 1) {
        r.kind = Parse::kMalformed;
        return r;
      }
      r.auth_switch = true;
      r.plugin = std::string(p.substr(1, std::min<size_t>(nul - 1, 64)));
      std::string_view data = p.substr(nul + 1);
      if (!data.empty() && data.back() == '\0') data.remove_suffix(1);
      r.plugin_data = std::string(data.substr(0, 64));
      r.kind = Parse::kOk;
      return r;
    }
    default:
      r.kind = Parse::kMalformed;
      return r;
  }
}

std::string AuthSwitchResponse(const AuthReply& request, std::string_view password) {
  if (request.plugin != kNativePassword || request.plugin_data.size() < 20) return "";
  return Frame(static_cast<uint8_t>(request.sequence + 1),
               NativePasswordScramble(password, request.plugin_data));
}

}  // namespace zdap::wire::mysql
