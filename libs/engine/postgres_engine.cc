#include "engine/postgres_engine.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "core/file_util.h"
#include "core/log.h"
#include "engine/postgres_wire.h"
#include "engine/probe_socket.h"

namespace zdap::engine {
namespace {

constexpr const char* kPgRoot = "/usr/lib/postgresql";

// The last lines of a client's output that say what went wrong, with "<stdin>" (psql reads
// the dump from its standard input) replaced by the dump's path.
std::string ClientErrorSummary(const std::string& output, const std::string& source) {
  std::string text = output;
  for (size_t pos; (pos = text.find("<stdin>")) != std::string::npos;) {
    text.replace(pos, 7, source);
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  std::string out;
  size_t first = lines.size() > 6 ? lines.size() - 6 : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i].substr(0, 500);
  }
  return out.empty() ? "no output" : out;
}

}  // namespace

std::string UriEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<std::string> PostgresEngine::BinDir(const std::string& version) {
  std::error_code ec;
  if (!version.empty()) {
    std::string dir = fmt::format("{}/{}/bin", kPgRoot, version);
    if (::access((dir + "/postgres").c_str(), X_OK) != 0) {
      return NotFound(
          fmt::format("PostgreSQL {} is not installed ({} missing): apt-get install "
                      "postgresql-{}",
                      version, dir + "/postgres", version));
    }
    return dir;
  }
  int best = 0;
  for (const auto& e : std::filesystem::directory_iterator(kPgRoot, ec)) {
    std::string v = e.path().filename().string();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::access((e.path().string() + "/bin/postgres").c_str(), X_OK) != 0) continue;
    best = std::max(best, std::stoi(v));
  }
  if (best == 0) {
    return NotFound(
        "no PostgreSQL server is installed under /usr/lib/postgresql: apt-get "
        "install postgresql-15");
  }
  return fmt::format("{}/{}/bin", kPgRoot, best);
}

Status PostgresEngine::InitDataDir(const config::Resource& resource, const std::string& data_dir,
                                   const std::string& scratch_dir, const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  // The password goes to initdb in a 0600 file owned by the server's user, never in argv.
  std::string pwfile = scratch_dir + "/initdb.pw";
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(pwfile, resource.password + "\n", 0600));
  if (::chown(pwfile.c_str(), run_as.uid, run_as.gid) != 0 && ::geteuid() == 0) {
    ::unlink(pwfile.c_str());
    return ErrnoError("chown " + pwfile, errno);
  }
  SpawnOptions o;
  o.argv = {bin + "/initdb",
            "-D",
            data_dir,
            "--username=" + resource.user,
            "--pwfile=" + pwfile,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync"};
  o.run_as = run_as;
  o.cwd = scratch_dir;
  o.die_with_parent = true;
  auto r = Run(o, std::chrono::minutes(5));
  ::unlink(pwfile.c_str());
  if (!r.ok()) return r.status().Wrap("initdb");
  if (!r->ok()) {
    return IoError(fmt::format("initdb {} {}: {}", data_dir, DescribeWaitStatus(r->wait_status),
                               ClientErrorSummary(r->output, "initdb")));
  }
  // Clones may be reached from other hosts (clone_bind); they still need the password.
  std::string hba = data_dir + "/pg_hba.conf";
  ZDAP_ASSIGN_OR_RETURN(std::string text, ReadFile(hba));
  text +=
      "\n# zdap: clients on any address, with the resource's password\n"
      "host all all all scram-sha-256\n";
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(hba, text, 0600));
  if (::chown(hba.c_str(), run_as.uid, run_as.gid) != 0 && ::geteuid() == 0) {
    return ErrnoError("chown " + hba, errno);
  }
  return Status::Ok();
}

Result<ServerSpec> PostgresEngine::ServerCommand(const config::Resource& resource,
                                                 const std::string& data_dir,
                                                 const std::string& run_dir,
                                                 const std::string& bind, int port) const {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  ServerSpec spec;
  spec.data_dir = data_dir;
  spec.log_path = run_dir + "/server.log";
  spec.stop_signal = SIGINT;  // "fast" shutdown: roll back open transactions, checkpoint, exit
  spec.pid_file = run_dir + "/postgres.pid";
  spec.stale_files = {data_dir + "/postmaster.pid"};
  spec.argv = {bin + "/postgres",
               "-D",
               data_dir,
               "-p",
               std::to_string(port),
               "-k",
               run_dir,
               "-c",
               "listen_addresses=" + bind,
               "-c",
               "logging_collector=off",
               "-c",
               "external_pid_file=" + spec.pid_file};
  // Development clones: small memory by default; the resource's settings win.
  std::map<std::string, std::string> settings = {{"shared_buffers", "32MB"},
                                                 {"max_connections", "50"}};
  for (const auto& [k, v] : resource.settings) settings[k] = v;
  for (const auto& [k, v] : settings) {
    spec.argv.push_back("-c");
    spec.argv.push_back(k + "=" + v);
  }
  return spec;
}

