#include "host_client.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "core/file_util.h"
#include "core/local_host.h"
#include "net/http_client.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

constexpr int kExitFailure = 1;
// A daemon that stops answering for this long while a job is followed is given up on.
constexpr auto kUnreachableLimit = std::chrono::seconds(60);

int Fail(const std::string& message) {
  std::cerr << "zdapd: " << message << "\n";
  return kExitFailure;
}

// The daemon as a client on this host reaches it: a wildcard listen address is its loopback.
// With `tls`, over HTTPS pinned to tls.cert: the daemon serves that very file, and the address
// connected to (often 127.0.0.1) need not be a name the certificate carries.
Result<net::HttpClient> DaemonClient(const config::DaemonConfig& config) {
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
  net::HttpClientOptions options;
  options.user_agent = "zdapd";
  if (tls) {
    options.pinned_cert_file = config.tls_cert;
    options.pin_hint = fmt::format(
        "the running zdapd serves another certificate than tls.cert; if {} was replaced, "
        "reload it with SIGHUP (systemctl reload zdapd)",
        config.tls_cert);
  }
  return net::HttpClient(url, std::move(options));
}

Result<net::HttpResponse> Call(const config::DaemonConfig& config, const std::string& method,
                               const std::string& target) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpClient client, DaemonClient(config));
  net::HttpRequest req;
  req.method = method;
  req.target = target;
  req.headers.emplace_back("X-Zdap-User", "zdapd");
  std::string token_file = config.data_dir + "/admin.token";
  if (PathExists(token_file)) {
    ZDAP_ASSIGN_OR_RETURN(std::string token, ReadFile(token_file, 4096));
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    req.headers.emplace_back("Authorization", "Bearer " + token);
  }
  return client.Send(req);
}

// The message of an API error body, or the status line when it has none.
std::string ErrorOf(const net::HttpResponse& r) {
  json::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("error"); e && e->is_object()) {
      if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
        return std::string(m->as_string());
      }
    }
  }
  return fmt::format("the daemon answered HTTP {}", r.status);
}

std::string Mib(int64_t bytes) {
  return fmt::format("{:.1f} MiB", bytes / 1048576.0);
}

std::string StringField(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

int64_t IntField(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

}  // namespace

int RefreshThroughDaemon(const config::DaemonConfig& config, const std::string& resource) {
  auto started = Call(config, "POST", "/v1/resources/" + resource + "/snapshots");
  if (!started.ok()) return Fail(started.status().message());
  if (started->status != 202) return Fail(ErrorOf(*started));
  json::error_code ec;
  json::value job = json::parse(started->body, ec);
  if (ec || !job.is_object()) return Fail("the daemon's job reply is not a JSON object");
  std::string id = StringField(job.as_object(), "id");
  std::cerr << fmt::format("refresh {}: job {} started on the running zdapd\n", resource, id);
  std::string last_phase;
  auto last_report = std::chrono::steady_clock::now();
  auto last_answer = std::chrono::steady_clock::now();
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto r = Call(config, "GET", "/v1/jobs/" + id);
    if (!r.ok() || r->status != 200) {
      if (std::chrono::steady_clock::now() - last_answer > kUnreachableLimit) {
        return Fail(fmt::format("lost the daemon while following job {}: {}", id,
                                r.ok() ? ErrorOf(*r) : r.status().message()));
      }
      continue;
    }
    last_answer = std::chrono::steady_clock::now();
    json::value v = json::parse(r->body, ec);
    if (ec || !v.is_object()) return Fail("the daemon's job reply is not a JSON object");
    const json::object& o = v.as_object();
    std::string state = StringField(o, "state");
    std::string phase = StringField(o, "phase");
    auto now = std::chrono::steady_clock::now();
    if (!phase.empty() && (phase != last_phase || now - last_report > std::chrono::seconds(2))) {
      int64_t total = IntField(o, "bytes_total");
      std::cerr << fmt::format("refresh {}: {} {}{}\n", resource, phase,
                               Mib(IntField(o, "bytes_done")),
                               total > 0 ? " of " + Mib(total) : "");
      last_phase = phase;
      last_report = now;
    }
    if (state == "done") {
      std::cout << StringField(o, "snapshot") << "\n";
      return 0;
    }
    if (state == "failed") return Fail(StringField(o, "error"));
  }
}

int DestroyThroughDaemon(const config::DaemonConfig& config, const std::string& clone) {
  auto r = Call(config, "DELETE", "/v1/clones/" + clone);
  if (!r.ok()) return Fail(r.status().message());
  if (r->status != 204) return Fail(ErrorOf(*r));
  std::cerr << fmt::format("clone {} destroyed by the running zdapd\n", clone);
  return 0;
}

}  // namespace zdap::daemon
