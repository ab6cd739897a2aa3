// `zdap-proxyd healthcheck`: the container health check (compose `healthcheck.test`), for a
// FROM-scratch image that has no shell or curl. With a metrics address it asks
// GET /healthz there (200 when every listener has a healthy target); otherwise it checks that
// the first listen address accepts a TCP connection. Loopback is used for wildcard hosts.
// Returns the process exit code: 0 healthy, 1 not.
#pragma once

#include <chrono>

#include "proxy/config.h"

namespace zdap::proxy {

int RunHealthcheck(const ProxyConfig& config,
                   std::chrono::milliseconds timeout = std::chrono::seconds(3));

}  // namespace zdap::proxy
