#include "zdap/origin_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/names.h"

namespace zdap::cli {
namespace json = boost::json;
namespace {

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

bool Bool(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().as_bool();
}

Result<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Unprocessable(fmt::format("the origin sent invalid JSON: {}", ec.message()));
  return v;
}

Result<CloneInfo> CloneFrom(const json::value& v) {
  if (!v.is_object()) return Unprocessable("the origin sent a clone that is not a JSON object");
  const json::object& o = v.as_object();
  CloneInfo c;
  c.id = Str(o, "id");
  c.resource = Str(o, "resource");
  c.snapshot = Str(o, "snapshot");
  c.owner = Str(o, "owner");
  c.state = Str(o, "state");
  c.host = Str(o, "host");
  c.database = Str(o, "database");
  c.user = Str(o, "user");
  c.password = Str(o, "password");
  c.uri = Str(o, "uri");
  c.created_at = Str(o, "created_at");
  c.expires_at = Str(o, "expires_at");
  c.origin = Str(o, "origin");
  c.engine = Str(o, "engine");
  c.is_protected = Bool(o, "protected");
  c.pooled = Bool(o, "pooled");
  if (auto it = o.find("port"); it != o.end() && it->value().is_int64()) {
    int64_t p = it->value().as_int64();
    if (p > 0 && p <= 65535) c.port = static_cast<uint16_t>(p);
  }
  if (c.id.empty()) return Unprocessable("the origin sent a clone without an id");
  c.json = json::serialize(v);
  return c;
}

Result<std::vector<CloneInfo>> ClonesFrom(const json::value& v) {
  std::vector<CloneInfo> out;
  if (!v.is_array()) return Unprocessable("the origin sent 'clones' that is not a list");
  for (const auto& c : v.as_array()) {
    ZDAP_ASSIGN_OR_RETURN(CloneInfo info, CloneFrom(c));
    out.push_back(std::move(info));
  }
  return out;
}

Code CodeFromName(std::string_view name, int http_status) {
  static const std::pair<std::string_view, Code> kCodes[] = {
      {"invalid_argument", Code::kInvalidArgument},
      {"unauthenticated", Code::kUnauthenticated},
      {"permission_denied", Code::kPermissionDenied},
      {"not_found", Code::kNotFound},
      {"conflict", Code::kConflict},
      {"too_large", Code::kTooLarge},
      {"unprocessable", Code::kUnprocessable},
      {"unavailable", Code::kUnavailable},
      {"io_error", Code::kIoError},
      {"internal", Code::kInternal}};
  for (const auto& [n, c] : kCodes) {
    if (n == name) return c;
  }
  switch (http_status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kTooLarge;
    case 422:
      return Code::kUnprocessable;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Status ErrorFromReply(const std::string& origin, int http_status, std::string_view body) {
  std::string code_name, message;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (auto it = v.as_object().find("error");
        it != v.as_object().end() && it->value().is_object()) {
      code_name = Str(it->value().as_object(), "code");
      message = Str(it->value().as_object(), "message");
    }
  }
  if (message.empty()) message = fmt::format("HTTP status {}", http_status);
  Status s(CodeFromName(code_name, http_status), fmt::format("origin {}: {}", origin, message));
  if (http_status == 401) {
    return Status(
        s.code(),
        s.message() + fmt::format(" (set a token: zdap origin add {} --token T)", origin));
  }
  return s;
}

Result<CloneInfo> ParseClone(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text));
  return CloneFrom(v);
}

Result<std::vector<CloneInfo>> ParseCloneList(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text));
  if (!v.is_object() || !v.as_object().contains("clones")) {
    return Unprocessable("the origin's reply has no 'clones'");
  }
  return ClonesFrom(v.as_object().at("clones"));
}

