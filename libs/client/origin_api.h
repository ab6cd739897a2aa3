// OriginApi: the zdapd HTTP API v1 (SPEC "HTTP API v1") as seen by its clients, the zdap CLI
// and zdap-proxyd. One object per origin; each call is one HTTP request. Sends
// `Authorization: Bearer <token>` when the origin has a token and `X-Zdap-User` when a user is
// set. API errors become Statuses carrying the daemon's own message
// ("origin http://h:43210: clone 'x' not found").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/clone.h"
#include "api/event.h"
#include "api/job.h"
#include "api/origin_status.h"
#include "api/requests.h"
#include "api/resource.h"
#include "client/origin_api_options.h"
#include "core/result.h"
#include "net/http_client.h"
#include "net/http_url.h"

namespace zdap::client {

// The API's objects, read with libs/api (the same code zdapd writes them with); the request
// bodies are libs/api's too (api/requests.h, the schema zdapd reads them with).
using CloneInfo = api::Clone;
using SnapshotInfo = api::Snapshot;
using ResourceInfo = api::Resource;
using OriginStatus = api::OriginStatus;

class OriginApi {
 public:
  // ca_file: PEM CA bundle trusted beside the system CAs for https ("" = system only).
  OriginApi(net::HttpUrl url, std::string token, std::string user, std::string ca_file = "");
  OriginApi(net::HttpUrl url, std::string token, std::string user, OriginApiOptions options);

  const net::HttpUrl& url() const { return url_; }
  // Whether calls carry a token (the origin has a tokens file, or this is its host's admin).
  bool has_token() const { return !token_.empty(); }

  // GET /v1/health with a short timeout; returns the daemon's version.
  Result<std::string> Health() const;
  // GET /v1/status within `deadline` (connect, then reply): what the origin runs and has room
  // for, as placement and `zdap status` need it.
  Result<OriginStatus> GetStatus(std::chrono::milliseconds deadline) const;
  Result<std::vector<ResourceInfo>> ListResources() const;
  // GET /v1/resources/{resource}: one resource with its snapshots, newest first.
  Result<ResourceInfo> GetResource(const std::string& resource) const;
  // GET /v1/resources/{r}/snapshots/{id}/stream (admin, replicator): the snapshot as a framed
  // stream (api/snapshot_stream.h), its body handed to `sink` as it arrives. `formats`: what
  // the caller can receive, best first; `bases`: snapshots of the resource it holds (the
  // origin may answer with the difference from one). Returns when the body has ended: whether
  // it was whole is for the stream's reader to say. A read that waits `idle_timeout` for a
  // byte fails (Unavailable); errors as every call's.
  Status StreamSnapshot(const std::string& resource, const std::string& id,
                        const std::vector<std::string>& formats,
                        const std::vector<std::string>& bases,
                        const std::function<Status(std::string_view)>& sink,
                        std::chrono::milliseconds idle_timeout = std::chrono::seconds(60)) const;
  // POST /v1/resources/{resource}/clones; returns once the clone is ready (long timeout).
  Result<CloneInfo> CreateClone(const std::string& resource,
                                const api::CreateCloneRequest& request) const;
  // POST /v1/resources/{resource}/claim: a ready pooled clone of `resource`, now the caller's.
  // NotFound when the origin has no such route (an older zdapd) or no pool clone is ready
  // (409 and 503 are mapped to it too), so that a caller can fall back to CreateClone; any
  // other failure as it came.
  Result<CloneInfo> Claim(const std::string& resource,
                          const api::ClaimCloneRequest& request = {}) const;
  // all: every user's clones (admins).
  Result<std::vector<CloneInfo>> ListClones(bool all = false) const;
  Result<CloneInfo> GetClone(const std::string& id) const;
  Status DeleteClone(const std::string& id) const;

  // PATCH /v1/clones/{id}: the fields that are set change (ttl: from now).
  Result<CloneInfo> PatchClone(const std::string& id, const api::UpdateCloneRequest& patch) const;
  // POST /v1/clones/{id}/reset: fresh data from a snapshot.
  Result<CloneInfo> ResetClone(const std::string& id, const api::ResetCloneRequest& reset) const;
  // POST /v1/resources/{r}/snapshots (admin): starts a refresh; 202 with the job.
  Result<api::Job> StartRefresh(const std::string& resource) const;
  // GET /v1/jobs/{id}.
  Result<api::Job> GetJob(const std::string& id) const;
  // GET /v1/events: the caller's view of the origin's events as they happen (Server-Sent
  // Events), those after `after` first when it is set (Last-Event-ID; what the origin's
  // history no longer holds is reported to `on_gap`). `on_event` gets each event; an error it
  // returns ends the stream with that error. Returns when the connection ends: Unavailable
  // when it dropped or the origin closed it (follow again after the last id seen), an API
  // error as any call's. The origin writes a comment every 20 s, so a silent minute is a drop.
  Status FollowEvents(std::optional<uint64_t> after,
                      const std::function<Status(const api::Event&)>& on_event,
                      const std::function<void()>& on_gap) const;

 private:
  // The client settings every call shares (TLS trust, pin, agent, connect timeout), with this
  // call's idle timeout and Accept.
  net::HttpClientOptions ClientOptions(std::chrono::milliseconds io_timeout,
                                       std::string accept) const;
  // A request with this origin's credentials (token, acting user).
  net::HttpRequest NewRequest(std::string method, std::string target) const;
  Result<std::string> Call(std::string method, std::string target, std::string body,
                           int expected_status, std::chrono::milliseconds io_timeout,
                           std::optional<std::chrono::milliseconds> connect_timeout = {}) const;

  net::HttpUrl url_;
  std::string token_;
  std::string user_;
  OriginApiOptions options_;
};

// The Status for an error reply: code from the body's error.code (else from the HTTP status),
// message "origin URL: <error.message>", then `token_hint` on a 401 ("" = the CLI's hint).
Status ErrorFromReply(const std::string& origin, int http_status, std::string_view body,
                      const std::string& token_hint = "");

}  // namespace zdap::client
