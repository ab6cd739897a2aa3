#include "dashboard_setup.h"

#include <fmt/format.h>

#include "core/file_util.h"
#include "core/log.h"
#include "core/version.h"
#include "net/http_url.h"

namespace zdap::daemon {
namespace {

constexpr const char* kDeliveriesMetric = "zdap_webhook_deliveries_total";
constexpr const char* kQueueMetric = "zdap_webhook_queue";
constexpr const char* kStreamsMetric = "zdap_event_stream_clients";
constexpr size_t kMaxSecretBytes = 4096;

// The webhook's secret: the first line of its file, which only zdapd's user may read.
Result<std::string> ReadSecret(const std::string& name, const std::string& file) {
  auto text = ReadSecretFile(file, kMaxSecretBytes);
  if (!text.ok()) return text.status().Wrap(name + ": secret_file");
  std::string secret = text->substr(0, text->find('\n'));
  while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
  if (secret.size() < 16) {
    return InvalidArgument(
        fmt::format("{}: secret_file {} holds no secret of 16 characters or "
                    "more on its first line (try: openssl rand -hex 32 > {})",
                    name, file, file));
  }
  return secret;
}

Result<std::vector<events::WebhookTarget>> WebhookTargets(const config::DaemonConfig& cfg) {
  std::vector<events::WebhookTarget> out;
  for (size_t i = 0; i < cfg.webhooks.size(); ++i) {
    const config::WebhookConfig& w = cfg.webhooks[i];
    std::string name = fmt::format("webhooks[{}]", i);
    auto url = net::ParseHttpUrl(w.url);
    if (!url.ok()) return url.status().Wrap(name + ": url");
    for (const auto& pattern : w.events) {
      ZDAP_RETURN_IF_ERROR(events::ValidateEventPattern(pattern).Wrap(name + ": events"));
    }
    ZDAP_ASSIGN_OR_RETURN(std::string secret, ReadSecret(name, w.secret_file));
    out.push_back(events::WebhookTarget{w.url, w.events, std::move(secret), w.ca});
  }
  return out;
}

}  // namespace

Dashboard::Dashboard(const config::DaemonConfig& config)
    : expiring_(std::chrono::seconds(config.expiry_warning_seconds)),
      tokens_file_(config.tokens_file),
      tls_(!config.tls_cert.empty()) {}

Result<std::unique_ptr<Dashboard>> Dashboard::Start(const config::DaemonConfig& cfg,
                                                    Metrics& metrics, Authenticator& auth) {
  std::unique_ptr<Dashboard> d(new Dashboard(cfg));
  ZDAP_ASSIGN_OR_RETURN(d->audit_, AuditLog::Open(cfg.data_dir + "/audit"));
  ZDAP_ASSIGN_OR_RETURN(std::vector<events::WebhookTarget> targets, WebhookTargets(cfg));
  metrics.DeclareCounter(kDeliveriesMetric,
                         "Webhook delivery outcomes by webhook URL (path hidden): delivered, "
                         "attempt_failed, "
                         "given_up (after retrying for an hour), dropped (queue full).");
  for (const auto& t : targets) {
    for (const char* outcome : {"delivered", "attempt_failed", "given_up", "dropped"}) {
      metrics.Increment(kDeliveriesMetric,
                        {{"url", events::RedactedUrl(t.url)}, {"outcome", outcome}}, 0);
    }
  }
  Metrics* m = &metrics;
  d->webhooks_ = std::make_unique<events::WebhookDispatcher>(
      std::move(targets), events::MakeHttpWebhookTransport(fmt::format("zdapd/{}", kVersion)),
      events::WebhookOptions{}, [m](const std::string& url, std::string_view outcome) {
        m->Increment(kDeliveriesMetric, {{"url", url}, {"outcome", std::string(outcome)}});
      });
  events::WebhookDispatcher* hooks = d->webhooks_.get();
  metrics.DeclareCollectedGauge(
      kQueueMetric, "Events waiting to be delivered, by webhook URL.", [hooks] {
        std::vector<GaugeSample> out;
        for (const auto& s : hooks->Stats()) {
          out.push_back({{{"url", s.url}}, static_cast<double>(s.queued)});
        }
        return out;
      });
  events::EventBus* bus = &d->bus_;
  metrics.DeclareCollectedGauge(kStreamsMetric, "Clients connected to GET /v1/events.", [bus] {
    return std::vector<GaugeSample>{{{}, static_cast<double>(bus->subscribers())}};
  });
  d->bus_.AddSink([hooks](const events::PublishedPtr& p) { hooks->Enqueue(p); });
  d->webhooks_->Start();
  auth.SetSessions(&d->sessions_, d->tls_);
  for (const auto& w : cfg.webhooks) {
    log::Info("webhook {}: events {}", events::RedactedUrl(w.url), fmt::join(w.events, ", "));
  }
  log::Info("audit log: {}", d->audit_->path());
  return d;
}

Dashboard::~Dashboard() {
  if (webhooks_) webhooks_->Stop();
}

DashboardParts Dashboard::parts() {
  return DashboardParts{&bus_, webhooks_.get(), audit_.get(), &sessions_, tokens_file_, tls_};
}

void Dashboard::AnnounceExpiring(const std::vector<events::ExpiringClone>& clones, SystemTime now) {
  for (api::Event& e : expiring_.Due(clones, now)) bus_.Publish(std::move(e));
}

}  // namespace zdap::daemon
