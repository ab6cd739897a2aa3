// The bytes of the active health checks and the parsers of the replies. Pure functions over
// untrusted input (fuzzed): every length is checked before use and nothing is read past
// `data`.
//
// postgres: a StartupMessage (protocol 3.0, user "zdap-healthcheck"); the server is healthy when
// its first message is an authentication request, a protocol negotiation, or an error other than
// "cannot connect now" (57P03: starting up, shutting down, in recovery) and "too many
// connections" (53300). A wrong user or database still proves the server serves clients.
// mysql: the server greeting (protocol 10) is read and validated; an error packet (e.g. 1040
// too many connections, host blocked) fails. The check then answers with a login as
// "zdap-healthcheck" so that the server does not count an aborted handshake against our host.
#pragma once

#include <string>
#include <string_view>

namespace zdap::proxy {

enum class Verdict { kNeedMore, kPass, kFail };

struct ProbeResult {
  Verdict verdict = Verdict::kNeedMore;
  std::string reason;  // for kFail: why, one line
};

constexpr size_t kMaxProbeReply = 16 * 1024;  // a reply longer than this fails

std::string PostgresStartupMessage();
std::string PostgresTerminateMessage();
// `data` is everything received so far.
ProbeResult ParsePostgresReply(std::string_view data);

ProbeResult ParseMysqlGreeting(std::string_view data);
std::string MysqlLoginPacket();

}  // namespace zdap::proxy
