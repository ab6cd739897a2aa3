// Server: zdap-proxyd as a library. Owns one event loop (io_context, one thread) per core,
// the listeners, their health checkers and the metrics page. With more than one loop, each
// listener has one listening socket per loop, bound to the same address with SO_REUSEPORT:
// the kernel spreads the connections, and each session runs on the loop that accepted it.
// Before that the address is bound once without SO_REUSEPORT, so that a port in use is
// refused as with one socket (a process of the same user that sets SO_REUSEPORT itself could
// still join later). Everything else runs on the first loop.
//
// Shutdown (SIGTERM, SIGINT or Shutdown()): stop accepting, stop health checks, let open
// connections finish for up to drain_timeout, then close what is left and return from Run().
// A second signal skips the rest of the drain.
//
// This header does not include Asio, so that main.cc and the tests stay free of it.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "proxy/address.h"
#include "proxy/config.h"

namespace zdap::proxy {

class Server {
 public:
  explicit Server(ProxyConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener and the metrics address. Errors name the address.
  Status Bind();
  // After Bind(): the addresses actually bound (port 0 replaced by the kernel's choice).
  std::vector<HostPort> listen_addresses() const;
  std::optional<HostPort> metrics_address() const;

  // Runs the event loops until shutdown has completed. With handle_signals, SIGTERM and SIGINT
  // start a graceful shutdown.
  Status Run(bool handle_signals);
  // Starts a graceful shutdown; callable from any thread, before or during Run().
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zdap::proxy
