// OriginApi: the zdapd HTTP API v1 (SPEC "HTTP API v1") as seen from the CLI. One object per
// origin; each call is one HTTP request. Sends `Authorization: Bearer <token>` when the origin
// has a token and `X-Zdap-User` always. API errors become Statuses carrying the daemon's own
// message ("origin http://h:43210: clone 'x' not found").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/clone.h"
#include "api/job.h"
#include "api/resource.h"
#include "core/result.h"
#include "net/http_client.h"
#include "net/http_url.h"

namespace zdap::cli {

// The API's objects, read with libs/api (the same code zdapd writes them with).
using CloneInfo = api::Clone;
using SnapshotInfo = api::Snapshot;
using ResourceInfo = api::Resource;

struct CreateCloneRequest {
  std::string resource;
  std::string snapshot;  // empty: the newest
  std::string ttl;       // empty: the resource's default
  std::string name;      // empty: chosen by the daemon
  bool is_protected = false;
};

class OriginApi {
 public:
  // ca_file: PEM CA bundle trusted beside the system CAs for https ("" = system only).
  OriginApi(net::HttpUrl url, std::string token, std::string user, std::string ca_file = "");

  const net::HttpUrl& url() const { return url_; }

  // GET /v1/health with a short timeout; returns the daemon's version.
  Result<std::string> Health() const;
  Result<std::vector<ResourceInfo>> ListResources() const;
  // POST /v1/resources/{r}/clones; returns once the clone is ready (long timeout).
  Result<CloneInfo> CreateClone(const CreateCloneRequest& request) const;
  // all: every user's clones (admins).
  Result<std::vector<CloneInfo>> ListClones(bool all = false) const;
  Result<CloneInfo> GetClone(const std::string& id) const;
  Status DeleteClone(const std::string& id) const;

  // PATCH /v1/clones/{id}: the fields that are set change (ttl: a duration from now).
  struct ClonePatch {
    std::optional<std::string> ttl;
    std::optional<bool> is_protected;
  };
  Result<CloneInfo> PatchClone(const std::string& id, const ClonePatch& patch) const;
  // POST /v1/clones/{id}/reset: fresh data from `snapshot` ("" = the clone's resource's newest).
  Result<CloneInfo> ResetClone(const std::string& id, const std::string& snapshot) const;
  // POST /v1/resources/{r}/snapshots (admin): starts a refresh; 202 with the job.
  Result<api::Job> StartRefresh(const std::string& resource) const;
  // GET /v1/jobs/{id}.
  Result<api::Job> GetJob(const std::string& id) const;

 private:
  Result<std::string> Call(std::string method, std::string target, std::string body,
                           int expected_status, std::chrono::milliseconds io_timeout) const;

  net::HttpUrl url_;
  std::string token_;
  std::string user_;
  std::string ca_file_;
};

// The Status for an error reply: code from the body's error.code (else from the HTTP status),
// message "origin URL: <error.message>".
Status ErrorFromReply(const std::string& origin, int http_status, std::string_view body);

}  // namespace zdap::cli
