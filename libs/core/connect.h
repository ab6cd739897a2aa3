// Connecting a client socket within a deadline: TCP or a unix socket, plain POSIX (no Asio),
// so readiness probes and health checks on any thread never hang past their deadline. Name
// resolution (getaddrinfo) is the one step the deadline does not bound; callers pass
// addresses or names from /etc/hosts.
#pragma once

#include <chrono>
#include <string>

#include "core/unique_fd.h"

namespace zdap {

// How a connect went. kRefused: nobody listens (yet): ECONNREFUSED, or no socket file.
enum class ConnectOutcome { kOk, kRefused, kTimeout, kError };

struct Connection {
  UniqueFd fd;  // non-blocking, close-on-exec; valid only with kOk
  ConnectOutcome outcome = ConnectOutcome::kError;
  std::string error;  // why, for a message: "Connection refused", "timed out", ...
  bool ok() const { return outcome == ConnectOutcome::kOk; }
};

// TCP to `host`:`port` (each address the name resolves to in turn, until one answers) or,
// when `host` is empty, the unix socket at `unix_path`.
Connection ConnectBefore(const std::string& host, int port, const std::string& unix_path,
                         std::chrono::steady_clock::time_point deadline);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT); false when the deadline passes
// first or poll fails.
bool WaitReady(int fd, short events, std::chrono::steady_clock::time_point deadline);

}  // namespace zdap
