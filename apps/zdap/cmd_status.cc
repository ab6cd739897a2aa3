// zdap status: every configured origin as placement sees it (the same /v1/status probe with
// the same deadline, so an origin shown down is one attach skips).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>

#include "api/fields.h"
#include "core/time.h"
#include "zdap/args.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/user_config.h"

namespace zdap::cli {
namespace json = boost::json;

namespace {

// "chinook 1/2, sakila 0/1": ready/min of each resource that has a pool; "-" when none has.
std::string Pools(const OriginStatus& s) {
  std::vector<std::string> out;
  for (const auto& r : s.resources) {
    if (r.pool_min > 0 || r.pool_max > 0 || r.pool_ready > 0) {
      out.push_back(fmt::format("{} {}/{}", r.name, r.pool_ready, r.pool_min));
    }
  }
  return out.empty() ? "-" : fmt::format("{}", fmt::join(out, ", "));
}

// "refresh of app failed at 2026-12-07T03:00:00Z": an up origin's resources whose last
// refresh failed (its error line is in `-o json` and on the dashboard); "" when none did.
std::string FailedRefreshes(const OriginStatus& s) {
  std::vector<std::string> out;
  for (const auto& r : s.resources) {
    if (r.refresh.last && r.refresh.last->state == "failed") {
      out.push_back(fmt::format("refresh of {} failed at {}", r.name, r.refresh.last->finished_at));
    }
  }
  return fmt::format("{}", fmt::join(out, "; "));
}

// "app 4m ago, chinook 2d ago": how current each resource's newest snapshot is; "-" when no
// resource says.
std::string DataAsOf(const OriginStatus& s, SystemTime now) {
  std::vector<std::string> out;
  for (const auto& r : s.resources) {
    auto at = ParseRfc3339(r.data_as_of);
    if (r.data_as_of.empty() || !at.ok()) continue;
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *at).count();
    if (age < 0) age = 0;
    std::string ago = age < 120      ? fmt::format("{}s", age)
                      : age < 7200   ? fmt::format("{}m", age / 60)
                      : age < 172800 ? fmt::format("{}h", age / 3600)
                                     : fmt::format("{}d", age / 86400);
    out.push_back(fmt::format("{} {} ago", r.name, ago));
  }
  return out.empty() ? "-" : fmt::format("{}", fmt::join(out, ", "));
}

std::vector<std::string> Row(const OriginProbe& p) {
  if (!p.status.ok()) {
    return {p.url, "down", "-", "-", "-", "-", "-", "-", "-", "-", p.status.status().message()};
  }
  const OriginStatus& s = *p.status;
  return {p.url,
          "up",
          s.version,
          fmt::format("{}/{}", s.storage_driver, s.runtime_driver),
          HumanBytes(s.storage_free_bytes),
          s.memory_available_bytes ? HumanBytes(*s.memory_available_bytes) : "-",
          s.load.empty() ? "-" : fmt::format("{:.2f}", s.load[0]),
          std::to_string(s.clone_count),
          Pools(s),
          DataAsOf(s, SystemNow()),
          FailedRefreshes(s)};
}

json::object Object(const OriginProbe& p) {
  json::object o{{"url", p.url}, {"reachable", p.status.ok()}};
  if (p.status.ok()) {
    o[api::field::kStatus] = api::ToJson(*p.status);
  } else {
    o[api::field::kError] = p.status.status().message();
  }
  return o;
}

}  // namespace

Status CmdStatus(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(OutputFormat format, ParseOutputFormat(a.Get("output", "table")));
  ZDAP_ASSIGN_OR_RETURN(std::string path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadUserConfig(path));
  if (config.origins.empty()) {
    return NotFound("no origin configured; add one with `zdap origin add URL [--token T]`");
  }
  std::vector<OriginProbe> probes = ProbeOrigins(config);
  json::array all;
  std::vector<std::vector<std::string>> rows;
  size_t up = 0;
  for (const OriginProbe& p : probes) {
    up += p.status.ok() ? 1 : 0;
    all.push_back(Object(p));
    rows.push_back(Row(p));
  }
  std::string table = RenderTable({"ORIGIN", "STATE", "VERSION", "DRIVERS", "DISK FREE", "MEM FREE",
                                   "LOAD", "CLONES", "POOLS", "DATA AS OF", "ERROR"},
                                  rows);
  ZDAP_RETURN_IF_ERROR(
      PrintListing(format, json::serialize(json::object{{"origins", std::move(all)}}), table));
  if (up == 0) {
    return Unavailable(
        fmt::format("none of the {} configured origins answers; start zdapd or "
                    "check the URLs with `zdap origin list -v`",
                    probes.size()));
  }
  return Status::Ok();
}

}  // namespace zdap::cli
