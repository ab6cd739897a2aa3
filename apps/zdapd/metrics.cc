#include "metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "core/log.h"
#include "core/prometheus.h"

namespace zdap::daemon {
namespace {

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

std::string LabelText(const MetricLabels& labels, const std::string& extra_key = "",
                      const std::string& extra_value = "") {
  std::string out;
  for (const auto& [k, v] : labels) {
    out += out.empty() ? "{" : ",";
    out += fmt::format("{}=\"{}\"", k, EscapeLabelValue(v));
  }
  if (!extra_key.empty()) {
    out += out.empty() ? "{" : ",";
    out += fmt::format("{}=\"{}\"", extra_key, extra_value);
  }
  if (!out.empty()) out += "}";
  return out;
}

}  // namespace

Metrics::Family& Metrics::Declare(const std::string& name, const std::string& help, Type type) {
  for (const Family& f : families_) {
    if (f.name == name) {
      log::Error("metric {} declared twice", name);
      std::abort();
    }
  }
  families_.push_back(Family{name, help, type, {}, {}, {}, {}});
  return families_.back();
}

Metrics::Family& Metrics::Get(const std::string& name, Type type) {
  for (Family& f : families_) {
    if (f.name == name && f.type == type) return f;
  }
  log::Error("metric {} is not declared (or not of this type)", name);
  std::abort();
}

void Metrics::DeclareCounter(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  Declare(name, help, Type::kCounter);
}

void Metrics::DeclareGauge(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  Declare(name, help, Type::kGauge);
}

void Metrics::DeclareHistogram(const std::string& name, const std::string& help,
                               std::vector<double> upper_bounds) {
  std::lock_guard lock(mu_);
  Declare(name, help, Type::kHistogram).bounds = std::move(upper_bounds);
}

void Metrics::DeclareCollectedGauge(const std::string& name, const std::string& help,
                                    std::function<std::vector<GaugeSample>()> collect) {
  std::lock_guard lock(mu_);
  Declare(name, help, Type::kGauge).collect = std::move(collect);
}

void Metrics::Increment(const std::string& name, const MetricLabels& labels, double by) {
  std::lock_guard lock(mu_);
  Get(name, Type::kCounter).values[labels] += by;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  Get(name, Type::kGauge).values[labels] = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = Get(name, Type::kHistogram);
  Histogram& h = f.histograms[labels];
  if (h.buckets.empty()) h.buckets.assign(f.bounds.size(), 0);
  for (size_t i = 0; i < f.bounds.size(); ++i) {
    if (value <= f.bounds[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

double Metrics::Value(const std::string& name, const MetricLabels& labels) const {
  std::lock_guard lock(mu_);
  for (const Family& f : families_) {
    if (f.name != name) continue;
    auto it = f.values.find(labels);
    return it == f.values.end() ? 0 : it->second;
  }
  return 0;
}

std::string Metrics::Render() const {
  // Collected gauges run without the lock: they may take the origin's locks.
  std::vector<std::pair<std::string, std::function<std::vector<GaugeSample>()>>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const Family& f : families_) {
      if (f.collect) collectors.emplace_back(f.name, f.collect);
    }
  }
  std::map<std::string, std::vector<GaugeSample>> collected;
  for (const auto& [name, collect] : collectors) collected[name] = collect();

  std::lock_guard lock(mu_);
  std::string out;
  for (const Family& f : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, type);
    if (f.collect) {
      for (const GaugeSample& s : collected[f.name]) {
        out += fmt::format("{}{} {}\n", f.name, LabelText(s.labels), FormatValue(s.value));
      }
      continue;
    }
    for (const auto& [labels, v] : f.values) {
      out += fmt::format("{}{} {}\n", f.name, LabelText(labels), FormatValue(v));
    }
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += h.buckets[i];
        out += fmt::format("{}_bucket{} {}\n", f.name,
                           LabelText(labels, "le", FormatValue(f.bounds[i])), cumulative);
      }
      out += fmt::format("{}_bucket{} {}\n", f.name, LabelText(labels, "le", "+Inf"), h.count);
      out += fmt::format("{}_sum{} {}\n", f.name, LabelText(labels), FormatValue(h.sum));
      out += fmt::format("{}_count{} {}\n", f.name, LabelText(labels), h.count);
    }
  }
  return out;
}

}  // namespace zdap::daemon
