// zdap clone, destroy, reset, extend, protect, unprotect: clones without a compose project.
// A clone id is looked up on every configured origin (clone_lookup.h). clone and reset, which
// wait for a database server, show a spinner on a terminal (progress.h).
#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>

#include "core/names.h"
#include "core/time.h"
#include "zdap/args.h"
#include "zdap/clone_lookup.h"
#include "zdap/commands.h"
#include "zdap/output.h"
#include "zdap/placement.h"
#include "zdap/progress.h"

namespace zdap::cli {
namespace po = boost::program_options;
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

Status SetProtected(const Args& args, bool on) {
  std::string verb = on ? "protect" : "unprotect";
  VerbArgs a = ParseVerbArgs(args, verb, fmt::format("zdap {} ID...", verb),
                             on ? "Protects clones: a protected clone never expires."
                                : "Lets protected clones expire again (at their expires_at).",
                             {}, 1, -1);
  if (a.help) return Status::Ok();
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    OriginApi::ClonePatch patch;
    patch.is_protected = on;
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, f.api.PatchClone(f.clone.id, patch));
    std::cout << fmt::format("{} clone {} ({})\n", on ? "protected" : "unprotected", c.id,
                             Expiry(c));
    return Status::Ok();
  });
}

}  // namespace

Status CmdClone(const Args& args) {
  po::options_description opts;
  opts.add_options()("snapshot", po::value<std::string>(), "snapshot id (default: the newest)")(
      "ttl", po::value<std::string>(), "lifetime, e.g. 8h (default: the resource's)")(
      "name", po::value<std::string>(), "the clone's id (default: chosen by the origin)")(
      "origin", po::value<std::string>(), "origin URL (default: chosen by placement)")(
      "output,o", po::value<std::string>()->default_value("table"),
      "table, json, yaml, or env (shell variables to eval)");
  VerbArgs a = ParseVerbArgs(
      args, "clone",
      "zdap clone RESOURCE [--snapshot ID] [--ttl D] [--name N] [--origin URL] "
      "[-o table|json|yaml|env]",
      "Creates a clone of RESOURCE, without a compose project, and prints how to connect: host, "
      "port, user, password and URI. `-o env` prints PG*/MYSQL_* variables for `eval`.",
      opts, 1, 1);
  if (a.help) return Status::Ok();
  const std::string resource = a.positional[0];
  ZDAP_RETURN_IF_ERROR(ValidateName("resource", resource));
  std::string format = a.Get("output");
  if (format != "env") ZDAP_RETURN_IF_ERROR(ParseCloneFormat(format).status());
  if (a.Has("ttl")) ZDAP_RETURN_IF_ERROR(ParseDuration(a.Get("ttl")).status());
  if (a.Has("name")) ZDAP_RETURN_IF_ERROR(ValidateName("clone name", a.Get("name")));
  ZDAP_ASSIGN_OR_RETURN(UserConfig config, LoadConfigWithOrigins());
  ZDAP_ASSIGN_OR_RETURN(OriginApi api, ChooseOrigin(config, a.Get("origin"), resource));
  CreateCloneRequest request;
  request.resource = resource;
  request.snapshot = a.Get("snapshot");
  request.ttl = a.Get("ttl");
  request.name = a.Get("name");
  StatusLine status(true);
  status.Spin(fmt::format("creating a clone of {} on {}", resource, api.url().ToString()));
  auto clone = api.CreateClone(request);
  status.Clear();
  if (!clone.ok()) return WithResourceHint(api, clone.status(), resource);
  return PrintClone(*clone, format, api.url().ToString());
}

Status CmdDestroy(const Args& args) {
  VerbArgs a =
      ParseVerbArgs(args, "destroy", "zdap destroy ID...",
                    "Destroys clones: their server stops and their data is gone.", {}, 1, -1);
  if (a.help) return Status::Ok();
  return ForEachClone(a.positional, [](const FoundClone& f) -> Status {
    ZDAP_RETURN_IF_ERROR(f.api.DeleteClone(f.clone.id));
    std::cout << fmt::format("destroyed clone {} on {}\n", f.clone.id, f.api.url().ToString());
    return Status::Ok();
  });
}

Status CmdReset(const Args& args) {
  po::options_description opts;
  opts.add_options()("snapshot", po::value<std::string>(),
                     "snapshot to take the data from (default: the resource's newest)");
  VerbArgs a = ParseVerbArgs(args, "reset", "zdap reset ID [--snapshot ID]",
                             "Throws away a clone's changes: fresh data from a snapshot, with "
                             "the same id, port and password.",
                             opts, 1, 1);
  if (a.help) return Status::Ok();
  if (a.Has("snapshot")) {
    SnapshotId id;
    ZDAP_RETURN_IF_ERROR(ParseSnapshotId(a.Get("snapshot"), &id));
  }
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    auto reset = [&] {
      StatusLine status(true);
      status.Spin(fmt::format("resetting clone {} on {}", f.clone.id, f.api.url().ToString()));
      return f.api.ResetClone(f.clone.id, a.Get("snapshot"));
    };
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, reset());
    std::cout << fmt::format("reset clone {} to {} ({}:{})\n", c.id, c.snapshot, c.host, c.port);
    return Status::Ok();
  });
}

Status CmdExtend(const Args& args) {
  po::options_description opts;
  opts.add_options()("ttl", po::value<std::string>(), "new lifetime from now, e.g. 8h, 2d");
  VerbArgs a = ParseVerbArgs(args, "extend", "zdap extend ID --ttl D",
                             "Sets when a clone expires: D from now.", opts, 1, 1);
  if (a.help) return Status::Ok();
  if (!a.Has("ttl")) throw UsageError("--ttl is required; usage: zdap extend ID --ttl D", "extend");
  ZDAP_RETURN_IF_ERROR(ParseDuration(a.Get("ttl")).status());
  return ForEachClone(a.positional, [&](const FoundClone& f) -> Status {
    OriginApi::ClonePatch patch;
    patch.ttl = a.Get("ttl");
    ZDAP_ASSIGN_OR_RETURN(CloneInfo c, f.api.PatchClone(f.clone.id, patch));
    std::cout << fmt::format("extended clone {} ({})\n", c.id, Expiry(c));
    return Status::Ok();
  });
}

Status CmdProtect(const Args& args) {
  return SetProtected(args, true);
}
Status CmdUnprotect(const Args& args) {
  return SetProtected(args, false);
}

}  // namespace zdap::cli
