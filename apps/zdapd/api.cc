#include "api.h"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <stdlib.h>

#include <cstring>
#include <vector>

#include "core/file_util.h"
#include "core/log.h"
#include "core/names.h"
#include "core/time.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

ApiResponse JsonResponse(int status, const json::value& v) {
  ApiResponse r;
  r.status = status;
  r.body = json::serialize(v);
  r.body += '\n';
  return r;
}

// Splits "/v1/clones/x" into {"v1", "clones", "x"}; refuses empty or dot segments.
Result<std::vector<std::string>> PathSegments(const std::string& target, std::string* query) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return InvalidArgument("request target is not a valid path");
  *query = std::string(u->encoded_query());
  std::vector<std::string> out;
  for (auto seg : u->segments()) {
    std::string s(seg);
    if (s.empty() || s == "." || s == "..") return NotFound("no such route");
    out.push_back(std::move(s));
  }
  return out;
}

Result<json::object> ParseBody(const std::string& body) {
  if (body.empty()) return json::object();
  json::error_code ec;
  json::parse_options opt;
  opt.max_depth = 16;
  json::value v = json::parse(body, ec, {}, opt);
  if (ec) return InvalidArgument(fmt::format("request body is not valid JSON: {}", ec.message()));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  return v.as_object();
}

// Reads optional typed fields; unknown fields are refused so typos do not pass silently.
class BodyReader {
 public:
  explicit BodyReader(const json::object& o) : o_(o) {}
  Status String(const char* key, std::string* out) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return Status::Ok();
    if (!it->value().is_string()) return InvalidArgument(fmt::format("'{}' must be a string", key));
    *out = std::string(it->value().as_string());
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return Status::Ok();
    if (!it->value().is_bool())
      return InvalidArgument(fmt::format("'{}' must be true or false", key));
    *out = it->value().as_bool();
    return Status::Ok();
  }
  Status OnlyKeys(std::initializer_list<const char*> keys) {
    for (const auto& kv : o_) {
      bool known = false;
      for (const char* k : keys) known = known || kv.key() == k;
      if (!known) {
        return InvalidArgument(
            fmt::format("unknown field '{}'", std::string(kv.key()).substr(0, 64)));
      }
    }
    return Status::Ok();
  }

 private:
  const json::object& o_;
};

// MemTotal and MemAvailable of /proc/meminfo in bytes, for /v1/status; empty if unreadable.
json::object HostMemory() {
  json::object o;
  auto text = ReadFile("/proc/meminfo", 1 << 16);
  if (!text.ok()) return o;
  for (auto [field, key] :
       {std::pair{"MemTotal:", "total_bytes"}, std::pair{"MemAvailable:", "available_bytes"}}) {
    size_t at = text->find(field);
    if (at != std::string::npos) {
      o[key] = std::strtoull(text->c_str() + at + std::strlen(field), nullptr, 10) * 1024;
    }
  }
  return o;
}

// GET /v1/status (SPEC): what this origin runs and has room for.
Result<json::object> StatusJson(origin::Origin& origin, const std::string& version) {
  json::object o;
  o["version"] = version;
  storage::Driver& store = origin.store();
  ZDAP_ASSIGN_OR_RETURN(storage::Space space, store.StoreSpace());
  json::object st;
  st["driver"] = origin.storage_driver();
  st["path"] = store.root();
  st["total_bytes"] = space.total_bytes;
  st["free_bytes"] = space.free_bytes;
  st["used_bytes"] = space.used_bytes;
  o["storage"] = std::move(st);
  json::object rt;
  rt["driver"] = origin.runtime_driver();
  o["runtime"] = std::move(rt);
  o["memory"] = HostMemory();
  double load[3] = {0, 0, 0};
  json::array la;
  if (::getloadavg(load, 3) == 3) la = {load[0], load[1], load[2]};
  o["load"] = std::move(la);
  int64_t snapshots = 0, clones = 0;
  json::array ra;
  for (const auto& r : origin.resources()) {
    ZDAP_ASSIGN_OR_RETURN(auto snaps, origin.Snapshots(r.name));
    int64_t n = 0;
    for (const auto& sn : snaps) n += sn.clones;
    json::object ro;
    ro["name"] = r.name;
    ro["snapshots"] = snaps.size();
    ro["clones"] = n;
    // Pools are not implemented yet: none is ever filled, so nothing is available.
    json::object pool;
    pool["min"] = r.pool_min;
    pool["max"] = r.pool_max;
    pool["ready"] = 0;
    ro["pool"] = std::move(pool);
    ra.push_back(std::move(ro));
    snapshots += static_cast<int64_t>(snaps.size());
    clones += n;
  }
  json::object counts;
  counts["resources"] = origin.resources().size();
  counts["snapshots"] = snapshots;
  counts["clones"] = clones;
  o["counts"] = std::move(counts);
  o["resources"] = std::move(ra);
  return o;
}

