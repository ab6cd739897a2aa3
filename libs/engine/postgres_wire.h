// PostgreSQL frontend/backend protocol v3, the few messages zdap needs to probe a server.
// Pure functions over bytes so they can be tested and fuzzed without a socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zdap::engine::pgwire {

// A StartupMessage for protocol 3.0 with user and database parameters.
std::string StartupMessage(std::string_view user, std::string_view database);

enum class ReplyKind {
  kIncomplete,      // need more bytes
  kAuthentication,  // 'R': the server accepts logins: it is ready
  kError,           // 'E': see sqlstate/message
  kMalformed,       // not a PostgreSQL server, or a broken reply
};

struct Reply {
  ReplyKind kind = ReplyKind::kIncomplete;
  std::string sqlstate;  // for kError, e.g. "57P03" (cannot_connect_now: starting up)
  std::string message;   // for kError, the server's human-readable message
};

// Parses the first backend message of a startup exchange from `bytes`. Never reads past the
// given bytes; messages claiming more than 64 KiB are malformed.
Reply ParseStartupReply(std::string_view bytes);

}  // namespace zdap::engine::pgwire
