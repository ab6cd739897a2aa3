// SecretStore: each clone's own password (SPEC "A secret per clone"). The password lives in one
// 0600 file, <data_dir>/secrets/<clone>, and nowhere else on disk (never in the catalog, a log
// or a command line). Files are read once and then answered from memory: a list of N clones
// must not open N files per request (bench/api). Thread-safe.
//
// How each operation writes:
//   Store       a durable write (fsync of file and directory) before it returns;
//   Stage+Sync  a create: the file is written without fsyncs so the clone's server starts at
//               once, and Sync makes it durable before anything says the clone is ready;
//   StageNext,  a claim: the new password waits in <clone>.next (not synced) until the server
//   SyncNext,   has it in force, then replaces the file in one rename (content synced first,
//   CommitNext  directory after), so the file never names a password the server refuses.
//
// Beside the passwords it keeps the clone object's connection URI by clone (made by the
// engine, with the password in it for its owner), valid while the port and password are the
// ones it was made for: GET /v1/clones lists hundreds of clones per request.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/env.h"
#include "core/result.h"

namespace zdap::origin {

class SecretStore {
 public:
  // `dir` exists, mode 0700.
  SecretStore(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  // `chosen` (already validated: core/clone_password.h), or when "" a new random password
  // (192 bits, URL-safe). Not stored anywhere yet.
  static Result<std::string> NewPassword(const std::string& chosen = "");
  std::string PathOf(const std::string& clone) const { return dir_ + "/" + clone; }
  const std::string& dir() const { return dir_; }

  Status Store(const std::string& clone, const std::string& password);
  Status Stage(const std::string& clone, const std::string& password);
  Status Sync(const std::string& clone);
  Status StageNext(const std::string& clone, const std::string& password);
  Status SyncNext(const std::string& clone);
  Status CommitNext(const std::string& clone, const std::string& password);
  // Removes a staged password the server never took (a failed claim; recovery).
  void DropNext(const std::string& clone);

  // The clone's password: from memory, or read once from its file.
  Result<std::string> Password(const std::string& clone);
  // The file itself, not memory: what a server (re)start puts in force.
  Result<std::string> ReadFile(const std::string& clone);
  // The clone is gone: its file (a missing one is fine) and what memory holds of it.
  Status Forget(const std::string& clone);

  // The URI remembered for `clone` on `port` with `password` ("" = the URI without one).
  std::optional<std::string> CachedUri(const std::string& clone, int port,
                                       const std::string& password) const;
  void RememberUri(const std::string& clone, int port, const std::string& password,
                   const std::string& uri);

 private:
  std::string NextPathOf(const std::string& clone) const { return PathOf(clone) + ".next"; }
  void Remember(const std::string& clone, const std::string& password);

  Env& env_;
  const std::string dir_;
  struct Cached {
    std::string password;  // "" = not read yet
    // The URIs for one port: with the password (valid while it is `uri_password`) and without.
    int port = 0;
    std::string uri_password;
    std::string uri;
    std::string bare_uri;
  };
  mutable std::mutex mu_;
  std::map<std::string, Cached> cache_;  // by clone
};

}  // namespace zdap::origin
