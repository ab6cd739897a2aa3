// SessionStore: the dashboard's sign-in (issue 24). A person signs in at /ui/ with an API
// token; zdapd checks it like a Bearer token and answers with a session cookie and a CSRF
// token. The cookie (HttpOnly, SameSite=Strict, Secure under TLS, Max-Age) then stands for
// the token in every request of the page; the CSRF token must come back in X-CSRF-Token on
// every request that changes something.
//
// Only digests are kept: the sha256 of the session id and of the token it was made from, so
// a memory dump leaks no usable cookie; the session id (32 random bytes) exists in clear only
// in the answer to the sign-in and in the browser. The CSRF token is HMAC-SHA256(a key made
// at start, session id): nothing to store, and the page can ask for it again after a reload
// (GET /ui/session) while a cross-site page, which cannot read answers, cannot. Every lookup
// re-checks the token (Authenticator::CallerForDigest): removing a user's token from the tokens
// file ends their sessions at the next SIGHUP. Sessions end at `lifetime` after sign-in, after
// `idle` without a request, at sign-out (revoked) and at restart (memory only). Comparisons
// of secrets are constant-time. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "tokens_file.h"

namespace zdap::daemon {

struct SessionOptions {
  std::chrono::seconds lifetime{12 * 3600};
  std::chrono::seconds idle{2 * 3600};
  size_t max_sessions = 10000;  // beyond it, the session used least recently ends
};

// What a signed-in request knows of its session.
struct SessionInfo {
  TokenDigest token{};  // the token it was made from
  SystemTime expires_at{};
};

class SessionStore {
 public:
  // Aborts if the random generator fails (the key must be secret).
  explicit SessionStore(SessionOptions options = {}, std::function<SystemTime()> now = SystemNow);
  ~SessionStore();

  struct Issued {
    std::string id;    // the cookie's value (64 hex digits)
    std::string csrf;  // the CSRF token (64 hex digits)
    SystemTime expires_at{};
  };
  // A new session for the holder of the token whose digest is `token`.
  Result<Issued> Create(const TokenDigest& token);
  // The session the cookie value `id` names; Unauthenticated if unknown, expired or revoked.
  // Refreshes its idle timer.
  Result<SessionInfo> Find(std::string_view id);
  // The CSRF token of the session whose cookie value is `id`.
  std::string CsrfFor(std::string_view id) const;
  // True if `presented` is that token (constant time).
  bool CsrfMatches(std::string_view id, std::string_view presented) const;
  // Ends the session (sign-out). Returns whether it existed.
  bool Revoke(std::string_view id);
  size_t size() const;

  const SessionOptions& options() const { return options_; }

 private:
  struct Entry {
    SessionInfo info;
    SystemTime last_used{};
  };
  void DropExpiredLocked(SystemTime now);

  SessionOptions options_;
  std::function<SystemTime()> now_;
  TokenDigest csrf_key_{};
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;  // hex sha256 of the id -> entry
};

// The cookie's name: "__Host-zdap_session" under TLS (the browser then insists on Secure,
// Path=/ and no Domain), "zdap_session" over plain HTTP (loopback).
const char* SessionCookieName(bool tls);
// The Set-Cookie value for a new session, and for clearing it at sign-out.
std::string SessionCookie(bool tls, std::string_view id, std::chrono::seconds max_age);
std::string ClearedSessionCookie(bool tls);
// The value of cookie `name` in a Cookie header ("a=1; zdap_session=...") or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace zdap::daemon
