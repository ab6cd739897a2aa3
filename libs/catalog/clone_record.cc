#include "catalog/clone_record.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/names.h"

namespace json = boost::json;

namespace zdap::catalog {

const char* CloneStateName(CloneState s) {
  switch (s) {
    case CloneState::kCreating:
      return "creating";
    case CloneState::kReady:
      return "ready";
    case CloneState::kFailed:
      return "failed";
    case CloneState::kDeleting:
      return "deleting";
  }
  return "failed";
}

bool ParseCloneState(const std::string& s, CloneState* out) {
  for (CloneState c :
       {CloneState::kCreating, CloneState::kReady, CloneState::kFailed, CloneState::kDeleting}) {
    if (s == CloneStateName(c)) {
      *out = c;
      return true;
    }
  }
  return false;
}

namespace {

// The record as the catalog knows it.
json::object RecordFields(const CloneRecord& r) {
  json::object o;
  o["id"] = r.id;
  o["resource"] = r.resource;
  o["snapshot"] = r.snapshot;
  o["owner"] = r.owner;
  o["state"] = CloneStateName(r.state);
  o["port"] = r.port;
  o["created_at"] = FormatRfc3339(r.created_at);
  if (r.expires_at) {
    o["expires_at"] = FormatRfc3339(*r.expires_at);
  } else {
    o["expires_at"] = nullptr;
  }
  o["protected"] = r.is_protected;
  o["pooled"] = r.pooled;
  if (!r.error.empty()) o["error"] = r.error.substr(0, CloneRecord::kMaxErrorBytes);
  return o;
}

}  // namespace

std::string SerializeRecord(const CloneRecord& r) {
  json::object o = RecordFields(r);
  o["pid"] = r.pid;
  if (!r.container_id.empty()) o["container"] = r.container_id;
  if (!r.volume.empty()) o["volume"] = r.volume;
  return json::serialize(o) + "\n";
}

Result<CloneRecord> ParseRecord(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("clone record is not a JSON object");
  const json::object& o = v.as_object();
  auto str = [&](const char* k, std::string* out) -> Status {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_string()) {
      return InvalidArgument(fmt::format("clone record: '{}' missing or not a string", k));
    }
    *out = std::string(it->value().as_string());
    return Status::Ok();
  };
  auto integer = [&](const char* k, int64_t* out) -> Status {
    auto it = o.find(k);
    if (it == o.end() || !it->value().is_int64()) {
      return InvalidArgument(fmt::format("clone record: '{}' missing or not a number", k));
    }
    *out = it->value().as_int64();
    return Status::Ok();
  };
  CloneRecord r;
  std::string state, created, expires;
  ZDAP_RETURN_IF_ERROR(str("id", &r.id));
  ZDAP_RETURN_IF_ERROR(ValidateName("clone", r.id));
  ZDAP_RETURN_IF_ERROR(str("resource", &r.resource));
  ZDAP_RETURN_IF_ERROR(str("snapshot", &r.snapshot));
  ZDAP_RETURN_IF_ERROR(str("owner", &r.owner));
  ZDAP_RETURN_IF_ERROR(str("state", &state));
  if (!ParseCloneState(state, &r.state)) return InvalidArgument("clone record: bad state");
  int64_t port = 0, pid = -1;
  ZDAP_RETURN_IF_ERROR(integer("port", &port));
  ZDAP_RETURN_IF_ERROR(integer("pid", &pid));
  // Absent in records written before the docker runtime existed.
  if (auto it = o.find("container"); it != o.end() && it->value().is_string()) {
    r.container_id = std::string(it->value().as_string());
  }
  // Absent until the clone's first reset.
  if (auto it = o.find("volume"); it != o.end() && it->value().is_string()) {
    r.volume = std::string(it->value().as_string());
    // <id>.<generation>: a path component that cannot name another clone's volume.
    std::string_view gen =
        std::string_view(r.volume).substr(std::min(r.volume.size(), r.id.size() + 1));
    if (r.volume.compare(0, r.id.size() + 1, r.id + ".") != 0 || gen.empty() || gen.size() > 16 ||
        gen.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
      return InvalidArgument("clone record: bad volume");
    }
  }
  if (port < 0 || port > 65535) return InvalidArgument("clone record: bad port");
  r.port = static_cast<int>(port);
  r.pid = static_cast<pid_t>(pid);
  ZDAP_RETURN_IF_ERROR(str("created_at", &created));
  ZDAP_ASSIGN_OR_RETURN(r.created_at, ParseRfc3339(created));
  if (auto it = o.find("expires_at"); it != o.end() && it->value().is_string()) {
    ZDAP_ASSIGN_OR_RETURN(r.expires_at, ParseRfc3339(std::string(it->value().as_string())));
  }
  if (auto it = o.find("protected"); it != o.end() && it->value().is_bool()) {
    r.is_protected = it->value().as_bool();
  }
  if (auto it = o.find("pooled"); it != o.end() && it->value().is_bool()) {
    r.pooled = it->value().as_bool();
  }
  // Absent unless the clone failed.
  if (auto it = o.find("error"); it != o.end() && it->value().is_string()) {
    r.error = std::string(it->value().as_string()).substr(0, CloneRecord::kMaxErrorBytes);
  }
  return r;
}

}  // namespace zdap::catalog