Result<std::vector<ResourceInfo>> ParseResourceList(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(text));
  if (!v.is_object() || !v.as_object().contains("resources") ||
      !v.as_object().at("resources").is_array()) {
    return Unprocessable("the origin's reply has no 'resources' list");
  }
  std::vector<ResourceInfo> out;
  for (const auto& r : v.as_object().at("resources").as_array()) {
    if (!r.is_object()) return Unprocessable("the origin sent a resource that is not an object");
    const json::object& o = r.as_object();
    ResourceInfo info;
    info.name = Str(o, "name");
    info.engine = Str(o, "engine");
    info.version = Str(o, "version");
    info.database = Str(o, "database");
    if (auto it = o.find("snapshots"); it != o.end() && it->value().is_array()) {
      for (const auto& s : it->value().as_array()) {
        if (!s.is_object()) continue;
        info.snapshots.push_back({Str(s.as_object(), "id"), Str(s.as_object(), "created_at")});
      }
    }
    if (auto it = o.find("clones"); it != o.end()) {
      ZDAP_ASSIGN_OR_RETURN(info.clones, ClonesFrom(it->value()));
    }
    info.json = json::serialize(r);
    out.push_back(std::move(info));
  }
  return out;
}

OriginApi::OriginApi(net::HttpUrl url, std::string token, std::string user, std::string ca_file)
    : url_(std::move(url)),
      token_(std::move(token)),
      user_(std::move(user)),
      ca_file_(std::move(ca_file)) {}

Result<std::string> OriginApi::Call(std::string method, std::string target, std::string body,
                                    int expected_status,
                                    std::chrono::milliseconds io_timeout) const {
  net::HttpClientOptions options;
  options.io_timeout = io_timeout;
  options.user_agent = "zdap/" ZDAP_VERSION;
  options.ca_file = ca_file_;
  options.ca_hint = fmt::format("add the CA with `zdap origin add {} --ca FILE`", url_.ToString());
  net::HttpClient client(url_, options);
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!user_.empty()) req.headers.emplace_back("X-Zdap-User", user_);
  ZDAP_ASSIGN_OR_RETURN(net::HttpResponse res, client.Send(req));
  if (res.status != expected_status) {
    if (res.status >= 200 && res.status < 300) {
      return Unprocessable(fmt::format("origin {}: unexpected HTTP status {} for {}",
                                       url_.ToString(), res.status, req.target));
    }
    return ErrorFromReply(url_.ToString(), res.status, res.body);
  }
  return std::move(res.body);
}

Result<std::string> OriginApi::Health() const {
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/health", "", 200, std::chrono::seconds(3)));
  ZDAP_ASSIGN_OR_RETURN(json::value v, ParseJson(body));
  if (!v.is_object() || Str(v.as_object(), "status") != "ok") {
    return Unavailable(fmt::format("origin {} is not healthy", url_.ToString()));
  }
  return Str(v.as_object(), "version");
}

Result<std::vector<ResourceInfo>> OriginApi::ListResources() const {
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/resources", "", 200, std::chrono::seconds(30)));
  auto out = ParseResourceList(body);
  if (!out.ok()) return out.status().Wrap(fmt::format("origin {}", url_.ToString()));
  return out;
}

Result<CloneInfo> OriginApi::CreateClone(const CreateCloneRequest& request) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", request.resource));
  json::object body;
  if (!request.snapshot.empty()) body["snapshot"] = request.snapshot;
  if (!request.ttl.empty()) body["ttl"] = request.ttl;
  if (!request.name.empty()) body["name"] = request.name;
  if (request.is_protected) body["protected"] = true;
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("POST", fmt::format("/v1/resources/{}/clones", request.resource),
                             json::serialize(body), 201, std::chrono::minutes(10)));
  return ParseClone(reply);
}

Result<std::vector<CloneInfo>> OriginApi::ListClones(bool all) const {
  ZDAP_ASSIGN_OR_RETURN(std::string body, Call("GET", all ? "/v1/clones?all=1" : "/v1/clones", "",
                                               200, std::chrono::seconds(30)));
  return ParseCloneList(body);
}

Result<CloneInfo> OriginApi::GetClone(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/clones/" + id, "", 200, std::chrono::seconds(30)));
  return ParseClone(body);
}

Status OriginApi::DeleteClone(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  auto r = Call("DELETE", "/v1/clones/" + id, "", 204, std::chrono::minutes(2));
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace zdap::cli
