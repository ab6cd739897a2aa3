// The conversations of zdap-proxyd's active health checks, as pure state machines over bytes
// (fuzzed; no socket here). Each probe proves that the server answers its protocol without
// leaving a line in the server's log where the protocol allows it.
//
// postgres: an SSLRequest. The postmaster answers 'S' or 'N' and logs nothing when the client
// closes after 'N' (after 'S' a server with ssl=on logs one "could not accept SSL connection:
// EOF detected" line). It does not say whether the server is still starting up: a starting
// server answers too, and clients it cannot serve yet get its own "starting up" error. An
// ErrorResponse fails the check when its class is 53 (resources, e.g. too many connections),
// 57 (operator intervention, e.g. starting up) or 58 (system error); other errors pass.
// mysql: reads the greeting (an error packet fails: too many connections, host blocked), logs in
// as `user` without a password and ends with COM_QUIT. MariaDB logs an aborted connection for
// every client that closes before logging in, and "Access denied" for a refused login (both at
// the default log_warnings=2), so the probe is silent only when `user` may log in: create it
// without privileges (CREATE USER 'zdap-healthcheck'@'%'). A refused login still passes: the
// server serves clients. Errors 1040 (too many connections), 1053 (shutdown in progress) and
// 1129 (host blocked) fail.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace zdap::wire {

enum class Verdict { kNeedMore, kPass, kFail };

// What to do after the bytes received so far.
struct ProbeStep {
  Verdict verdict = Verdict::kNeedMore;
  std::string send;    // bytes to write next (also with kPass/kFail: write, then close)
  std::string reason;  // for kFail: why, one line
};

// A reply longer than this fails the check: a probe never needs more.
constexpr size_t kMaxProbeReply = 16 * 1024;

constexpr std::string_view kHealthCheckUser = "zdap-healthcheck";

class HealthProbe {
 public:
  virtual ~HealthProbe() = default;
  // Bytes to write right after the connect ("" when the server speaks first).
  virtual std::string Opening() = 0;
  // Feeds newly received bytes. After kPass or kFail the probe is done.
  virtual ProbeStep Feed(std::string_view received) = 0;
};

std::unique_ptr<HealthProbe> NewPostgresProbe();
std::unique_ptr<HealthProbe> NewMysqlProbe(std::string_view user = kHealthCheckUser);

}  // namespace zdap::wire