// The job object (GET /v1/jobs/{id}).
json::object JobJson(const origin::JobInfo& j) {
  json::object o;
  o["id"] = j.id;
  o["kind"] = j.kind;
  o["resource"] = j.resource;
  o["state"] = origin::JobStateName(j.state);
  o["phase"] = j.phase;
  o["bytes_done"] = j.bytes_done;
  o["bytes_total"] = j.bytes_total;
  o["created_at"] = FormatRfc3339Millis(j.created_at);
  o["started_at"] = j.started_at ? json::value(FormatRfc3339Millis(*j.started_at)) : nullptr;
  o["finished_at"] = j.finished_at ? json::value(FormatRfc3339Millis(*j.finished_at)) : nullptr;
  o["elapsed_ms"] = j.elapsed.count();
  o["snapshot"] = j.snapshot.empty() ? json::value(nullptr) : json::value(j.snapshot);
  o["error"] = j.error.empty() ? json::value(nullptr) : json::value(j.error);
  json::array tail;
  for (const auto& line : j.log_tail) tail.push_back(json::value(line));
  o["log_tail"] = std::move(tail);
  return o;
}

}  // namespace

ApiResponse ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  json::object err;
  err["code"] = code;
  err["message"] = message;
  json::object o;
  o["error"] = std::move(err);
  return JsonResponse(http_status, o);
}

ApiResponse ErrorResponse(const Status& status) {
  return ErrorResponse(HttpStatusOf(status.code()), CodeName(status.code()), status.message());
}

ApiResponse Api::Handle(const ApiRequest& request) {
  try {
    return Dispatch(request);
  } catch (const std::exception& e) {
    log::Error("api: {} {}: internal error: {}", request.method, request.target, e.what());
    return ErrorResponse(Internal("internal error; see the zdapd log"));
  }
}

