#include "host_client.h"

#include <fmt/format.h>

#include <iostream>

#include "client/follow_job.h"
#include "client/origin_api.h"
#include "core/file_util.h"
#include "core/local_host.h"
#include "core/version.h"

namespace zdap::daemon {
namespace {

constexpr int kExitFailure = 1;
// A progress line at most this often while a phase goes on (and at each new phase).
constexpr auto kReportEvery = std::chrono::seconds(2);

int Fail(const std::string& message) {
  std::cerr << "zdapd: " << message << "\n";
  return kExitFailure;
}

// The daemon's API as a client on this host reaches it: a wildcard listen address is its
// loopback; as the host's administrator (the token the daemon keeps in <data_dir>/admin.token,
// sent when that file exists). With `tls`, over HTTPS pinned to tls.cert: the daemon serves that
// very file, and the address connected to (often 127.0.0.1) need not be a name the certificate
// carries.
Result<client::OriginApi> DaemonApi(const config::DaemonConfig& config) {
  std::string host;
  int port = 0;
  ZDAP_RETURN_IF_ERROR(config::SplitHostPort(config.listen, &host, &port));
  host = LocalConnectHost(host);
  const std::string listen = host.find(':') != std::string::npos
                                 ? fmt::format("[{}]:{}", host, port)
                                 : fmt::format("{}:{}", host, port);
  const bool tls = !config.tls_cert.empty();
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl url,
                        net::ParseHttpUrl((tls ? "https://" : "http://") + listen));
  std::string token;
  const std::string token_file = config.data_dir + "/admin.token";
  if (PathExists(token_file)) {
    ZDAP_ASSIGN_OR_RETURN(token, ReadFile(token_file, 4096));
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  }
  client::OriginApiOptions options;
  options.user_agent = "zdapd/" ZDAP_VERSION;
  options.token_hint = fmt::format(
      "the host's admin token is {}; run this as a user that can read it (root, or the user "
      "zdapd runs as)",
      token_file);
  if (tls) {
    options.pinned_cert_file = config.tls_cert;
    options.pin_hint = fmt::format(
        "the running zdapd serves another certificate than tls.cert; if {} was replaced, "
        "reload it with SIGHUP (systemctl reload zdapd)",
        config.tls_cert);
  }
  return client::OriginApi(std::move(url), std::move(token), "zdapd", std::move(options));
}

}  // namespace

int RefreshThroughDaemon(const config::DaemonConfig& config, const std::string& resource) {
  auto api = DaemonApi(config);
  if (!api.ok()) return Fail(api.status().message());
  auto started = api->StartRefresh(resource);
  if (!started.ok()) return Fail(started.status().message());
  std::cerr << fmt::format("refresh {}: job {} started on the running zdapd\n", resource,
                           started->id);
  client::ProgressLines lines(kReportEvery);
  auto job = client::FollowJob(*api, *started, [&](const api::Job& j) {
    if (std::string line = lines.Next(j); !line.empty()) {
      std::cerr << fmt::format("refresh {}: {}\n", resource, line);
    }
  });
  if (!job.ok()) return Fail(job.status().message());
  if (job->state == api::JobState::kFailed) {
    return Fail(fmt::format("refresh of {} failed: {}", resource,
                            job->error.empty() ? "(the daemon gave no reason)" : job->error));
  }
  std::cout << job->snapshot << "\n";
  return 0;
}

int DestroyThroughDaemon(const config::DaemonConfig& config, const std::string& clone) {
  auto api = DaemonApi(config);
  if (!api.ok()) return Fail(api.status().message());
  Status st = api->DeleteClone(clone);
  if (!st.ok()) return Fail(st.message());
  std::cerr << fmt::format("clone {} destroyed by the running zdapd\n", clone);
  return 0;
}

}  // namespace zdap::daemon
