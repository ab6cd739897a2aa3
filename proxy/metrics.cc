#include "proxy/metrics.h"

#include <fmt/format.h>

#include "core/prometheus.h"

namespace zdap::proxy {
namespace {

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <typename Get>
void PerListener(std::string* out, const std::vector<ListenerView>& ls, std::string_view name,
                 std::string_view type, std::string_view help, Get get) {
  Header(out, name, type, help);
  for (const ListenerView& l : ls) {
    *out +=
        fmt::format("{}{{listener=\"{}\"}} {}\n", name, EscapeLabelValue(l.name), get(*l.stats));
  }
}

template <typename Get>
void PerTarget(std::string* out, const std::vector<ListenerView>& ls, std::string_view name,
               std::string_view type, std::string_view help, Get get) {
  Header(out, name, type, help);
  for (const ListenerView& l : ls) {
    for (size_t i = 0; i < l.targets->size(); ++i) {
      const Target& t = l.targets->at(i);
      *out += fmt::format("{}{{listener=\"{}\",target=\"{}\"}} {}\n", name,
                          EscapeLabelValue(l.name), EscapeLabelValue(t.label), get(t));
    }
  }
}

constexpr auto kRelaxed = std::memory_order_relaxed;

}  // namespace

std::string RenderMetrics(const std::vector<ListenerView>& ls) {
  std::string out;
  PerListener(&out, ls, "zdap_proxy_connections_active", "gauge", "Client connections open now.",
              [](const ListenerStats& s) { return s.active.load(kRelaxed); });
  PerListener(&out, ls, "zdap_proxy_connections_total", "counter", "Client connections accepted.",
              [](const ListenerStats& s) { return s.accepted.load(kRelaxed); });
  PerListener(&out, ls, "zdap_proxy_connections_failed_total", "counter",
              "Client connections closed because no target could be reached.",
              [](const ListenerStats& s) { return s.failed.load(kRelaxed); });
  PerListener(&out, ls, "zdap_proxy_connect_retries_total", "counter",
              "Connects tried again on another target after a failure.",
              [](const ListenerStats& s) { return s.retries.load(kRelaxed); });
  PerListener(&out, ls, "zdap_proxy_idle_timeouts_total", "counter",
              "Connections closed by the idle timeout.",
              [](const ListenerStats& s) { return s.idle_timeouts.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_up", "gauge",
            "1 when the target is healthy and used for new connections.",
            [](const Target& t) { return t.up.load(kRelaxed) ? 1 : 0; });
  PerTarget(&out, ls, "zdap_proxy_target_connections_active", "gauge",
            "Connections to the target open now.",
            [](const Target& t) { return t.active.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_connections_total", "counter",
            "Connections made to the target.",
            [](const Target& t) { return t.connections.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_connect_failures_total", "counter",
            "Failed or timed-out connects to the target.",
            [](const Target& t) { return t.connect_failures.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_check_failures_total", "counter",
            "Failed active health checks of the target.",
            [](const Target& t) { return t.checks_failed.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_sent_bytes_total", "counter",
            "Bytes sent from clients to the target.",
            [](const Target& t) { return t.bytes_to_target.load(kRelaxed); });
  PerTarget(&out, ls, "zdap_proxy_target_received_bytes_total", "counter",
            "Bytes received from the target for clients.",
            [](const Target& t) { return t.bytes_from_target.load(kRelaxed); });
  return out;
}

}  // namespace zdap::proxy
