#include "authenticator.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "core/log.h"
#include "core/names.h"
#include "request_guards.h"

namespace zdap::daemon {
namespace {

constexpr size_t kMaxTokenChars = 1024;

Status Unauthenticated(std::string message) {
  return Status(Code::kUnauthenticated, std::move(message));
}

bool SameDigest(const TokenDigest& a, const TokenDigest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The token of "Bearer <token>" (scheme case-insensitive), or nullopt.
std::optional<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return std::nullopt;
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxTokenChars) return std::nullopt;
  for (char c : token) {
    if (c <= ' ' || c == 127) return std::nullopt;
  }
  return token;
}

}  // namespace

const char* Authenticator::FailureName(Failure f) {
  switch (f) {
    case Failure::kNone:
      return "none";
    case Failure::kMissing:
      return "missing_token";
    case Failure::kMalformed:
      return "malformed_header";
    case Failure::kUnknown:
      return "unknown_token";
    case Failure::kRemoteHostToken:
      return "host_token_not_loopback";
    case Failure::kBadUser:
      return "bad_user_header";
    case Failure::kSessionEnded:
      return "session_ended";
  }
  return "none";
}

const char* Authenticator::ViaName(Via v) {
  switch (v) {
    case Via::kNone:
      return "";
    case Via::kToken:
      return "token";
    case Via::kSession:
      return "session";
    case Via::kOpen:
      return "open";
  }
  return "";
}

void Authenticator::SetSessions(SessionStore* sessions, bool tls) {
  sessions_ = sessions;
  sessions_tls_ = tls;
}

Status Authenticator::CheckCsrf(const ApiRequest& req, Via via) const {
  if (sessions_ == nullptr) return Status::Ok();
  return daemon::CheckCsrf(req, via, *sessions_, SessionId(req));
}

std::string Authenticator::SessionId(const ApiRequest& req) const {
  if (sessions_ == nullptr || req.cookie.empty()) return "";
  return CookieValue(req.cookie, SessionCookieName(sessions_tls_));
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(std::string tokens_file) {
  std::unique_ptr<Authenticator> a(new Authenticator());
  a->tokens_file_ = std::move(tokens_file);
  a->entries_ = std::make_shared<const std::vector<TokenEntry>>();
  if (!a->tokens_file_.empty()) {
    ZDAP_ASSIGN_OR_RETURN(auto entries, LoadTokensFile(a->tokens_file_));
    a->entries_ = std::make_shared<const std::vector<TokenEntry>>(std::move(entries));
  }
  return a;
}

std::unique_ptr<Authenticator> Authenticator::ForEntries(std::vector<TokenEntry> entries) {
  std::unique_ptr<Authenticator> a(new Authenticator());
  a->fixed_ = true;
  a->entries_ = std::make_shared<const std::vector<TokenEntry>>(std::move(entries));
  return a;
}

Status Authenticator::Reload() {
  if (tokens_file_.empty()) return Status::Ok();
  auto entries = LoadTokensFile(tokens_file_);
  if (!entries.ok()) {
    return entries.status().Wrap("reload: the previous tokens stay in force");
  }
  auto snapshot = std::make_shared<const std::vector<TokenEntry>>(std::move(entries).value());
  size_t n = snapshot->size();
  {
    std::lock_guard lock(mu_);
    entries_ = std::move(snapshot);
  }
  log::Info("tokens reloaded from {}: {} user(s)", tokens_file_, n);
  return Status::Ok();
}

void Authenticator::SetHostToken(std::string_view token) {
  std::lock_guard lock(mu_);
  if (token.empty()) {
    host_digest_.reset();
  } else {
    host_digest_ = DigestOf(token);
  }
}

std::shared_ptr<const std::vector<TokenEntry>> Authenticator::Snapshot() const {
  std::lock_guard lock(mu_);
  return entries_;
}

Result<origin::Caller> Authenticator::Authenticate(const ApiRequest& req, Failure* failure,
                                                   Via* via) const {
  *failure = Failure::kNone;
  Via ignored;
  if (via == nullptr) via = &ignored;
  *via = Via::kNone;
  if (req.authorization.empty()) {
    // The dashboard's session cookie stands for the token it was made from.
    if (std::string id = SessionId(req); !id.empty()) {
      auto session = sessions_->Find(id);
      if (!session.ok()) {
        *failure = Failure::kSessionEnded;
        return session.status();
      }
      auto caller = CallerOfDigest(session->token, req.from_loopback, failure);
      if (!caller.ok()) {
        sessions_->Revoke(id);
        if (*failure == Failure::kUnknown) *failure = Failure::kSessionEnded;
        return Unauthenticated(
            "the token this session was made from is no longer valid; sign "
            "in again");
      }
      *via = Via::kSession;
      return caller;
    }
    if (!open_mode()) {
      *failure = Failure::kMissing;
      return Unauthenticated("a token is required: send Authorization: Bearer <token>");
    }
    origin::Caller caller{req.user_header.empty() ? "local" : req.user_header, false};
    if (!IsValidName(caller.user) || caller.user == kHostAdminUser) {
      *failure = Failure::kBadUser;
      return InvalidArgument("X-Zdap-User is not a valid user name");
    }
    *via = Via::kOpen;
    return caller;
  }
  std::optional<std::string_view> token = BearerToken(req.authorization);
  if (!token) {
    *failure = Failure::kMalformed;
    return Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  auto caller = CallerOfDigest(DigestOf(*token), req.from_loopback, failure);
  if (caller.ok()) *via = Via::kToken;
  return caller;
}

Result<origin::Caller> Authenticator::CallerOfDigest(const TokenDigest& digest, bool from_loopback,
                                                     Failure* failure) const {
  std::optional<TokenDigest> host;
  {
    std::lock_guard lock(mu_);
    host = host_digest_;
  }
  auto entries = Snapshot();
  // Every entry is compared, whether or not an earlier one matched: the time taken does not
  // depend on which entry (if any) the token belongs to.
  const TokenEntry* found = nullptr;
  for (const TokenEntry& e : *entries) {
    if (SameDigest(e.digest, digest) && found == nullptr) found = &e;
  }
  bool is_host = host && SameDigest(*host, digest);
  if (is_host) {
    if (!from_loopback) {
      *failure = Failure::kRemoteHostToken;
      return Status(Code::kPermissionDenied,
                    "the host admin token is accepted only from this host (loopback)");
    }
    return origin::Caller{kHostAdminUser, true};
  }
  if (found != nullptr) {
    return origin::Caller{found->user, found->role == TokenRole::kAdmin,
                          found->role == TokenRole::kReplicator};
  }
  *failure = Failure::kUnknown;
  return Unauthenticated("the token is not known to this origin");
}

}  // namespace zdap::daemon