ApiResponse Api::Dispatch(const ApiRequest& req) {
  std::string query;
  auto segs_r = PathSegments(req.target, &query);
  if (!segs_r.ok()) return ErrorResponse(segs_r.status());
  const auto& s = *segs_r;
  auto is = [&](std::initializer_list<const char*> pattern) {
    if (s.size() != pattern.size()) return false;
    size_t i = 0;
    for (const char* p : pattern) {
      if (std::string_view(p) != "*" && s[i] != p) return false;
      ++i;
    }
    return true;
  };
  auto method_not_allowed = [&] {
    return ErrorResponse(405, "method_not_allowed",
                         fmt::format("method {} is not allowed on {}", req.method.substr(0, 16),
                                     req.target.substr(0, 200)));
  };

  if (is({"v1", "health"})) {
    if (req.method != "GET") return method_not_allowed();
    json::object o;
    o["status"] = "ok";
    o["version"] = version_;
    return JsonResponse(200, o);
  }

  // Identity. Without a tokens file the daemon only listens on loopback (enforced at start),
  // so the caller is someone on this host; X-Zdap-User names them. They are a plain user:
  // one developer's mistake must not destroy another's clone. Operators on the host use
  // zdapd's host commands, which see everything.
  origin::Caller caller;
  caller.user = req.user_header.empty() ? "local" : req.user_header;
  caller.admin = false;
  if (!IsValidName(caller.user)) {
    return ErrorResponse(InvalidArgument("X-Zdap-User is not a valid user name"));
  }

  auto clone_json = [&](const catalog::CloneRecord& r) {
    auto access = origin_.AccessFor(r);
    access.origin = "";  // the client knows which origin it asked
    return catalog::CloneToJson(r, access);
  };
  auto resource_json = [&](const config::Resource& r) -> Result<json::object> {
    json::object o;
    o["name"] = r.name;
    o["engine"] = r.engine;
    o["version"] = r.version;
    o["database"] = r.source.database;
    o["ttl"] = FormatDuration(r.clone_ttl);
    ZDAP_ASSIGN_OR_RETURN(auto snaps, origin_.Snapshots(r.name));
    json::array sa;
    for (const auto& sn : snaps) {
      json::object so;
      so["id"] = sn.id;
      so["created_at"] = FormatRfc3339(sn.created_at);
      so["clones"] = sn.clones;
      sa.push_back(std::move(so));
    }
    o["snapshots"] = std::move(sa);
    json::array ca;
    for (const auto& c : origin_.ListClones(caller, false)) {
      if (c.resource == r.name) ca.push_back(clone_json(c));
    }
    o["clones"] = std::move(ca);
    return o;
  };

  if (is({"v1", "status"})) {
    if (req.method != "GET") return method_not_allowed();
    auto o = StatusJson(origin_, version_);
    if (!o.ok()) return ErrorResponse(o.status());
    return JsonResponse(200, *o);
  }
  if (is({"v1", "resources"})) {
    if (req.method != "GET") return method_not_allowed();
    json::array arr;
    for (const auto& r : origin_.resources()) {
      auto o = resource_json(r);
      if (!o.ok()) return ErrorResponse(o.status());
      arr.push_back(std::move(o).value());
    }
    json::object out;
    out["resources"] = std::move(arr);
    return JsonResponse(200, out);
  }
  if (is({"v1", "resources", "*"})) {
    if (req.method != "GET") return method_not_allowed();
    auto r = origin_.FindResource(s[2]);
    if (!r.ok()) return ErrorResponse(r.status());
    auto o = resource_json(**r);
    if (!o.ok()) return ErrorResponse(o.status());
    return JsonResponse(200, *o);
  }
  // Host operations. Until tokens and roles exist the daemon listens on loopback only, and a
  // caller on this host may run them (as `zdapd refresh` could).
  auto admin_only = [&]() -> Status {
    if (caller.admin || req.from_loopback) return Status::Ok();
    return Status(Code::kPermissionDenied, "this operation is for the origin's administrators");
  };
  if (is({"v1", "resources", "*", "snapshots"}) && req.method == "POST") {
    if (Status st = admin_only(); !st.ok()) return ErrorResponse(st);
    auto body = ParseBody(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    if (Status st = BodyReader(*body).OnlyKeys({}); !st.ok()) return ErrorResponse(st);
    auto job = origin_.StartRefresh(s[2]);
    if (!job.ok()) return ErrorResponse(job.status());
    return JsonResponse(202, JobJson(*job));
  }
  if (is({"v1", "resources", "*", "snapshots", "*"})) {
    if (req.method != "DELETE") return method_not_allowed();
    if (Status st = admin_only(); !st.ok()) return ErrorResponse(st);
    Status st = origin_.DeleteSnapshot(s[2], s[4]);
    if (!st.ok()) return ErrorResponse(st);
    ApiResponse r;
    r.status = 204;
    return r;
  }
  if (is({"v1", "jobs"})) {
    if (req.method != "GET") return method_not_allowed();
    json::array arr;
    for (const auto& j : origin_.ListJobs()) arr.push_back(JobJson(j));
    json::object out;
    out["jobs"] = std::move(arr);
    return JsonResponse(200, out);
  }
  if (is({"v1", "jobs", "*"})) {
    if (req.method != "GET") return method_not_allowed();
    auto job = origin_.GetJob(s[2]);
    if (!job.ok()) return ErrorResponse(job.status());
    return JsonResponse(200, JobJson(*job));
  }
  if (is({"v1", "resources", "*", "snapshots"})) {
    if (req.method != "GET") return method_not_allowed();
    auto snaps = origin_.Snapshots(s[2]);
    if (!snaps.ok()) return ErrorResponse(snaps.status());
    json::array sa;
    for (const auto& sn : *snaps) {
      json::object so;
      so["id"] = sn.id;
      so["created_at"] = FormatRfc3339(sn.created_at);
      so["clones"] = sn.clones;
      sa.push_back(std::move(so));
    }
    json::object out;
    out["snapshots"] = std::move(sa);
    return JsonResponse(200, out);
  }
  if (is({"v1", "resources", "*", "clones"})) {
    if (req.method != "POST") return method_not_allowed();
    auto body = ParseBody(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    BodyReader br(*body);
    origin::CreateCloneRequest cr;
    cr.resource = s[2];
    std::string ttl;
    Status st = br.OnlyKeys({"snapshot", "ttl", "name", "protected"});
    if (st.ok()) st = br.String("snapshot", &cr.snapshot);
    if (st.ok()) st = br.String("name", &cr.name);
    if (st.ok()) st = br.String("ttl", &ttl);
    if (st.ok()) st = br.Bool("protected", &cr.is_protected);
    if (!st.ok()) return ErrorResponse(st);
    if (!ttl.empty()) {
      auto d = ParseDuration(ttl);
      if (!d.ok()) return ErrorResponse(d.status());
      cr.ttl = *d;
    }
    auto rec = origin_.CreateClone(cr, caller);
    if (!rec.ok()) return ErrorResponse(rec.status());
    return JsonResponse(201, clone_json(*rec));
  }
  if (is({"v1", "clones"})) {
    if (req.method != "GET") return method_not_allowed();
    bool all = query == "all=1" || query == "all=true";
    json::array arr;
    for (const auto& c : origin_.ListClones(caller, all)) arr.push_back(clone_json(c));
    json::object out;
    out["clones"] = std::move(arr);
    return JsonResponse(200, out);
  }
  if (is({"v1", "clones", "*"})) {
    if (req.method == "GET") {
      auto rec = origin_.GetClone(s[2], caller);
      if (!rec.ok()) return ErrorResponse(rec.status());
      return JsonResponse(200, clone_json(*rec));
    }
    if (req.method == "DELETE") {
      Status st = origin_.DestroyClone(s[2], caller);
      if (!st.ok()) return ErrorResponse(st);
      ApiResponse r;
      r.status = 204;
      return r;
    }
    return method_not_allowed();
  }
  return ErrorResponse(NotFound(
      fmt::format("no route for {} {}", req.method.substr(0, 16), req.target.substr(0, 200))));
}

}  // namespace zdap::daemon
