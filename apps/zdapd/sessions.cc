#include "sessions.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "core/log.h"

namespace zdap::daemon {
namespace {

constexpr size_t kIdHexChars = 64;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> NewSecretHex() {
  return NewRandomToken();  // 32 bytes from the CSPRNG as 64 hex digits
}

}  // namespace

SessionStore::SessionStore(SessionOptions options, std::function<SystemTime()> now)
    : options_(options), now_(std::move(now)) {
  if (RAND_bytes(csrf_key_.data(), static_cast<int>(csrf_key_.size())) != 1) {
    log::Error("sessions: the OpenSSL random generator failed");
    std::abort();
  }
}

SessionStore::~SessionStore() {
  OPENSSL_cleanse(csrf_key_.data(), csrf_key_.size());
}

std::string SessionStore::CsrfFor(std::string_view id) const {
  TokenDigest mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), csrf_key_.data(), static_cast<int>(csrf_key_.size()),
       reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac.data(), &len);
  return HexOf(mac);
}

bool SessionStore::CsrfMatches(std::string_view id, std::string_view presented) const {
  std::string expected = CsrfFor(id);
  return presented.size() == expected.size() &&
         CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

Result<SessionStore::Issued> SessionStore::Create(const TokenDigest& token) {
  Issued out;
  ZDAP_ASSIGN_OR_RETURN(out.id, NewSecretHex());
  out.csrf = CsrfFor(out.id);
  SystemTime now = now_();
  out.expires_at = now + options_.lifetime;
  Entry e;
  e.info.token = token;
  e.info.expires_at = out.expires_at;
  e.last_used = now;
  std::lock_guard lock(mu_);
  DropExpiredLocked(now);
  while (sessions_.size() >= options_.max_sessions && !sessions_.empty()) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[HexOf(DigestOf(out.id))] = std::move(e);
  return out;
}

Result<SessionInfo> SessionStore::Find(std::string_view id) {
  auto refused = [] {
    return Status(Code::kUnauthenticated,
                  "the session has ended (signed out, expired or zdapd restarted); sign in again");
  };
  if (id.size() != kIdHexChars || !IsLowerHex(id)) return refused();
  // The map is keyed by the id's digest, so its lookup compares digests, not the secret.
  std::string key = HexOf(DigestOf(id));
  SystemTime now = now_();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return refused();
  Entry& e = it->second;
  if (now >= e.info.expires_at || now - e.last_used >= options_.idle) {
    sessions_.erase(it);
    return refused();
  }
  e.last_used = now;
  return e.info;
}

bool SessionStore::Revoke(std::string_view id) {
  if (id.size() != kIdHexChars) return false;
  std::lock_guard lock(mu_);
  return sessions_.erase(HexOf(DigestOf(id))) > 0;
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionStore::DropExpiredLocked(SystemTime now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    bool over = now >= it->second.info.expires_at || now - it->second.last_used >= options_.idle;
    it = over ? sessions_.erase(it) : std::next(it);
  }
}

const char* SessionCookieName(bool tls) {
  return tls ? "__Host-zdap_session" : "zdap_session";
}

std::string SessionCookie(bool tls, std::string_view id, std::chrono::seconds max_age) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
                     SessionCookieName(tls), id, max_age.count(), tls ? "; Secure" : "");
}

std::string ClearedSessionCookie(bool tls) {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", SessionCookieName(tls),
                     tls ? "; Secure" : "");
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) {
      std::string_view v = pair.substr(eq + 1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return std::string(v);
    }
  }
  return "";
}

}  // namespace zdap::daemon
