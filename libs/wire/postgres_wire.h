// PostgreSQL frontend/backend protocol v3, the few messages zdap needs to probe a server.
// Pure functions over bytes so they can be tested and fuzzed without a socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zdap::wire::pg {

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

// An SSLRequest: the server answers with one byte, 'S' (go on with TLS) or 'N' (no TLS), and
// logs nothing when the client then closes after 'N'. Servers that do not know the request
// answer with an ErrorResponse.
std::string SslRequest();

enum class SslReplyKind {
  kIncomplete,  // need more bytes
  kAccepted,    // 'S'
  kRefused,     // 'N'
  kError,       // an ErrorResponse: see Reply
  kMalformed,   // anything else: not a PostgreSQL server
};
struct SslReply {
  SslReplyKind kind = SslReplyKind::kIncomplete;
  Reply error;  // for kError
};
// Parses the server's answer to SslRequest() from everything received so far.
SslReply ParseSslReply(std::string_view bytes);

// A Terminate message: the polite end of a session.
std::string TerminateMessage();

}  // namespace zdap::wire::pg
