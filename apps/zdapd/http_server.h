// The daemon's HTTP/1.1 listener (Boost.Beast), plain or TLS. Reads a request (headers
// <= 16 KiB, body <= 1 MiB, else 431/413; `Expect: 100-continue` answered), hands it to the Api
// on one of two lanes, writes the response, keeps the connection alive.
//
// Lanes: connections are dealt in turn to `io_threads` I/O threads. Each request is matched
// once (Api::Route) and runs where its route's lane says (route_table.h): routes that answer
// from memory alone (health, the clone list, a clone) on the I/O thread that read them, without
// a hand-over to a lane and back (each a wakeup that can wait for a CPU on a saturated host);
// the other reads on the quick lane; writes (create, claim, reset, destroy, extend, refresh) on
// their own bounded pool, so a burst of creates never holds the threads that answer health,
// status and lists. The threads that answer (the I/O threads and the quick lane) get scheduling
// precedence (core/latency_hint.h, not inherited by child processes). Beyond `max_connections` open
// connections a request gets a 503 JSON error. Accept failures (out of file descriptors) back off
// from 10 ms to 1 s instead of spinning.
//
// Signals: SIGINT/SIGTERM stop accepting, let in-flight requests finish and answer (up to
// `drain_deadline`), close idle connections, then Run() returns. SIGHUP reloads the TLS
// certificate and key (new handshakes use them; open connections are kept) and calls
// `on_reload`.
//
// Only http_server.cc includes Beast/Asio/OpenSSL.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api.h"
#include "core/result.h"

namespace zdap::daemon {

struct ServerOptions {
  std::string listen;          // host:port
  int io_threads = 2;          // read, write and answer from memory; each its own io_context
  int worker_threads = 8;      // the quick lane (Lane::kQuick)
  int long_work_threads = 48;  // the long lane: 32 users' concurrent creates all proceed
  int max_connections = 1024;  // open connections served; beyond: 503
  std::chrono::milliseconds drain_deadline{30000};
  // Both set: serve HTTPS only (TLS 1.2+). Key file should be 0600 or stricter (warned).
  std::string tls_cert;
  std::string tls_key;
  std::function<void()> on_reload;  // after a SIGHUP, once the TLS context is reloaded
};

class HttpServer {
 public:
  HttpServer(Api& api, ServerOptions options);
  ~HttpServer();
  // Loads the TLS certificate and key (when set), binds and serves until Stop() or
  // SIGINT/SIGTERM, then drains. `on_listening` runs once bound. Returns an error naming the
  // file for a missing/unreadable/mismatched certificate or key.
  Status Run(const std::function<void(const std::string& bound)>& on_listening);
  // After Run: requests still running at the drain deadline. The destructor waits for them;
  // a caller that must not wait exits instead (the next start recovers their clones).
  int AbandonedRequests() const;
  // Stops accepting and drains, like SIGTERM. Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zdap::daemon
