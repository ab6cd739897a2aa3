// zdap list resources|snapshots|clones: asks every configured origin. Resources and snapshots
// are the same for every user; `list clones --all` is every owner's clones (admins).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <functional>
#include <iostream>

#include "api/fields.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/progress.h"
#include "zdap/user_config.h"

namespace zdap::cli {
namespace json = boost::json;

namespace {

struct ListSetup {
  OutputFormat format = OutputFormat::kTable;
  UserConfig config;
};

Result<ListSetup> Setup(const VerbArgs& a) {
  ListSetup s;
  ZDAP_ASSIGN_OR_RETURN(s.format, ParseOutputFormat(a.Get("output", "table")));
  ZDAP_ASSIGN_OR_RETURN(std::string path, UserConfigPath());
  ZDAP_ASSIGN_OR_RETURN(s.config, LoadUserConfig(path));
  if (s.config.origins.empty()) {
    return NotFound("no origin configured; add one with `zdap origin add URL [--token T]`");
  }
  return s;
}

// Runs `each` for every origin. When some origins answer, those that fail are reported on
// stderr as warnings; when none answers, that is the error.
Status ForEachOrigin(const UserConfig& config,
                     const std::function<Status(const OriginApi&)>& each) {
  std::vector<Status> failed;
  for (const auto& o : config.origins) {
    auto api = OriginFor(config, o.url);
    Status s = api.ok() ? each(*api) : api.status();
    if (!s.ok()) failed.push_back(s);
  }
  if (failed.size() == config.origins.size()) {
    if (failed.size() == 1) return failed[0];
    std::string all;
    for (const auto& f : failed) all += (all.empty() ? "" : "; ") + f.message();
    return Unavailable("no origin answered: " + all);
  }
  for (const auto& f : failed) Warn(f.message());
  return Status::Ok();
}

Status Print(OutputFormat format, const json::value& doc, const std::string& table) {
  return PrintListing(format, json::serialize(doc), table);
}

// The object with "origin" set to the origin it came from unless the daemon named one.
json::value WithOrigin(json::object o, const std::string& origin) {
  auto* v = o.if_contains(api::field::kOrigin);
  if (v == nullptr || !v->is_string() || v->as_string().empty()) o[api::field::kOrigin] = origin;
  return o;
}

}  // namespace

Status CmdListResources(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(ListSetup s, Setup(a));
  json::array all;
  std::vector<std::vector<std::string>> rows;
  ZDAP_RETURN_IF_ERROR(ForEachOrigin(s.config, [&](const OriginApi& api) -> Status {
    ZDAP_ASSIGN_OR_RETURN(auto resources, api.ListResources());
    std::string origin = api.url().ToString();
    for (const auto& r : resources) {
      all.push_back(WithOrigin(api::ToJson(r), origin));
      rows.push_back({r.name, r.engine, r.version, std::to_string(r.snapshots.size()),
                      r.snapshots.empty() ? "-" : r.snapshots.front().created_at,
                      std::to_string(r.clones.size()), origin});
    }
    return Status::Ok();
  }));
  return Print(
      s.format, json::object{{"resources", all}},
      RenderTable({"RESOURCE", "ENGINE", "VERSION", "SNAPSHOTS", "NEWEST", "CLONES", "ORIGIN"},
                  rows));
}

Status CmdListSnapshots(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(ListSetup s, Setup(a));
  json::array all;
  std::vector<std::vector<std::string>> rows;
  ZDAP_RETURN_IF_ERROR(ForEachOrigin(s.config, [&](const OriginApi& api) -> Status {
    ZDAP_ASSIGN_OR_RETURN(auto resources, api.ListResources());
    std::string origin = api.url().ToString();
    for (const auto& r : resources) {
      for (api::Snapshot snap : r.snapshots) {
        snap.resource = r.name;
        all.push_back(WithOrigin(api::ToJson(snap), origin));
        rows.push_back({snap.id, r.name, snap.created_at,
                        snap.data_as_of.empty() ? "-" : snap.data_as_of, origin});
      }
    }
    return Status::Ok();
  }));
  return Print(s.format, json::object{{"snapshots", all}},
               RenderTable({"SNAPSHOT", "RESOURCE", "CREATED", "DATA AS OF", "ORIGIN"}, rows));
}

Status CmdListClones(const VerbArgs& a) {
  ZDAP_ASSIGN_OR_RETURN(ListSetup s, Setup(a));
  json::array all;
  std::vector<std::vector<std::string>> rows;
  ZDAP_RETURN_IF_ERROR(ForEachOrigin(s.config, [&](const OriginApi& api) -> Status {
    ZDAP_ASSIGN_OR_RETURN(auto clones, api.ListClones(a.Has("all")));
    std::string origin = api.url().ToString();
    for (const auto& c : clones) {
      all.push_back(WithOrigin(api::ToJson(c), origin));
      rows.push_back({c.id, c.resource, c.state, fmt::format("{}:{}", c.host, c.port), c.owner,
                      c.expires_at.empty() ? "never" : c.expires_at, origin});
    }
    return Status::Ok();
  }));
  return Print(
      s.format, json::object{{"clones", all}},
      RenderTable({"CLONE", "RESOURCE", "STATE", "ADDRESS", "OWNER", "EXPIRES", "ORIGIN"}, rows));
}

}  // namespace zdap::cli
