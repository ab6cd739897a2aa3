#include "engine/mariadb_engine.h"

#include <fmt/format.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <optional>

#include "core/file_util.h"
#include "core/log.h"
#include "engine/dump_source.h"
#include "engine/live_source.h"
#include "engine/postgres_engine.h"
#include "engine/probe_socket.h"
#include "wire/health_probe.h"
#include "wire/mysql_wire.h"

namespace zdap::engine {
namespace {

namespace mysqlwire = wire::mysql;

// MariaDB's error codes that a readiness probe tells apart.
constexpr uint16_t kErrTooManyConnections = 1040;
constexpr uint16_t kErrAccessDenied = 1045;
constexpr uint16_t kErrUnknownDatabase = 1049;
constexpr uint16_t kErrServerShutdown = 1053;
constexpr uint16_t kErrAccessDeniedNoPassword = 1698;

struct Tools {
  std::string server;   // mariadbd
  std::string install;  // mariadb-install-db
  std::string client;   // mariadb
};

Result<std::string> FindProgram(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
      std::string p = fmt::format("{}/{}", dir, name);
      if (::access(p.c_str(), X_OK) == 0) return p;
    }
  }
  return NotFound(fmt::format(
      "MariaDB is not installed ({} not found in /usr/sbin, /usr/bin, /usr/local): apt-get "
      "install mariadb-server mariadb-client",
      names.front()));
}

Result<Tools> FindTools() {
  Tools t;
  ZDAP_ASSIGN_OR_RETURN(t.server, FindProgram({"mariadbd", "mysqld"}));
  ZDAP_ASSIGN_OR_RETURN(t.install, FindProgram({"mariadb-install-db", "mysql_install_db"}));
  ZDAP_ASSIGN_OR_RETURN(t.client, FindProgram({"mariadb", "mysql"}));
  return t;
}

// source.url: mariadb-dump of the live server, streamed into the import like a source.command
// (one consistent snapshot: --single-transaction). Its password goes in an option file in
// `scratch_dir` that `*options` removes once the import is over.
Result<config::Resource> LiveDumpSource(const config::Resource& resource,
                                        const std::string& scratch_dir,
                                        std::optional<TransientSecretFile>* options) {
  const config::SourceUrl& url = resource.source.live;
  ZDAP_ASSIGN_OR_RETURN(std::string dump, FindProgram({"mariadb-dump", "mysqldump"}));
  ZDAP_ASSIGN_OR_RETURN(std::string password, ReadSourcePassword(resource.source));
  std::vector<std::string> argv = {dump};
  if (password.empty()) {
    argv.push_back("--no-defaults");
  } else {
    // --defaults-file must come first; it is the only option file read.
    ZDAP_ASSIGN_OR_RETURN(*options, TransientSecretFile::Write(scratch_dir + "/live.cnf",
                                                               MariadbPasswordOptions(password)));
    argv.push_back("--defaults-file=" + (*options)->path());
  }
  for (const std::string& arg :
       {std::string("--single-transaction"), std::string("--routines"), std::string("--triggers"),
        std::string("--events"), std::string("--default-character-set=utf8mb4"),
        std::string("--protocol=TCP"), "--host=" + url.host,
        "--port=" + std::to_string(url.port)}) {
    argv.push_back(arg);
  }
  if (!url.user.empty()) argv.push_back("--user=" + url.user);
  argv.push_back(url.database);
  config::Resource out = resource;
  out.source.url.clear();
  out.source.command = std::move(argv);
  return out;
}

// A string literal for MariaDB's default sql_mode (backslash escapes on).
std::string SqlString(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    if (c == '\0') {
      out += "\\0";
      continue;
    }
    out.push_back(c);
  }
  return out + "'";
}

std::string UserName(const RunAs& run_as) {
  if (!run_as.name.empty()) return run_as.name;
  if (const passwd* pw = ::getpwuid(run_as.uid); pw != nullptr) return pw->pw_name;
  return std::to_string(run_as.uid);
}

ProbeResult Classify(const mysqlwire::ServerError& e, const std::string& user) {
  ProbeResult out;
  out.detail = fmt::format("ERROR {} ({}): {}", e.code, e.sqlstate, e.message);
  switch (e.code) {
    case kErrUnknownDatabase:     // logins work; whether the database exists is the import's job
    case kErrTooManyConnections:  // up, and busy
      out.readiness = Readiness::kReady;
      break;
    case kErrServerShutdown:
      out.readiness = Readiness::kStarting;
      break;
    case kErrAccessDenied:
    case kErrAccessDeniedNoPassword:
      out.readiness = Readiness::kDown;
      out.detail = fmt::format("login as '{}' refused: {}", user, out.detail);
      break;
    default:
      out.readiness = Readiness::kDown;
  }
  return out;
}

}  // namespace

