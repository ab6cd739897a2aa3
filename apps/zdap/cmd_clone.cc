// zdap clone, destroy, reset, extend, protect, unprotect: clones without a compose project.
// A clone id is looked up on every configured origin (clone_lookup.h). clone and reset, which
// wait for a database server, show a spinner on a terminal (progress.h).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>

#include "core/names.h"
#include "core/time.h"
#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/progress.h"

namespace zdap::cli {
namespace json = boost::json;

namespace {

// 'text' for a POSIX shell, whatever text holds.
std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool IsMysqlLike(const CloneInfo& c) {
  return c.engine == "mariadb" || c.engine == "mysql";
}

// Lines a shell can eval: libpq's PG* variables, or the MYSQL_* ones the mysql and mariadb
// clients read (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD) plus user and database for scripts;
// DATABASE_URL in both.
std::string EnvLines(const CloneInfo& c) {
  std::vector<std::pair<std::string, std::string>> vars;
  std::string style;
  if (IsMysqlLike(c)) {
    style = "MYSQL_* variables (mysql/mariadb clients)";
    vars = {{"MYSQL_HOST", c.host},
            {"MYSQL_TCP_PORT", std::to_string(c.port)},
            {"MYSQL_USER", c.user},
            {"MYSQL_PWD", c.password},
            {"MYSQL_DATABASE", c.database}};
  } else {
    style = "PG* variables (libpq: psql, pg_dump, most drivers)";
    vars = {{"PGHOST", c.host},
            {"PGPORT", std::to_string(c.port)},
            {"PGUSER", c.user},
            {"PGPASSWORD", c.password},
            {"PGDATABASE", c.database}};
  }
  vars.emplace_back("DATABASE_URL", c.uri);
  std::string out = fmt::format("# clone {} of {}: {}; load with: eval \"$(zdap ... -o env)\"\n",
                                c.id, c.resource, style);
  for (const auto& [name, value] : vars)
    out += fmt::format("export {}={}\n", name, ShellQuote(value));
  return out;
}

// -o of clone: ParseOutputFormat's formats and env (which the caller handles).
Result<OutputFormat> ParseCloneFormat(const std::string& name) {
  auto format = ParseOutputFormat(name);
  if (format.ok() || name == "env") return format;
  return InvalidArgument(
      fmt::format("output format '{}' is not known; use table, json, yaml or env", name));
}

// The clone's connection info in the format asked for.
Status PrintClone(const CloneInfo& c, const std::string& format_name, const std::string& origin) {
  if (format_name == "env") {
    std::cout << EnvLines(c);
    return Status::Ok();
  }
  ZDAP_ASSIGN_OR_RETURN(OutputFormat format, ParseCloneFormat(format_name));
  json::object o = api::ToJson(c);
  if (c.origin.empty()) o["origin"] = origin;
  std::vector<std::vector<std::string>> rows = {
      {"clone", c.id},
      {"resource", c.resource},
      {"snapshot", c.snapshot},
      {"host", c.host},
      {"port", std::to_string(c.port)},
      {"database", c.database},
      {"user", c.user},
      {"password", c.password},
      {"uri", c.uri},
      {"expires",
       c.is_protected ? "never (protected)" : (c.expires_at.empty() ? "never" : c.expires_at)},
      {"origin", c.origin.empty() ? origin : c.origin},
  };
  std::string table = RenderTable({"FIELD", "VALUE"}, rows);
  table = table.substr(table.find('\n') + 1);  // key: value lines read better without a header
  return PrintListing(format, json::serialize(o), table);
}

// Runs `each` on every clone id (each on the origin that has it); reports a failing id on
// stderr and goes on. The result fails when any id failed.
Status ForEachClone(const std::vector<std::string>& ids,
                    const std::function<Status(const FoundClone&)>& each) {
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadConfigWithOrigins());
  Status result;
  for (const auto& id : ids) {
    auto found = FindClone(config, id);
    Status s = found.ok() ? each(*found) : found.status();
    if (!s.ok()) {
      if (ids.size() == 1) return s;
      std::cerr << "zdap: error: " << s.message() << "\n";
      result = Status(s.code(), "");  // reported already
    }
  }
  return result;
}

std::string Expiry(const CloneInfo& c) {
  if (c.is_protected) return "protected, never expires";
  return c.expires_at.empty() ? "never expires" : "expires " + c.expires_at;
}

Status SetProtected(const VerbArgs& a, bool on) {
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    api::UpdateCloneRequest patch;
    patch.is_protected = on;
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, f.api.PatchClone(f.clone.id, patch));
    std::cout << fmt::format("{} clone {} ({})\n", on ? "protected" : "unprotected", c.id,
                             Expiry(c));
    return Status::Ok();
  });
}

}  // namespace

Status CmdClone(const VerbArgs& a) {
  const std::string resource = a.positional[0];
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  std::string format = a.Get("output", "table");
  if (format != "env") ZDAP_RETURN_IF_ERROR(ParseCloneFormat(format).status());
  api::CreateCloneRequest request;
  if (a.Has("ttl")) {
    ZDAP_ASSIGN_OR_RETURN(request.ttl, ParseDuration(a.Get("ttl")));
  }
  if (a.Has("name")) ZDAP_RETURN_IF_ERROR(ValidateName("clone name", a.Get("name")));
  request.snapshot = a.Get("snapshot");
  request.name = a.Get("name");
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadConfigWithOrigins());
  ZDAP_ASSIGN_OR_RETURN(OriginApi api, ChooseOrigin(config, a.Get("origin"), resource));
  StatusLine status(true);
  status.Spin(fmt::format("creating a clone of {} on {}", resource, api.url().ToString()));
  auto clone = api.CreateClone(resource, request);
  status.Clear();
  if (!clone.ok()) return WithResourceHint(api, clone.status(), resource);
  return PrintClone(*clone, format, api.url().ToString());
}

Status CmdDestroy(const VerbArgs& a) {
  return ForEachClone(a.positional, [](const FoundClone& f) -> Status {
    ZDAP_RETURN_IF_ERROR(f.api.DeleteClone(f.clone.id));
    std::cout << fmt::format("destroyed clone {} on {}\n", f.clone.id, f.api.url().ToString());
    return Status::Ok();
  });
}

Status CmdReset(const VerbArgs& a) {
  if (a.Has("snapshot")) {
    SnapshotId id;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(a.Get("snapshot"), &id));
  }
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    auto reset = [&] {
      StatusLine status(true);
      status.Spin(fmt::format("resetting clone {} on {}", f.clone.id, f.api.url().ToString()));
      return f.api.ResetClone(f.clone.id, {a.Get("snapshot")});
    };
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, reset());
    std::cout << fmt::format("reset clone {} to {} ({}:{})\n", c.id, c.snapshot, c.host, c.port);
    return Status::Ok();
  });
}

Status CmdExtend(const VerbArgs& a) {
  api::UpdateCloneRequest patch;
  ZDAP_ASSIGN_OR_RETURN(patch.ttl, ParseDuration(a.Get("ttl")));
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, f.api.PatchClone(f.clone.id, patch));
    std::cout << fmt::format("extended clone {} ({})\n", c.id, Expiry(c));
    return Status::Ok();
  });
}

Status CmdProtect(const VerbArgs& a) {
  return SetProtected(a, true);
}
Status CmdUnprotect(const VerbArgs& a) {
  return SetProtected(a, false);
}

}  // namespace zdap::cli
