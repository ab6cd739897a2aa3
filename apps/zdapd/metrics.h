// Metrics: a small Prometheus registry for zdapd's GET /metrics (text format 0.0.4).
//
// Families are declared once (name, help, type) and then updated by label set: counters and
// histograms as things happen, gauges either set directly or computed at scrape time by a
// collector (clone counts, ports). Thread-safe. Others add families here: the refresh
// duration histogram and last-success gauge belong to the jobs code.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace zdap::daemon {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct GaugeSample {
  MetricLabels labels;
  double value = 0;
};

class Metrics {
 public:
  // Declaring a name twice, or using an undeclared one, is a programming error (aborts).
  void DeclareCounter(const std::string& name, const std::string& help);
  void DeclareGauge(const std::string& name, const std::string& help);
  void DeclareHistogram(const std::string& name, const std::string& help,
                        std::vector<double> upper_bounds);
  // A gauge family whose samples `collect` computes at every scrape (outside the lock).
  void DeclareCollectedGauge(const std::string& name, const std::string& help,
                             std::function<std::vector<GaugeSample>()> collect);

  void Increment(const std::string& name, const MetricLabels& labels, double by = 1);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  void Observe(const std::string& name, const MetricLabels& labels, double value);

  // The exposition text (families in declaration order).
  std::string Render() const;
  // The value of one counter or gauge sample, 0 if never set (tests).
  double Value(const std::string& name, const MetricLabels& labels) const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Histogram {
    std::vector<uint64_t> buckets;  // per upper bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<double> bounds;
    std::map<MetricLabels, double> values;
    std::map<MetricLabels, Histogram> histograms;
    std::function<std::vector<GaugeSample>()> collect;
  };
  Family& Declare(const std::string& name, const std::string& help, Type type);
  Family& Get(const std::string& name, Type type);

  mutable std::mutex mu_;
  std::vector<Family> families_;
};

}  // namespace zdap::daemon