std::string MariadbEngine::SocketPath(const std::string& run_dir) {
  return run_dir + "/mysqld.sock";
}

Result<std::string> MariadbEngine::ClientProgram() {
  return FindProgram({"mariadb", "mysql"});
}

std::string MariadbEngine::SqlLiteral(const std::string& s) {
  return SqlString(s);
}

Status MariadbEngine::InitDataDir(const config::Resource& resource, const std::string& data_dir,
                                  const std::string& scratch_dir, const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(Tools tools, FindTools());
  std::string os_user = UserName(run_as);
  // root@localhost and <os_user>@localhost log in through the unix socket by OS identity;
  // the socket lives in the private run dir. Nobody gets in over TCP without a password.
  SpawnOptions o;
  o.argv = {tools.install, "--no-defaults", "--datadir=" + data_dir, "--user=" + os_user,
            "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve",
            // Its own temp dir, not the machine's /tmp, which others clean up (a bootstrap
            // failed on a vanished /tmp/#sql-temptable-*.MAI) and which other servers share.
            "--tmpdir=" + scratch_dir};
  o.run_as = run_as;
  o.cwd = scratch_dir;
  ZDAP_RETURN_IF_ERROR(RunSetupStep(o, std::chrono::minutes(5), "mariadb-install-db",
                                    "mariadb-install-db " + data_dir));
  // The resource's account, for TCP ('%') and the socket ('localhost'). The statements carry
  // the password, so they go to a bootstrap server on its standard input from a 0600 file
  // that the daemon opens and deletes; an existing socket login (root) is kept as a fallback.
  std::string u = SqlString(resource.user);
  std::string pw = SqlString(resource.password);
  bool had_socket_login = resource.user == "root" || resource.user == os_user;
  std::string sql = "FLUSH PRIVILEGES;\n";
  for (const char* host : {"localhost", "%"}) {
    std::string account = fmt::format("{}@'{}'", u, host);
    sql += fmt::format("CREATE USER IF NOT EXISTS {};\n", account);
    sql += fmt::format(
        "ALTER USER {} IDENTIFIED VIA mysql_native_password USING PASSWORD({}){};\n", account, pw,
        had_socket_login && std::string(host) == "localhost" ? " OR unix_socket" : "");
    sql += fmt::format("GRANT ALL PRIVILEGES ON *.* TO {} WITH GRANT OPTION;\n", account);
  }
  // zdap-proxyd's `--check mysql` logs in as this account without a password; MariaDB logs a
  // warning for a refused login and for a client that leaves before logging in, so without it
  // every check would leave a line in the clone's log. No privileges (USAGE only: it sees no
  // table), and a few connections at most.
  sql += fmt::format("CREATE USER IF NOT EXISTS {}@'%' WITH MAX_USER_CONNECTIONS 4;\n",
                     SqlString(std::string(wire::kHealthCheckUser)));
  std::string sql_file = scratch_dir + "/init-credentials.sql";
  ZDAP_RETURN_IF_ERROR(WriteFileAtomic(sql_file, sql, 0600));
  SpawnOptions b;
  b.argv = {tools.server,
            "--no-defaults",
            "--bootstrap",
            "--datadir",
            data_dir,
            "--innodb-use-native-aio=0",
            "--innodb-doublewrite=0",
            "--skip-networking",
            "--tmpdir=" + scratch_dir};
  b.run_as = run_as;
  b.cwd = scratch_dir;
  b.stdin_path = sql_file;
  Status set_up =
      RunSetupStep(b, std::chrono::minutes(5), "mariadbd --bootstrap",
                   fmt::format("setting up the account '{}' in {}", resource.user, data_dir));
  ::unlink(sql_file.c_str());
  return set_up;
}

