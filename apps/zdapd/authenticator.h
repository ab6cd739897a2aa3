// Authenticator: who is calling (SPEC "HTTP API v1", issue 9 "Authentication and roles").
//
// With a tokens file, a request must carry `Authorization: Bearer <token>` whose sha256 is
// listed there (compared in constant time, CRYPTO_memcmp over every entry); X-Zdap-User is
// ignored. Without one (open mode, loopback listeners only: config validation enforces it)
// X-Zdap-User names a plain user ("local" when absent). In both modes the host token, written
// to <data_dir>/admin.token by `zdapd serve`, makes the caller the admin "zdapd", but only
// from a loopback peer. Thread-safe; Reload() swaps an immutable snapshot of the tokens.
//
// The dashboard (issue 24): a request without an Authorization header but with the session
// cookie (SetSessions) is the caller of the token the session was made from, checked again
// against the tokens in force now (a removed token ends its sessions).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_message.h"
#include "core/result.h"
#include "origin/origin.h"
#include "sessions.h"
#include "tokens_file.h"

namespace zdap::daemon {

// The user the host token stands for.
inline constexpr const char* kHostAdminUser = "zdapd";

class Authenticator {
 public:
  // `tokens_file` "" = open mode. The file must exist and parse.
  static Result<std::unique_ptr<Authenticator>> Create(std::string tokens_file);
  // Open mode with these entries, for tests and the fuzz target (no file).
  static std::unique_ptr<Authenticator> ForEntries(std::vector<TokenEntry> entries);

  // Re-reads the tokens file; on error the previous tokens stay in force. No-op in open mode.
  Status Reload();
  // The host admin token (its digest is kept); "" forgets it.
  void SetHostToken(std::string_view token);
  // Accept the dashboard's session cookie (named for `tls`). `sessions` must outlive this.
  void SetSessions(SessionStore* sessions, bool tls);

  // Why a request was refused, for the auth failure counter.
  enum class Failure {
    kNone,
    kMissing,
    kMalformed,
    kUnknown,
    kRemoteHostToken,
    kBadUser,
    kSessionEnded
  };
  static const char* FailureName(Failure f);
  // How the caller proved who they are.
  enum class Via { kNone, kToken, kSession, kOpen };
  static const char* ViaName(Via v);

  // The caller, or: Unauthenticated (401: no, malformed or unknown token), PermissionDenied
  // (403: host token from another host), InvalidArgument (400: bad X-Zdap-User, open mode).
  Result<origin::Caller> Authenticate(const ApiRequest& request, Failure* failure,
                                      Via* via = nullptr) const;
  // The session cookie's value in `request` ("" if none, or sessions are off).
  std::string SessionId(const ApiRequest& request) const;
  // PermissionDenied if `request` changes something with the session cookie (`via`) without
  // the session's CSRF token (request_guards.h).
  Status CheckCsrf(const ApiRequest& request, Via via) const;

  bool open_mode() const { return tokens_file_.empty() && !fixed_; }

 private:
  Authenticator() = default;
  std::shared_ptr<const std::vector<TokenEntry>> Snapshot() const;
  // The caller whose token has this digest, as for a Bearer token (host token: loopback only).
  Result<origin::Caller> CallerOfDigest(const TokenDigest& digest, bool from_loopback,
                                        Failure* failure) const;

  std::string tokens_file_;
  bool fixed_ = false;  // ForEntries
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<TokenEntry>> entries_;
  std::optional<TokenDigest> host_digest_;
  SessionStore* sessions_ = nullptr;
  bool sessions_tls_ = false;
};

}  // namespace zdap::daemon
