// A blocking, deadline-bounded client socket for readiness probes (plain POSIX, no Asio:
// probes run on worker threads and must never hang past their deadline). The connect is
// core/connect.h's ConnectBefore.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace zdap::engine {

// How a probe exchange went at the transport level.
enum class ProbeTransport { kOk, kRefused, kTimeout, kError };

struct ProbeExchange {
  ProbeTransport transport = ProbeTransport::kError;
  std::string received;
  std::string error;
};

// One probe connection for protocols that need several round trips (MySQL's login).
// Every call is bounded by the deadline given to Open.
class ProbeConnection {
 public:
  // Connects: TCP to host:port, or the unix socket at `unix_path` when host is empty.
  // On failure transport() says how (kRefused: nobody listens yet).
  ProbeConnection(const std::string& host, int port, const std::string& unix_path,
                  std::chrono::steady_clock::time_point deadline);
  ~ProbeConnection();
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  bool ok() const { return transport_ == ProbeTransport::kOk; }
  ProbeTransport transport() const { return transport_; }
  const std::string& error() const { return error_; }
  bool Send(std::string_view request);
  // Reads until `complete(received)` is true, EOF, 64 KiB or the deadline; clears the
  // buffer first. False (with transport/error set) only on timeout or a socket error.
  bool Receive(const std::function<bool(std::string_view)>& complete);
  const std::string& received() const { return received_; }

 private:
  void Fail(ProbeTransport t, std::string error);
  UniqueFd fd_;
  std::chrono::steady_clock::time_point deadline_;
  ProbeTransport transport_ = ProbeTransport::kOk;
  std::string error_;
  std::string received_;
};

// Connects (TCP to host:port, or the unix socket at `unix_path` when host is empty), sends
// `request`, and reads until `complete(received)` is true, EOF, 64 KiB, or `deadline` (the
// engine's Env::MonotonicNow() + its timeout).
ProbeExchange Exchange(const std::string& host, int port, const std::string& unix_path,
                       std::string_view request,
                       const std::function<bool(std::string_view)>& complete,
                       std::chrono::steady_clock::time_point deadline);

}  // namespace zdap::engine
