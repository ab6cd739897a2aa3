// AuditLog: who changed what on this origin (issue 24). Every mutating API call and every
// refused authentication is one JSON line, appended to <data_dir>/audit/audit.log (0600 in a
// 0700 directory):
//
//   {"time":"2026-12-06T20:30:00.123Z","user":"alice","role":"user","via":"token",
//    "from":"127.0.0.1","action":"clone.reset","method":"POST","path":"/v1/clones/{id}/reset",
//    "target":"chinook-7f3a","status":200,"result":"ok"}
//
// What is recorded is fixed by the route, never copied from the request: the route's pattern
// and captures (names of resources, clones, snapshots, users), the caller, the peer address,
// the HTTP status and, for a failure, the error's code and message. Request bodies, headers,
// cookies and answers are never written, so no password or token can reach the file (the
// answer's clone id is taken by name from a create's reply; nothing else of it).
//
// The file is rotated by size: at `max_bytes` it becomes audit.log.1 (.1 -> .2, ...), and the
// oldest beyond `keep` goes. Lines are written with one write(2) each under a lock, so a line
// is never torn by another. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace zdap::daemon {

struct AuditRecord {
  SystemTime time{};
  std::string user;    // "" when authentication failed
  std::string role;    // admin | user | "" (failed)
  std::string via;     // token | session | open (no tokens file) | "" (failed)
  std::string from;    // the peer's address
  std::string action;  // clone.create, clone.reset, auth.failed, ... (AuditActionFor)
  std::string method;
  std::string path;    // the route's pattern, or the request's path cut to 200 bytes if none
  std::string target;  // what it acted on: a clone, a resource, a snapshot, a user
  int status = 0;      // the HTTP status answered
  std::string result;  // "ok", or the error's code (not_found, permission_denied, ...)
  std::string error;   // the error's message, cut to 300 bytes; "" when ok
};

// The action name for a mutating route: "clone.create" for POST /v1/resources/{resource}/clones,
// ... ; "" if the route is not one this file knows (then "<METHOD> <pattern>" is recorded).
std::string_view AuditActionFor(std::string_view method, std::string_view pattern);

std::string AuditRecordJson(const AuditRecord& record);
Result<AuditRecord> ParseAuditRecord(std::string_view line);

struct AuditOptions {
  uint64_t max_bytes = 10u << 20;  // per file
  int keep = 5;                    // rotated files kept (audit.log.1 .. .keep)
};

class AuditLog {
 public:
  // Creates `dir` (0700) if needed and opens <dir>/audit.log for appending (0600).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& dir, AuditOptions options = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line; rotates first when the file has reached max_bytes. A failure is logged
  // once per kind and returned; the API answers regardless.
  Status Append(const AuditRecord& record);

  // The newest records first (current file, then audit.log.1, ...), at most `limit`, those
  // matching `user` and `action` when given. Lines that do not parse are skipped.
  Result<std::vector<AuditRecord>> Read(size_t limit, std::string_view user = "",
                                        std::string_view action = "") const;

  const std::string& path() const { return path_; }

 private:
  AuditLog(std::string dir, AuditOptions options) : dir_(std::move(dir)), options_(options) {}
  Status OpenFile();
  Status Rotate();

  std::string dir_;
  std::string path_;
  AuditOptions options_;
  mutable std::mutex mu_;
  int fd_ = -1;        // guarded by mu_
  uint64_t size_ = 0;  // guarded by mu_
  bool warned_ = false;
};

}  // namespace zdap::daemon
