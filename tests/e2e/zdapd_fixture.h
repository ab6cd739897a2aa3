// A real zdapd for end-to-end tests: a config dir with the Chinook resource, a data dir, a
// refresh through the host command, and `zdapd serve` as a child process on a free port.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "support/test_env.h"
#include "support/test_ports.h"

namespace zdap::test {

// A port reserved for this process (see support/test_ports.h).
int FreeTcpPort();

class ZdapdFixture {
 public:
  // `data_dir` "" = a fresh temp dir; `resource_yaml` "" = the Chinook resource;
  // `clone_ports` clone ports reserved (1..kMaxClonePorts).
  explicit ZdapdFixture(std::string data_dir = "", std::string resource_yaml = "",
                        int clone_ports = kDefaultClonePorts);
  static constexpr int kDefaultClonePorts = 20;
  static constexpr int kMaxClonePorts = 2 * kPortBlockSize - 1;
  ~ZdapdFixture();

  // zdapd <args> with this fixture's --config-dir/--data-dir/ports; returns exit status.
  int Host(const std::string& args, std::string* output = nullptr) const;
  void Start();  // serve; waits until /v1/health answers (bounded)
  // Signals the serving daemon and reaps it. The processes it started (clone servers, which
  // outlive it by design) are remembered first, for the destructor to stop.
  void Kill(int sig);
  // The daemon is always reached on 127.0.0.1, whatever address it listens on.
  // The API on the listen host (127.0.0.1 when that is 0.0.0.0).
  std::string Url() const {
    return scheme_ + "://" + (listen_host_ == "0.0.0.0" ? "127.0.0.1" : listen_host_) + ":" +
           std::to_string(api_port_);
  }
  // Serve (and run host commands) with `listen: HOST:port`, e.g. "0.0.0.0" (needs tokens), or
  // 127.0.0.2 for a second origin on this machine.
  void SetListenHost(std::string host) { listen_host_ = std::move(host); }
  int api_port() const { return api_port_; }
  pid_t pid() const { return pid_; }
  // Extra `zdapd serve` arguments (e.g. --config FILE that sets tls), and how Start() and
  // Call() reach it: scheme "https" with curl options such as "--cacert ca.pem".
  void SetServeOptions(std::vector<std::string> args, std::string scheme = "http",
                       std::string curl_options = "") {
    serve_args_ = std::move(args);
    scheme_ = std::move(scheme);
    curl_options_ = std::move(curl_options);
  }
  // Token mode: a tokens file with one token per user (made with `zdapd token add`), used by
  // serve and the host commands; Call() then sends the user's Bearer token instead of
  // X-Zdap-User. Needed for a non-loopback clone_bind. Call before Start(). `admins` get
  // tokens with the admin role, `replicators` with the replicator role (follower origins).
  void UseTokens(const std::vector<std::string>& users, const std::vector<std::string>& admins = {},
                 const std::vector<std::string>& replicators = {});
  const std::string& tokens_file() const { return tokens_file_; }
  const std::string& Token(const std::string& user) const { return tokens_.at(user); }
  // Serve and give up after `timeout` without asserting: for tests of refused starts. Returns
  // the exit status if zdapd exited, else -1 (it is then serving).
  int StartExpectingExit(int timeout_seconds);
  // curl -X method; returns the HTTP status, body in *body. Thread-safe.
  int Call(const std::string& method, const std::string& path, const std::string& json_body,
           std::string* body, const std::string& user = "alice") const;
  const std::string& data_dir() const { return data_dir_; }
  // Serve and run host commands with this runtime ("process" by default, or "docker").
  void UseRuntime(const std::string& driver) { runtime_ = driver; }
  // Serve and run host commands with only the first `count` clone ports (1..clone_ports),
  // e.g. to run out of them.
  void LimitClonePorts(int count);
  int clone_port_first() const { return clone_first_; }
  int clone_port_count() const { return clone_count_; }
  const std::string& config_dir() const { return config_dir_; }
  std::string LogText() const;  // the log's last 40 lines
  std::string LogPath() const { return dir_.path() + "/zdapd.log"; }
  // Call() as the host's administrator (the token `zdapd serve` writes to admin.token).
  int AdminCall(const std::string& method, const std::string& path, const std::string& json_body,
                std::string* body) const;
  // POSTs a refresh of `resource` as the host admin and polls its job until it is done or
  // failed; returns the job's JSON. Throws (naming the answer) if the refresh is refused or the
  // job has not ended within `limit`.
  std::string RefreshAndWait(const std::string& resource,
                             std::chrono::seconds limit = std::chrono::seconds(300)) const;
  // The clone's own password from its API object (GET /v1/clones/ID as `user`).
  std::string Password(const std::string& clone, const std::string& user = "alice") const;

 private:
  TempDir dir_;
  PortBlock ports_;  // the API port, then the clone ports
  std::string config_dir_;
  std::string data_dir_;
  int api_port_;
  int clone_first_;
  int clone_ports_;
  int clone_count_;
  std::string listen_host_ = "127.0.0.1";
  pid_t pid_ = -1;
  std::string runtime_ = "process";
  std::vector<std::string> serve_args_;
  std::string tokens_file_;                    // "" = open mode
  std::map<std::string, std::string> tokens_;  // user -> token
  std::string scheme_ = "http";
  std::string curl_options_;
  // A process this fixture's daemons started, with its start time (/proc/PID/stat), so that
  // a pid reused by another process since is never signalled.
  struct StartedProcess {
    pid_t pid;
    unsigned long long start_time;
  };
  std::vector<StartedProcess> started_;
  mutable std::atomic<unsigned> calls_{0};  // names each Call()'s request and answer files
  void Spawn();
  void RememberDescendants();
  void StopStartedProcesses();
  std::string Listen() const { return listen_host_ + ":" + std::to_string(api_port_); }
  int CallAs(const std::string& identity_header, const std::string& method, const std::string& path,
             const std::string& json_body, std::string* body) const;
};

// True while a database server runs with its data dir under `dir` (its "-D" argument, or
// mariadbd's "--datadir").
bool ServersRunUnder(const std::string& dir);
// Containers (running or not) that the zdapd with this data dir labelled as its own.
int ContainersOf(const std::string& data_dir);
// psql as postgres against a clone on 127.0.0.1:port with `password` (PGPASSWORD); returns
// exit status, output in *out.
int Psql(int port, const std::string& password, const std::string& sql, std::string* out,
         const std::string& db = "chinook");
// The mariadb client as root over TCP with `password` (MYSQL_PWD) on database `db`; exit
// status, output (stderr too) in *out. `sql` must not contain single quotes.
int Mariadb(int port, const std::string& password, const std::string& sql, std::string* out,
            const std::string& db = "Chinook");
// Value of a top-level scalar field in a JSON object (tests only; no nesting needed).
std::string JsonField(const std::string& json, const std::string& key);
// Calls `done` every `every` until it holds or `limit` has passed; its last answer.
bool PollUntil(std::chrono::milliseconds limit, std::chrono::milliseconds every,
               const std::function<bool()>& done);

}  // namespace zdap::test