Result<ServerSpec> MariadbEngine::ServerCommand(const config::Resource& resource,
                                                const std::string& data_dir,
                                                const std::string& run_dir, const std::string& bind,
                                                int port) const {
  ZDAP_ASSIGN_OR_RETURN(Tools tools, FindTools());
  ServerSpec spec;
  spec.data_dir = data_dir;
  spec.log_path = run_dir + "/server.log";  // mariadbd logs to stderr without --log-error
  spec.stop_signal = SIGTERM;               // clean shutdown
  spec.pid_file = run_dir + "/mariadbd.pid";
  std::string socket = SocketPath(run_dir);
  spec.stale_files = {socket, socket + ".lock"};
  // "--datadir" and the path as separate arguments: a restarted daemon recognises its server
  // by the data dir being one whole argument in /proc/PID/cmdline.
  spec.argv = {tools.server,
               "--no-defaults",
               "--datadir",
               data_dir,
               "--socket",
               socket,
               "--pid-file",
               spec.pid_file,
               "--port",
               std::to_string(port),
               "--tmpdir=" + run_dir};  // private, as the socket: not the shared /tmp
  if (bind.empty()) {
    spec.argv.push_back("--skip-networking");
  } else {
    spec.argv.push_back("--bind-address=" + bind);
  }
  // Development clones on copy-on-write storage: no native AIO (io_uring/libaio are often
  // unavailable or slow on CoW file systems and in containers), no doublewrite buffer (CoW
  // already writes whole new blocks), a small buffer pool, no warm-up dump/load, no reverse
  // DNS. The resource's settings win.
  std::map<std::string, std::string> settings = {
      {"innodb_use_native_aio", "0"},
      {"innodb_doublewrite", "0"},
      {"innodb_buffer_pool_size", "32M"},
      {"innodb_buffer_pool_dump_at_shutdown", "0"},
      {"innodb_buffer_pool_load_at_startup", "0"},
      {"skip_name_resolve", "1"},
      {"max_connections", "100"},
  };
  for (const auto& [k, v] : resource.settings) settings[k] = v;
  for (const auto& [k, v] : settings) spec.argv.push_back(fmt::format("--{}={}", k, v));
  return spec;
}

Status MariadbEngine::PrepareClone(const config::Resource& resource, const std::string& password,
                                   const std::string& run_dir, const std::optional<RunAs>& run_as,
                                   CloneLock /*lock*/, ServerSpec* spec) const {
  // The server runs this file before it accepts connections: TCP logins (the '%' account)
  // take the clone's password from the first one on. The socket account ('localhost') is
  // reachable only through the private run dir.
  std::string file = run_dir + "/clone-init.sql";
  std::string sql =
      fmt::format("ALTER USER {}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n",
                  SqlString(resource.user), SqlString(password));
  // Made again for every start and removed once the server is ready: no fsync needed.
  std::optional<FileOwner> owner;
  if (run_as) owner = FileOwner{run_as->uid, run_as->gid};
  ZDAP_RETURN_IF_ERROR(ReplaceFile(file, sql, 0600, owner));
  spec->argv.push_back("--init-file=" + file);
  spec->secret_files.push_back(file);
  return Status::Ok();
}

ProbeResult MariadbEngine::Probe(const Endpoint& endpoint, const config::Resource& resource,
                                 std::chrono::milliseconds timeout) const {
  ProbeResult out;
  std::string unix_path = endpoint.host.empty() ? SocketPath(endpoint.socket_dir) : "";
  ProbeConnection conn(endpoint.host, endpoint.port, unix_path, env().MonotonicNow() + timeout);
  auto transport_failure = [&]() {
    out.readiness =
        conn.transport() == ProbeTransport::kRefused ? Readiness::kStarting : Readiness::kDown;
    out.detail = conn.error();
    return out;
  };
  if (!conn.Receive([](std::string_view b) {
        return mysqlwire::ParseGreeting(b).kind != mysqlwire::Parse::kIncomplete;
      })) {
    return transport_failure();
  }
  auto greeting = mysqlwire::ParseGreeting(conn.received());
  switch (greeting.kind) {
    case mysqlwire::Parse::kIncomplete:
      out.readiness = Readiness::kStarting;
      out.detail = "connection closed before the server's greeting";
      return out;
    case mysqlwire::Parse::kMalformed:
      out.readiness = Readiness::kDown;
      out.detail = "the server's greeting is not MySQL's protocol (v10, 4.1 authentication)";
      return out;
    case mysqlwire::Parse::kError:
      return Classify(greeting.error, resource.user);
    case mysqlwire::Parse::kOk:
      break;
  }
  auto read_reply = [&]() -> std::optional<mysqlwire::AuthReply> {
    if (!conn.Receive([](std::string_view b) {
          return mysqlwire::ParseAuthReply(b).kind != mysqlwire::Parse::kIncomplete;
        })) {
      return std::nullopt;
    }
    return mysqlwire::ParseAuthReply(conn.received());
  };
  if (!conn.Send(mysqlwire::HandshakeResponse(greeting.greeting, resource.user, resource.password,
                                              resource.source.database))) {
    return transport_failure();
  }
  auto reply = read_reply();
  if (!reply) return transport_failure();
  if (reply->kind == mysqlwire::Parse::kOk && reply->auth_switch) {
    std::string answer = mysqlwire::AuthSwitchResponse(*reply, resource.password);
    if (answer.empty()) {
      out.readiness = Readiness::kDown;
      out.detail = fmt::format(
          "the server wants authentication plugin '{}' for '{}'; zdap logs in with "
          "mysql_native_password",
          reply->plugin, resource.user);
      return out;
    }
    if (!conn.Send(answer)) return transport_failure();
    reply = read_reply();
    if (!reply) return transport_failure();
    if (reply->auth_switch) reply->kind = mysqlwire::Parse::kMalformed;
  }
  switch (reply->kind) {
    case mysqlwire::Parse::kOk:
      out.readiness = Readiness::kReady;
      return out;
    case mysqlwire::Parse::kError:
      return Classify(reply->error, resource.user);
    case mysqlwire::Parse::kIncomplete:
      out.readiness = Readiness::kStarting;
      out.detail = "connection closed during the login";
      return out;
    case mysqlwire::Parse::kMalformed:
      break;
  }
  out.readiness = Readiness::kDown;
  out.detail = "the server's answer to the login is not MySQL's protocol";
  return out;
}

