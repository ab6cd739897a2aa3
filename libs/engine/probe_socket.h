// A blocking, deadline-bounded client socket for readiness probes (plain POSIX, no Asio:
// probes run on worker threads and must never hang past their deadline).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap::engine {

// How a probe exchange went at the transport level.
enum class ProbeTransport { kOk, kRefused, kTimeout, kError };

struct ProbeExchange {
  ProbeTransport transport = ProbeTransport::kError;
  std::string received;
  std::string error;
};

// Connects (TCP to host:port, or the unix socket at `unix_path` when host is empty), sends
// `request`, and reads until `complete(received)` is true, EOF, 64 KiB, or the deadline.
ProbeExchange Exchange(const std::string& host, int port, const std::string& unix_path,
                       std::string_view request,
                       const std::function<bool(std::string_view)>& complete,
                       std::chrono::milliseconds timeout);

}  // namespace zdap::engine
