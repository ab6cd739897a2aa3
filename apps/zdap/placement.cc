#include "zdap/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <thread>

#include "core/log.h"
#include "zdap/progress.h"

namespace zdap::cli {
namespace {

constexpr double kCapacityShare = 0.8;  // tiers 1 and 2: "close enough to the best"
constexpr double kLoadSlack = 1.0;      // tier 3

const api::ResourceCounts* FindResource(const OriginStatus& s, const std::string& resource) {
  for (const auto& r : s.resources) {
    if (r.name == resource) return &r;
  }
  return nullptr;
}

// Keeps the candidates whose `metric` (absent: unknown, always kept) passes `close_to_best`
// against the best known value; `better(a, b)`: a is the better value.
void Narrow(std::vector<size_t>* candidates,
            const std::function<std::optional<double>(size_t)>& metric,
            const std::function<bool(double, double)>& better,
            const std::function<bool(double value, double best)>& close_to_best) {
  std::optional<double> best;
  for (size_t i : *candidates) {
    auto v = metric(i);
    if (v && (!best || better(*v, *best))) best = v;
  }
  if (!best) return;
  std::erase_if(*candidates, [&](size_t i) {
    auto v = metric(i);
    return v && !close_to_best(*v, *best);
  });
}

// The best of `candidates` (not empty) by tiers 0-5.
size_t Best(std::vector<size_t> candidates, const std::vector<OriginProbe>& probes,
            const std::string& resource, bool claim) {
  auto st = [&](size_t i) -> const OriginStatus& { return *probes[i].status; };
  auto more = [](double a, double b) { return a > b; };
  auto share = [](double v, double best) { return v >= best * kCapacityShare; };
  if (claim) {
    auto ready = [&](size_t i) {
      const api::ResourceCounts* r = FindResource(st(i), resource);
      return r != nullptr && r->pool_ready > 0;
    };
    if (std::any_of(candidates.begin(), candidates.end(), ready)) {
      std::erase_if(candidates, [&](size_t i) { return !ready(i); });
    }
  }
  Narrow(
      &candidates,
      [&](size_t i) {
        return std::optional<double>(static_cast<double>(st(i).storage_free_bytes));
      },
      more, share);
  Narrow(
      &candidates,
      [&](size_t i) -> std::optional<double> {
        if (!st(i).memory_available_bytes) return std::nullopt;
        return static_cast<double>(*st(i).memory_available_bytes);
      },
      more, share);
  Narrow(
      &candidates,
      [&](size_t i) -> std::optional<double> {
        if (st(i).load.empty()) return std::nullopt;
        return st(i).load[0];
      },
      [](double a, double b) { return a < b; },
      [](double v, double best) { return v <= best + kLoadSlack; });
  Narrow(
      &candidates,
      [&](size_t i) { return std::optional<double>(static_cast<double>(st(i).clone_count)); },
      [](double a, double b) { return a < b; }, [](double v, double best) { return v <= best; });
  return *std::min_element(candidates.begin(), candidates.end());
}

}  // namespace

Result<OriginApi> OriginFor(const UserConfig& config, const std::string& url) {
  ZDAP_ASSIGN_OR_RETURN(net::HttpUrl parsed, net::ParseHttpUrl(url));
  const OriginEntry* entry = config.FindOrigin(parsed.ToString());
  if (entry == nullptr) return OriginApi(parsed, "", config.user);
  return OriginApi(parsed, entry->token, config.user, entry->ca);
}

std::vector<OriginProbe> ProbeOrigins(const UserConfig& config,
                                      std::chrono::milliseconds deadline) {
  std::vector<OriginProbe> probes(config.origins.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < config.origins.size(); ++i) {
    probes[i].url = config.origins[i].url;
    threads.emplace_back([&config, &probes, i, deadline] {
      auto api = OriginFor(config, probes[i].url);
      probes[i].status = api.ok() ? api->GetStatus(deadline) : Result<OriginStatus>(api.status());
    });
  }
  for (auto& t : threads) t.join();
  return probes;
}

Ranking RankOrigins(const std::vector<OriginProbe>& probes, const std::string& resource,
                    bool claim) {
  Ranking out;
  std::vector<size_t> left;
  for (size_t i = 0; i < probes.size(); ++i) {
    if (!probes[i].status.ok()) {
      out.skipped.emplace_back(i, "not reachable: " + probes[i].status.status().message());
    } else if (!resource.empty() && FindResource(*probes[i].status, resource) == nullptr) {
      out.skipped.emplace_back(i, fmt::format("has no resource '{}'", resource));
    } else {
      left.push_back(i);
    }
  }
  while (!left.empty()) {
    size_t best = Best(left, probes, resource, claim);
    out.order.push_back(best);
    std::erase(left, best);
  }
  return out;
}

Result<std::vector<OriginApi>> PlaceClone(const UserConfig& config, const std::string& forced,
                                          const std::string& resource, bool claim) {
  if (!forced.empty()) {
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, forced));
    return std::vector<OriginApi>{std::move(api)};
  }
  if (config.origins.empty()) {
    return NotFound("no origin configured; add one with `zdap origin add URL [--token T]`");
  }
  if (config.origins.size() == 1) {
    // Nothing to rank: no status round trip; the request itself says if the origin is down.
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, config.origins.front().url));
    return std::vector<OriginApi>{std::move(api)};
  }
  std::vector<OriginProbe> probes = ProbeOrigins(config);
  Ranking ranking = RankOrigins(probes, resource, claim);
  std::vector<OriginApi> out;
  for (size_t i : ranking.order) {
    ZDAP_ASSIGN_OR_RETURN(OriginApi api, OriginFor(config, probes[i].url));
    out.push_back(std::move(api));
  }
  std::string reasons;
  for (const auto& [i, why] : ranking.skipped) {
    std::string line = fmt::format("origin {} skipped: {}", probes[i].url, why);
    if (!out.empty()) Warn(line);
    reasons += (reasons.empty() ? "" : "; ") + line;
  }
  if (out.empty()) {
    return Unavailable(
        fmt::format("no configured origin can take a clone of '{}' ({}); start zdapd, check "
                    "`zdap origin list -v` or `zdap status`",
                    resource, reasons));
  }
  return out;
}

Result<OriginApi> ChooseOrigin(const UserConfig& config, const std::string& forced,
                               const std::string& resource, bool claim) {
  ZDAP_ASSIGN_OR_RETURN(std::vector<OriginApi> all, PlaceClone(config, forced, resource, claim));
  return std::move(all.front());
}

}  // namespace zdap::cli