Status MariadbEngine::Import(const config::Resource& resource, const Endpoint& endpoint,
                             const RunAs& run_as) {
  ZDAP_ASSIGN_OR_RETURN(Tools tools, FindTools());
  auto client = [&](const std::string& database) {
    SpawnOptions o;
    o.argv = {tools.client, "--no-defaults", "--socket=" + SocketPath(endpoint.socket_dir),
              "--user=" + resource.user, "--default-character-set=utf8mb4"};
    if (!database.empty()) o.argv.push_back("--database=" + database);
    o.env = {"MYSQL_PWD=" + resource.password};  // never in argv (ps shows argv to everyone)
    o.run_as = run_as;
    o.cwd = endpoint.socket_dir;
    return o;
  };
  // Dumps of one database (mysqldump without --databases) name none: load into the
  // resource's database, made here if the dump does not make it.
  SpawnOptions create = client("");
  create.argv.push_back(
      fmt::format("--execute=CREATE DATABASE IF NOT EXISTS `{}`", resource.source.database));
  ZDAP_RETURN_IF_ERROR(RunSetupStep(create, std::chrono::minutes(1), "mariadb",
                                    "creating database " + resource.source.database));
  std::optional<TransientSecretFile> live_options;  // removed once the import is over
  config::Resource from = resource;
  if (!resource.source.url.empty()) {
    log::Info("{}: dumping {} for resource {}", name_, resource.source.live.ToString(),
              resource.name);
    ZDAP_ASSIGN_OR_RETURN(from, LiveDumpSource(resource, endpoint.socket_dir, &live_options));
  }
  ZDAP_ASSIGN_OR_RETURN(DumpInput input, DumpInput::Open(from, endpoint.socket_dir, env()));
  if (input.format() == DumpFormat::kPgCustom || input.format() == DumpFormat::kPgDirectory) {
    return Unprocessable(
        fmt::format("{} is a {} dump; the {} engine loads SQL dumps (.sql, "
                    ".sql.gz, .sql.zst)",
                    input.label(), DumpFormatName(input.format()), name_));
  }
  log::Info("{}: importing {} into resource {}", name_, input.label(), resource.name);
  ZDAP_RETURN_IF_ERROR(RunImportClient(&input, client(resource.source.database), "mariadb"));
  for (const auto& after : resource.source.after) {
    log::Info("{}: running {} on database {}", name_, after, resource.source.database);
    config::Resource one;
    one.name = resource.name;
    one.source.dump = after;
    ZDAP_ASSIGN_OR_RETURN(DumpInput in, DumpInput::Open(one, endpoint.socket_dir, env()));
    ZDAP_RETURN_IF_ERROR(RunImportClient(&in, client(resource.source.database), "mariadb"));
  }
  return Status::Ok();
}

std::string MariadbEngine::ConnectionUri(const config::Resource& resource, const std::string& host,
                                         int port) const {
  return FormatConnectionUri("mysql", resource, host, port);
}

}  // namespace zdap::engine
