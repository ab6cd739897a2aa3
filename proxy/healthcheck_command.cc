#include "proxy/healthcheck_command.h"

#include <cstdio>
#include <string>

#include "core/connect.h"
#include "core/local_host.h"
#include "net/http_client.h"

namespace zdap::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// GET /healthz on the metrics address: healthy on 200.
int CheckMetrics(const HostPort& metrics, std::chrono::milliseconds timeout) {
  std::string host = LocalConnectHost(metrics.host);
  net::HttpUrl url;
  url.scheme = "http";
  url.host = host;
  url.port = metrics.port;
  net::HttpClientOptions options;
  options.user_agent = "zdap-proxyd healthcheck";
  options.accept = "*/*";
  options.max_body_bytes = 4096;
  options.server_name = "metrics " + metrics.ToString();
  net::HttpRequest request;
  request.target = "/healthz";
  request.timeout = timeout;
  auto reply = net::HttpClient(url, options).Send(request);
  if (!reply.ok()) {
    std::fprintf(stderr, "unhealthy: %s\n", reply.status().message().c_str());
    return 1;
  }
  if (reply->status == 200) return 0;
  std::fprintf(stderr, "unhealthy: metrics %s: GET /healthz answered %d\n",
               metrics.ToString().c_str(), reply->status);
  return 1;
}

}  // namespace

int RunHealthcheck(const ProxyConfig& config, std::chrono::milliseconds timeout) {
  if (config.metrics) return CheckMetrics(*config.metrics, timeout);
  const HostPort& listen = config.listeners.front().listen;
  Connection c =
      ConnectBefore(LocalConnectHost(listen.host), listen.port, "", Clock::now() + timeout);
  if (!c.ok()) {
    std::fprintf(stderr, "unhealthy: %s: %s\n", listen.ToString().c_str(), c.error.c_str());
    return 1;
  }
  return 0;
}

}  // namespace zdap::proxy
