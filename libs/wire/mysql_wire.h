// MySQL/MariaDB client/server protocol, the few packets zdap needs to log in as a readiness
// probe: the server greeting (HandshakeV10), HandshakeResponse41 with mysql_native_password,
// and the server's answer (OK, ERR, or an auth switch). Pure functions over bytes so they can
// be tested against hostile input without a socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zdap::wire::mysql {

// Packets larger than this are refused as malformed: a probe never needs more, and a hostile
// peer must not make the prober buffer megabytes.
constexpr size_t kMaxPayload = 16384;

enum class Parse {
  kIncomplete,  // need more bytes
  kOk,          // a whole, well-formed packet of the expected kind
  kError,       // the server sent an ERR packet: see ServerError
  kMalformed,   // not MySQL's protocol, or a broken packet
};

struct ServerError {
  uint16_t code = 0;     // e.g. 1045 access denied, 1049 unknown database
  std::string sqlstate;  // "" when the server sent none (errors before the handshake)
  std::string message;
};

struct Greeting {
  uint8_t sequence = 0;
  uint8_t protocol = 0;
  std::string server_version;
  uint32_t connection_id = 0;
  uint32_t capabilities = 0;
  std::string salt;         // the 20-byte scramble seed
  std::string auth_plugin;  // "" when the server does not name one
};

struct GreetingReply {
  Parse kind = Parse::kIncomplete;
  Greeting greeting;
  ServerError error;
};
// Parses the first packet a server sends after the connect.
GreetingReply ParseGreeting(std::string_view bytes);

// SHA1(password) XOR SHA1(salt + SHA1(SHA1(password))); empty for an empty password.
std::string NativePasswordScramble(std::string_view password, std::string_view salt);

// The client's HandshakeResponse41 logging in as `user` with mysql_native_password, asking
// for `database` (none when empty). Framed, with the sequence number after the greeting's.
std::string HandshakeResponse(const Greeting& greeting, std::string_view user,
                              std::string_view password, std::string_view database);

struct AuthReply {
  Parse kind = Parse::kIncomplete;
  uint8_t sequence = 0;
  ServerError error;
  bool auth_switch = false;  // kOk with a request to continue with another plugin
  std::string plugin;        // for auth_switch
  std::string plugin_data;   // for auth_switch: the new salt
};
// Parses the server's answer to a handshake or auth-switch response: OK, ERR, or an
// auth switch request (0xFE). Anything else (e.g. AuthMoreData) is kMalformed for a probe.
AuthReply ParseAuthReply(std::string_view bytes);

// The framed answer to an auth switch; "" when the plugin is not mysql_native_password.
std::string AuthSwitchResponse(const AuthReply& request, std::string_view password);

// COM_QUIT, the polite end of a logged-in session (sequence 0 of a new command).
std::string ComQuit();

// One packet: 3-byte little-endian length, sequence number, payload.
std::string Frame(uint8_t sequence, std::string_view payload);

}  // namespace zdap::wire::mysql
