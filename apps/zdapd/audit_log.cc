#include "audit_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <cerrno>

#include "api/json_reader.h"
#include "core/file_util.h"
#include "core/log.h"

namespace json = boost::json;

namespace zdap::daemon {
namespace {

constexpr size_t kMaxErrorChars = 300;
constexpr size_t kMaxLineBytes = 16u << 10;  // a record is well under this; longer lines are junk

struct Action {
  std::string_view method, pattern, name;
};
// Every mutating route of the API, named. tests/api checks that no mutating route is missing.
constexpr std::array kActions = {
    Action{"POST", "/v1/resources/{resource}/clones", "clone.create"},
    Action{"POST", "/v1/resources/{resource}/claim", "clone.claim"},
    Action{"PATCH", "/v1/clones/{id}", "clone.update"},
    Action{"POST", "/v1/clones/{id}/reset", "clone.reset"},
    Action{"POST", "/v1/clones/{id}/snapshot", "clone.branch"},
    Action{"DELETE", "/v1/clones/{id}", "clone.destroy"},
    Action{"POST", "/v1/resources/{resource}/snapshots", "refresh.start"},
    Action{"DELETE", "/v1/resources/{resource}/snapshots/{id}", "snapshot.delete"},
    Action{"POST", "/v1/tokens", "token.add"},
    Action{"DELETE", "/v1/tokens/{user}", "token.remove"},
    Action{"POST", "/ui/session", "session.sign_in"},
    Action{"DELETE", "/ui/session", "session.sign_out"},
};

std::string Cut(std::string_view s, size_t n) {
  return std::string(s.substr(0, n));
}

}  // namespace

std::string_view AuditActionFor(std::string_view method, std::string_view pattern) {
  for (const Action& a : kActions) {
    if (a.method == method && a.pattern == pattern) return a.name;
  }
  return "";
}

std::string AuditRecordJson(const AuditRecord& r) {
  json::object o;
  o["time"] = FormatRfc3339Millis(r.time);
  o["user"] = r.user.empty() ? json::value(nullptr) : json::value(r.user);
  o["role"] = r.role.empty() ? json::value(nullptr) : json::value(r.role);
  o["via"] = r.via.empty() ? json::value(nullptr) : json::value(r.via);
  o["from"] = r.from;
  o["action"] = r.action;
  o["method"] = Cut(r.method, 16);
  o["path"] = Cut(r.path, 200);
  o["target"] = r.target.empty() ? json::value(nullptr) : json::value(Cut(r.target, 200));
  o["status"] = r.status;
  o["result"] = r.result;
  if (!r.error.empty()) o["error"] = Cut(r.error, kMaxErrorChars);
  return json::serialize(o);
}

Result<AuditRecord> ParseAuditRecord(std::string_view line) {
  ZDAP_ASSIGN_OR_RETURN(json::value v, api::ParseJson(line, "audit record"));
  AuditRecord r;
  std::string time;
  api::ObjectReader rd(v, "audit record", Code::kUnprocessable);
  rd.Time("time", &time, true);
  rd.String("user", &r.user);
  rd.String("role", &r.role);
  rd.String("via", &r.via);
  rd.String("from", &r.from);
  rd.String("action", &r.action, true);
  rd.String("method", &r.method);
  rd.String("path", &r.path);
  rd.String("target", &r.target);
  int64_t status = 0;
  rd.Int("status", &status, false, 0, 999);
  rd.String("result", &r.result);
  rd.String("error", &r.error);
  if (!rd.status().ok()) return rd.status();
  r.status = static_cast<int>(status);
  ZDAP_ASSIGN_OR_RETURN(r.time, ParseRfc3339(time));
  return r;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& dir, AuditOptions options) {
  if (options.max_bytes < 1024) options.max_bytes = 1024;
  if (options.keep < 1) options.keep = 1;
  ZDAP_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoError("chmod " + dir, errno);
  std::unique_ptr<AuditLog> log(new AuditLog(dir, options));
  log->path_ = dir + "/audit.log";
  std::lock_guard lock(log->mu_);
  ZDAP_RETURN_IF_ERROR(log->OpenFile());
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::OpenFile() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoError("open " + path_, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError("stat " + path_, err);
  }
  if ((st.st_mode & 077) != 0) (void)::fchmod(fd, 0600);  // an older file made by hand
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status AuditLog::Rotate() {
  // audit.log.(keep) goes; .N -> .N+1; audit.log -> .1; a new audit.log.
  std::string oldest = fmt::format("{}.{}", path_, options_.keep);
  ::unlink(oldest.c_str());
  for (int i = options_.keep - 1; i >= 1; --i) {
    std::string from = fmt::format("{}.{}", path_, i);
    std::string to = fmt::format("{}.{}", path_, i + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("rename " + from, errno);
    }
  }
  std::string first = path_ + ".1";
  if (::rename(path_.c_str(), first.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("rename " + path_, errno);
  }
  return OpenFile();
}

Status AuditLog::Append(const AuditRecord& record) {
  std::string line = AuditRecordJson(record);
  line += '\n';
  std::lock_guard lock(mu_);
  Status st;
  if (size_ >= options_.max_bytes) st = Rotate();
  if (st.ok()) {
    ssize_t n = ::write(fd_, line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) {
      size_ += line.size();
      warned_ = false;
      return Status::Ok();
    }
    st =
        n < 0
            ? ErrnoError("write " + path_, errno)
            : IoError(fmt::format("write {}: short write ({} of {} bytes)", path_, n, line.size()));
  }
  if (!warned_) {
    log::Error("audit log: {} (records are lost until it works again)", st.message());
    warned_ = true;
  }
  return st;
}

Result<std::vector<AuditRecord>> AuditLog::Read(size_t limit, std::string_view user,
                                                std::string_view action) const {
  std::vector<AuditRecord> out;
  std::lock_guard lock(mu_);  // no rotation while the files are read
  for (int i = 0; i <= options_.keep && out.size() < limit; ++i) {
    std::string file = i == 0 ? path_ : fmt::format("{}.{}", path_, i);
    auto text = ReadFile(file, options_.max_bytes + (64u << 10));
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound) continue;
      if (::access(file.c_str(), F_OK) != 0) continue;
      return text.status();
    }
    // Lines from the end backwards.
    size_t end = text->size();
    while (end > 0 && out.size() < limit) {
      size_t start = text->rfind('\n', end - 1);
      start = start == std::string::npos ? 0 : start + 1;
      std::string_view line(text->data() + start, end - start);
      end = start == 0 ? 0 : start - 1;
      if (line.empty() || line.size() > kMaxLineBytes) continue;
      auto rec = ParseAuditRecord(line);
      if (!rec.ok()) continue;
      if (!user.empty() && rec->user != user) continue;
      if (!action.empty() && rec->action != action) continue;
      out.push_back(std::move(rec).value());
    }
  }
  return out;
}

}  // namespace zdap::daemon
