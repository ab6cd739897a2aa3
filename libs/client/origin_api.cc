#include "client/origin_api.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "api/error.h"
#include "api/fields.h"
#include "api/json_reader.h"
#include "api/sse.h"
#include "core/names.h"
#include "core/version.h"

namespace zdap::client {
namespace json = boost::json;
namespace {

// Call's expected_status for "any 2xx" (the claim route's status is not fixed by SPEC).
constexpr int kAnySuccess = 0;

// A bad reply's error names the origin that sent it.
template <typename T>
Result<T> InOrigin(Result<T> r, const net::HttpUrl& url) {
  if (!r.ok()) return r.status().Wrap(fmt::format("origin {}", url.ToString()));
  return r;
}

}  // namespace

Status ErrorFromReply(const std::string& origin, int http_status, std::string_view body,
                      const std::string& token_hint) {
  Status s = api::StatusFromErrorReply(http_status, body);
  std::string message = fmt::format("origin {}: {}", origin, s.message());
  if (http_status == 401) {
    message += token_hint.empty()
                   ? fmt::format(" (set a token: zdap origin add {} --token T)", origin)
                   : " (" + token_hint + ")";
  }
  return Status(s.code(), std::move(message));
}

OriginApi::OriginApi(net::HttpUrl url, std::string token, std::string user, std::string ca_file)
    : url_(std::move(url)), token_(std::move(token)), user_(std::move(user)) {
  options_.ca_file = std::move(ca_file);
}

OriginApi::OriginApi(net::HttpUrl url, std::string token, std::string user,
                     OriginApiOptions options)
    : url_(std::move(url)),
      token_(std::move(token)),
      user_(std::move(user)),
      options_(std::move(options)) {}

net::HttpClientOptions OriginApi::ClientOptions(std::chrono::milliseconds io_timeout,
                                                std::string accept) const {
  net::HttpClientOptions options;
  options.connect_timeout = options_.connect_timeout;
  options.io_timeout = io_timeout;
  options.max_body_bytes = options_.max_body_bytes;
  options.user_agent =
      options_.user_agent.empty() ? std::string("zdap/" ZDAP_VERSION) : options_.user_agent;
  options.accept = std::move(accept);
  options.ca_file = options_.ca_file;
  options.ca_hint =
      options_.ca_hint.empty()
          ? fmt::format("add the CA with `zdap origin add {} --ca FILE`", url_.ToString())
          : options_.ca_hint;
  options.pinned_cert_file = options_.pinned_cert_file;
  options.pin_hint = options_.pin_hint;
  return options;
}

net::HttpRequest OriginApi::NewRequest(std::string method, std::string target) const {
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!user_.empty()) req.headers.emplace_back("X-Zdap-User", user_);
  return req;
}

Result<std::string> OriginApi::Call(
    std::string method, std::string target, std::string body, int expected_status,
    std::chrono::milliseconds io_timeout,
    std::optional<std::chrono::milliseconds> connect_timeout) const {
  // The cap is for calls only: a stream's idle timeout is the stream's own business.
  if (options_.io_timeout_cap) io_timeout = std::min(io_timeout, *options_.io_timeout_cap);
  net::HttpClientOptions options = ClientOptions(io_timeout, "application/json");
  if (connect_timeout) options.connect_timeout = *connect_timeout;
  net::HttpClient client(url_, options);
  net::HttpRequest req = NewRequest(std::move(method), std::move(target));
  req.body = std::move(body);
  ZDAP_ASSIGN_OR_RETURN(net::HttpResponse res, client.Send(req));
  bool expected = expected_status == kAnySuccess ? res.status >= 200 && res.status < 300
                                                 : res.status == expected_status;
  if (!expected) {
    if (res.status >= 200 && res.status < 300) {
      return Unprocessable(fmt::format("origin {}: unexpected HTTP status {} for {}",
                                       url_.ToString(), res.status, req.target));
    }
    return ErrorFromReply(url_.ToString(), res.status, res.body, options_.token_hint);
  }
  return std::move(res.body);
}

Status OriginApi::FollowEvents(std::optional<uint64_t> after,
                               const std::function<Status(const api::Event&)>& on_event,
                               const std::function<void()>& on_gap) const {
  // Three missed heartbeats.
  net::HttpClient client(url_, ClientOptions(std::chrono::seconds(60), "text/event-stream"));
  net::HttpRequest req = NewRequest("GET", "/v1/events");
  if (after) req.headers.emplace_back("Last-Event-ID", std::to_string(*after));
  // The sink gets a 200's body only: an error reply's JSON comes back in the response.
  api::SseParser parser;
  req.body_sink = [&](std::string_view piece) -> Status {
    ZDAP_RETURN_IF_ERROR(
        parser.Feed(piece).Wrap(fmt::format("origin {}: the event stream", url_.ToString())));
    api::SseMessage m;
    while (parser.Next(&m)) {
      if (m.event == "gap") {
        if (on_gap) on_gap();
        continue;
      }
      auto event = api::ParseEvent(m.data);
      if (!event.ok()) {
        return event.status().Wrap(fmt::format("origin {}: event {}", url_.ToString(), m.id));
      }
      ZDAP_RETURN_IF_ERROR(on_event(*event));
    }
    return Status::Ok();
  };
  ZDAP_ASSIGN_OR_RETURN(net::HttpResponse res, client.Send(req));
  if (res.status != 200)
    return ErrorFromReply(url_.ToString(), res.status, res.body, options_.token_hint);
  return Unavailable(fmt::format("origin {}: the event stream ended", url_.ToString()));
}