ProbeResult PostgresEngine::Probe(const Endpoint& endpoint, const config::Resource& resource,
                                  std::chrono::milliseconds timeout) const {
  std::string unix_path;
  if (endpoint.host.empty()) {
    unix_path = fmt::format("{}/.s.PGSQL.{}", endpoint.socket_dir, endpoint.port);
  }
  std::string startup = pgwire::StartupMessage(resource.user, resource.source.database);
  auto ex = Exchange(
      endpoint.host, endpoint.port, unix_path, startup,
      [](std::string_view got) {
        return pgwire::ParseStartupReply(got).kind != pgwire::ReplyKind::kIncomplete;
      },
      timeout);
  ProbeResult out;
  if (ex.transport == ProbeTransport::kRefused) {
    out.readiness = Readiness::kStarting;  // not listening yet
    out.detail = ex.error;
    return out;
  }
  if (ex.transport != ProbeTransport::kOk) {
    out.readiness = Readiness::kDown;
    out.detail = ex.error;
    return out;
  }
  auto reply = pgwire::ParseStartupReply(ex.received);
  switch (reply.kind) {
    case pgwire::ReplyKind::kAuthentication:
      out.readiness = Readiness::kReady;
      break;
    case pgwire::ReplyKind::kError:
      // 57P03 cannot_connect_now: starting up, shutting down or in recovery.
      out.readiness = reply.sqlstate == "57P03" ? Readiness::kStarting : Readiness::kReady;
      out.detail = reply.message;
      break;
    case pgwire::ReplyKind::kIncomplete:
      out.readiness = Readiness::kStarting;
      out.detail = "connection closed before a reply";
      break;
    case pgwire::ReplyKind::kMalformed:
      out.readiness = Readiness::kDown;
      out.detail = "the server's reply is not PostgreSQL's protocol";
      break;
  }
  return out;
}

Status PostgresEngine::Import(const config::Resource& resource, const Endpoint& endpoint,
                              const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(std::string bin, BinDir(resource.version));
  if (resource.source.dump.empty()) {
    return Unprocessable(
        fmt::format("resource '{}': only source.dump is supported by this "
                    "version of zdap",
                    resource.name));
  }
  auto run_psql = [&](const std::string& database, const std::string& file) -> Status {
    if (!PathExists(file)) return NotFound(fmt::format("{}: no such file", file));
    SpawnOptions o;
    // The file is opened by the daemon and given as standard input, so the unprivileged
    // server user needs no access to the config dir.
    o.argv = {bin + "/psql",
              "-X",
              "-q",
              "-v",
              "ON_ERROR_STOP=1",
              "-h",
              endpoint.socket_dir,
              "-p",
              std::to_string(endpoint.port),
              "-U",
              resource.user,
              "-d",
              database,
              "-f",
              "-"};
    o.stdin_path = file;
    o.run_as = run_as;
    o.cwd = endpoint.socket_dir;
    o.die_with_parent = true;
    auto r = Run(o, std::chrono::hours(12));
    if (!r.ok()) return r.status().Wrap("psql");
    if (!r->ok()) {
      return Unprocessable(
          fmt::format("import of {} failed: {}", file, ClientErrorSummary(r->output, file)));
    }
    return Status::Ok();
  };
  log::Info("postgres: importing {} into resource {}", resource.source.dump, resource.name);
  // The dump may CREATE DATABASE and \c into it; start in the maintenance database.
  ZDAP_RETURN_IF_ERROR(run_psql("postgres", resource.source.dump));
  for (const auto& after : resource.source.after) {
    log::Info("postgres: running {} on database {}", after, resource.source.database);
    ZDAP_RETURN_IF_ERROR(run_psql(resource.source.database, after));
  }
  return Status::Ok();
}

std::string PostgresEngine::ConnectionUri(const config::Resource& resource, const std::string& host,
                                          int port) const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("postgres://{}:{}@{}:{}/{}", UriEscape(resource.user),
                     UriEscape(resource.password), h, port, UriEscape(resource.source.database));
}

Result<std::unique_ptr<Engine>> MakeEngine(const std::string& name) {
  if (name == "postgres") return std::unique_ptr<Engine>(std::make_unique<PostgresEngine>());
  return Unprocessable(
      fmt::format("engine '{}' is not supported yet by this build of zdapd", name));
}

}  // namespace zdap::engine
