#include "origin/secret_store.h"

#include "core/random_secret.h"

namespace zdap::origin {

Result<std::string> SecretStore::NewPassword(const std::string& chosen) {
  if (!chosen.empty()) return chosen;
  // 24 bytes: 192 bits, 32 URL-safe characters.
  return RandomUrlSafeSecret(24);
}

void SecretStore::Remember(const std::string& clone, const std::string& password) {
  std::lock_guard lock(mu_);
  cache_[clone].password = password;
}

Status SecretStore::Store(const std::string& clone, const std::string& password) {
  ZDAP_RETURN_IF_ERROR(env_.WriteFileAtomic(PathOf(clone), password, 0600));
  Remember(clone, password);
  return Status::Ok();
}

Status SecretStore::Stage(const std::string& clone, const std::string& password) {
  ZDAP_RETURN_IF_ERROR(env_.ReplaceFile(PathOf(clone), password, 0600));
  Remember(clone, password);
  return Status::Ok();
}

Status SecretStore::Sync(const std::string& clone) {
  ZDAP_RETURN_IF_ERROR(env_.SyncFile(PathOf(clone)));
  return env_.SyncDir(dir_);
}

Status SecretStore::StageNext(const std::string& clone, const std::string& password) {
  return env_.ReplaceFile(NextPathOf(clone), password, 0600);
}

Status SecretStore::SyncNext(const std::string& clone) {
  return env_.SyncFile(NextPathOf(clone));
}

Status SecretStore::CommitNext(const std::string& clone, const std::string& password) {
  ZDAP_RETURN_IF_ERROR(env_.Rename(NextPathOf(clone), PathOf(clone)));
  ZDAP_RETURN_IF_ERROR(env_.SyncDir(dir_));
  Remember(clone, password);
  return Status::Ok();
}

void SecretStore::DropNext(const std::string& clone) {
  (void)env_.RemoveFile(NextPathOf(clone));
}

Result<std::string> SecretStore::Password(const std::string& clone) {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(clone); it != cache_.end() && !it->second.password.empty()) {
      return it->second.password;
    }
  }
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadFile(clone));
  Remember(clone, password);
  return password;
}

Result<std::string> SecretStore::ReadFile(const std::string& clone) {
  ZDAP_ASSIGN_OR_RETURN(std::string password, env_.ReadFile(PathOf(clone), 4096));
  if (password.empty()) return NotFound(PathOf(clone) + " is empty");
  return password;
}

Status SecretStore::Forget(const std::string& clone) {
  Status st = env_.RemoveFile(PathOf(clone));
  std::lock_guard lock(mu_);
  cache_.erase(clone);
  return st;
}

std::optional<std::string> SecretStore::CachedUri(const std::string& clone, int port,
                                                  const std::string& password) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(clone);
  if (it == cache_.end() || it->second.port != port) return std::nullopt;
  const Cached& c = it->second;
  if (password.empty()) {
    if (c.bare_uri.empty()) return std::nullopt;
    return c.bare_uri;
  }
  if (c.uri.empty() || c.uri_password != password) return std::nullopt;
  return c.uri;
}

void SecretStore::RememberUri(const std::string& clone, int port, const std::string& password,
                              const std::string& uri) {
  std::lock_guard lock(mu_);
  Cached& c = cache_[clone];
  if (c.port != port) {
    c.port = port;
    c.uri.clear();
    c.uri_password.clear();
    c.bare_uri.clear();
  }
  if (password.empty()) {
    c.bare_uri = uri;
  } else {
    c.uri_password = password;
    c.uri = uri;
  }
}

}  // namespace zdap::origin