Result<std::string> OriginApi::Health() const {
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/health", "", 200, std::chrono::seconds(3)));
  ZDAP_ASSIGN_OR_RETURN(json::value v, api::ParseJson(body, "the health reply"));
  api::ObjectReader r(v, "health", Code::kUnprocessable);
  std::string status, version;
  r.String(api::field::kStatus, &status, /*required=*/true);
  r.String(api::field::kVersion, &version);
  if (!r.status().ok() || status != "ok") {
    return Unavailable(fmt::format("origin {} is not healthy", url_.ToString()));
  }
  return version;
}

Result<OriginStatus> OriginApi::GetStatus(std::chrono::milliseconds deadline) const {
  ZDAP_ASSIGN_OR_RETURN(std::string body, Call("GET", "/v1/status", "", 200, deadline, deadline));
  return InOrigin(api::ParseOriginStatus(body), url_);
}

Result<std::vector<ResourceInfo>> OriginApi::ListResources() const {
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/resources", "", 200, std::chrono::seconds(30)));
  return InOrigin(api::ParseResourceList(body), url_);
}

Result<ResourceInfo> OriginApi::GetResource(const std::string& resource) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  ZDAP_ASSIGN_OR_RETURN(std::string body, Call("GET", "/v1/resources/" + resource, "", 200,
                                               std::chrono::seconds(30)));
  return InOrigin(api::ParseResource(body), url_);
}

Status OriginApi::StreamSnapshot(const std::string& resource, const std::string& id,
                                 const std::vector<std::string>& formats,
                                 const std::vector<std::string>& bases,
                                 const std::function<Status(std::string_view)>& sink,
                                 std::chrono::milliseconds idle_timeout) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  SnapshotId sid;
  ZDAP_RETURN_IF_ERROR(ParseSnapshotId(id, &sid));
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
    return out;
  };
  // Names, ids and format names are all of [A-Za-z0-9@._-]: nothing to percent-encode.
  std::string target =
      fmt::format("/v1/resources/{}/snapshots/{}/stream?formats={}", resource, id, join(formats));
  if (!bases.empty()) target += "&base=" + join(bases);
  net::HttpClient client(url_, ClientOptions(idle_timeout, "application/octet-stream"));
  net::HttpRequest req = NewRequest("GET", std::move(target));
  req.body_sink = sink;
  ZDAP_ASSIGN_OR_RETURN(net::HttpResponse res, client.Send(req));
  if (res.status != 200) {
    return ErrorFromReply(url_.ToString(), res.status, res.body, options_.token_hint);
  }
  return Status::Ok();
}

Result<CloneInfo> OriginApi::CreateClone(const std::string& resource,
                                         const api::CreateCloneRequest& request) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("POST", fmt::format("/v1/resources/{}/clones", resource),
                             json::serialize(api::ToJson(request)), 201, std::chrono::minutes(10)));
  return InOrigin(api::ParseClone(reply), url_);
}

Result<CloneInfo> OriginApi::Claim(const std::string& resource,
                                   const api::ClaimCloneRequest& request) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  auto reply = Call("POST", fmt::format("/v1/resources/{}/claim", resource),
                    json::serialize(api::ToJson(request)), kAnySuccess, std::chrono::minutes(2));
  if (!reply.ok()) {
    Code c = reply.status().code();
    if (c == Code::kNotFound || c == Code::kConflict || c == Code::kUnavailable ||
        c == Code::kInvalidArgument) {
      return NotFound(fmt::format("no pool clone to claim: {}", reply.status().message()));
    }
    return reply.status();
  }
  return InOrigin(api::ParseClone(*reply), url_);
}

Result<std::vector<CloneInfo>> OriginApi::ListClones(bool all) const {
  ZDAP_ASSIGN_OR_RETURN(std::string body, Call("GET", all ? "/v1/clones?all=1" : "/v1/clones", "",
                                               200, std::chrono::seconds(30)));
  return InOrigin(api::ParseCloneList(body), url_);
}

Result<CloneInfo> OriginApi::GetClone(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  ZDAP_ASSIGN_OR_RETURN(std::string body,
                        Call("GET", "/v1/clones/" + id, "", 200, std::chrono::seconds(30)));
  return InOrigin(api::ParseClone(body), url_);
}

Status OriginApi::DeleteClone(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  auto r = Call("DELETE", "/v1/clones/" + id, "", 204, std::chrono::minutes(2));
  return r.ok() ? Status::Ok() : r.status();
}

Result<CloneInfo> OriginApi::PatchClone(const std::string& id,
                                        const api::UpdateCloneRequest& patch) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("PATCH", "/v1/clones/" + id, json::serialize(api::ToJson(patch)), 200,
                             std::chrono::seconds(30)));
  return InOrigin(api::ParseClone(reply), url_);
}

Result<CloneInfo> OriginApi::ResetClone(const std::string& id,
                                        const api::ResetCloneRequest& reset) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", id));
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("POST", fmt::format("/v1/clones/{}/reset", id),
                             json::serialize(api::ToJson(reset)), 200, std::chrono::minutes(10)));
  return InOrigin(api::ParseClone(reply), url_);
}

Result<api::Job> OriginApi::StartRefresh(const std::string& resource) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("POST", fmt::format("/v1/resources/{}/snapshots", resource), "{}", 202,
                             std::chrono::seconds(30)));
  return InOrigin(api::ParseJob(reply), url_);
}

Result<api::Job> OriginApi::GetJob(const std::string& id) const {
  ZDAP_RETURN_IF_ERROR(ValidateName("job", id));
  ZDAP_ASSIGN_OR_RETURN(std::string reply,
                        Call("GET", "/v1/jobs/" + id, "", 200, std::chrono::seconds(30)));
  return InOrigin(api::ParseJob(reply), url_);
}

}  // namespace zdap::client
