// The daemon's HTTP/1.1 listener (Boost.Beast). Reads a request (headers <= 16 KiB, body
// <= 1 MiB, else 431/413), hands it to the Api on a worker pool (clone creation blocks for
// as long as a server takes to start), writes the response, keeps the connection alive.
// This is the only translation unit of zdapd that includes Beast/Asio.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api.h"
#include "core/result.h"

namespace zdap::daemon {

struct ServerOptions {
  std::string listen;  // host:port
  int worker_threads = 8;
};

class HttpServer {
 public:
  HttpServer(Api& api, ServerOptions options);
  ~HttpServer();
  // Binds and serves until Stop() or SIGINT/SIGTERM. `on_listening` runs once bound.
  Status Run(const std::function<void(const std::string& bound)>& on_listening);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zdap::daemon
