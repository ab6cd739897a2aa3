#include "e2e/zdapd_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/file_util.h"

namespace zdap::test {

int FreeTcpPort() {
  return ReservePort();
}

namespace {

// ppid and start time (fields 4 and 22 of /proc/PID/stat); false once the process is gone.
// Not read through an ifstream: a process that exits between open and read makes read(2) fail
// with ESRCH, which libstdc++'s istreambuf_iterator turns into an exception that aborted tests.
bool ReadProcStat(pid_t pid, pid_t* ppid, unsigned long long* start_time) {
  auto read = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!read.ok()) return false;
  const std::string& text = *read;
  size_t name_end = text.rfind(')');  // the command name may hold spaces and parentheses
  if (name_end == std::string::npos) return false;
  std::istringstream fields(text.substr(name_end + 1));
  std::string state, skip;
  long long parent = 0;
  fields >> state >> parent;  // fields 3 and 4
  for (int field = 5; field < 22; ++field) fields >> skip;
  unsigned long long start = 0;
  if (!(fields >> start)) return false;
  *ppid = static_cast<pid_t>(parent);
  *start_time = start;
  return true;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      pids.push_back(static_cast<pid_t>(std::stoll(name)));
    }
  }
  return pids;
}

int CheckedClonePorts(int count) {
  if (count < 1 || count > ZdapdFixture::kMaxClonePorts) {
    throw std::runtime_error("ZdapdFixture: clone_ports must be 1.." +
                             std::to_string(ZdapdFixture::kMaxClonePorts));
  }
  return count;
}

}  // namespace

ZdapdFixture::ZdapdFixture(std::string data_dir, std::string resource_yaml, int clone_ports)
    : dir_("zdapd-e2e"),
      ports_(1 + CheckedClonePorts(clone_ports)),
      clone_ports_(clone_ports),
      clone_count_(clone_ports) {
  // The database servers run as an unprivileged user that must be able to enter the tree.
  ::chmod(dir_.path().c_str(), 0755);
  config_dir_ = dir_.path() + "/config";
  data_dir_ = data_dir.empty() ? dir_.path() + "/data" : data_dir;
  Shell("mkdir -p " + config_dir_ + "/resources");
  if (resource_yaml.empty()) {
    resource_yaml = "name: chinook\nengine: postgres\nsource:\n  dump: " + ChinookDir() +
                    "/Chinook_PostgreSql.sql\n  database: chinook\nclone:\n  ttl: 1h\n"
                    "credentials: {user: postgres, password: zdap}\n";
  }
  std::ofstream(config_dir_ + "/resources/chinook.yaml") << resource_yaml;
  api_port_ = ports_.first();
  clone_first_ = ports_.first() + 1;
}

ZdapdFixture::~ZdapdFixture() {
  if (pid_ > 0) Kill(SIGTERM);
  // Whatever clones are left: stop their servers so nothing outlives the test, and only
  // those: other tests' servers may be running beside them.
  StopStartedProcesses();
  if (runtime_ == "docker") {
    Shell("docker ps -aq --filter label=zdap.origin=" + data_dir_ + " | xargs -r docker rm -f");
  }
}

void ZdapdFixture::LimitClonePorts(int count) {
  if (count < 1 || count > clone_ports_) {
    throw std::runtime_error("LimitClonePorts: 1.." + std::to_string(clone_ports_));
  }
  clone_count_ = count;
}

int ZdapdFixture::Host(const std::string& args, std::string* output) const {
  std::string cmd = "ZDAPD_RUNTIME_DRIVER=" + runtime_ + " " + ProgramPath("apps/zdapd/zdapd") +
                    " " + args + " --config-dir " + config_dir_ + " --data-dir " + data_dir_ +
                    " --clone-ports " + std::to_string(clone_first_) + "-" +
                    std::to_string(clone_first_ + clone_count_ - 1) + " --listen " + Listen() +
                    (tokens_file_.empty() ? "" : " --tokens-file " + tokens_file_);
  return Shell(cmd, output);
}

void ZdapdFixture::UseTokens(const std::vector<std::string>& users,
                             const std::vector<std::string>& admins,
                             const std::vector<std::string>& replicators) {
  tokens_file_ = dir_.path() + "/tokens.yaml";
  std::vector<std::pair<std::string, std::string>> entries;  // user, role
  for (const auto& user : users) entries.emplace_back(user, "user");
  for (const auto& admin : admins) entries.emplace_back(admin, "admin");
  for (const auto& r : replicators) entries.emplace_back(r, "replicator");
  for (const auto& [user, role] : entries) {
    std::string out;
    int rc = Shell(ProgramPath("apps/zdapd/zdapd") + " --tokens-file " + tokens_file_ +
                       " token add " + user + " --role " + role + " 2>/dev/null",
                   &out);
    if (rc != 0 || out.size() < 64) {
      throw std::runtime_error("zdapd token add " + user + " failed: " + out);
    }
    tokens_[user] = out.substr(0, 64);
  }
}

void ZdapdFixture::Spawn() {
  pid_ = ::fork();
  if (pid_ == 0) {
    std::string log = dir_.path() + "/zdapd.log";
    std::freopen(log.c_str(), "a", stderr);
    std::freopen("/dev/null", "w", stdout);
    std::string ports =
        std::to_string(clone_first_) + "-" + std::to_string(clone_first_ + clone_count_ - 1);
    std::string listen = Listen();
    std::string bin = ProgramPath("apps/zdapd/zdapd");
    ::setenv("ZDAPD_RUNTIME_DRIVER", runtime_.c_str(), 1);
    std::vector<const char*> argv = {
        bin.c_str(),       "serve",         "--config-dir", config_dir_.c_str(), "--data-dir",
        data_dir_.c_str(), "--clone-ports", ports.c_str(),  "--listen",          listen.c_str()};
    if (!tokens_file_.empty()) {
      argv.push_back("--tokens-file");
      argv.push_back(tokens_file_.c_str());
    }
    for (const auto& a : serve_args_) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
}

int ZdapdFixture::StartExpectingExit(int timeout_seconds) {
  Spawn();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

void ZdapdFixture::Start() {
  Spawn();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string body;
    if (Call("GET", "/v1/health", "", &body) == 200) return;
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("zdapd exited at start: " + LogText());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("zdapd did not answer /v1/health within 60 s: " + LogText());
}

void ZdapdFixture::RememberDescendants() {
  if (pid_ <= 0) return;
  std::map<pid_t, std::vector<StartedProcess>> children;  // by parent
  for (pid_t pid : AllPids()) {
    pid_t ppid;
    unsigned long long start;
    if (ReadProcStat(pid, &ppid, &start)) children[ppid].push_back({pid, start});
  }
  std::vector<pid_t> parents = {pid_};
  while (!parents.empty()) {
    pid_t parent = parents.back();
    parents.pop_back();
    for (const auto& child : children[parent]) {
      parents.push_back(child.pid);
      bool known = false;
      for (const auto& s : started_)
        known |= s.pid == child.pid && s.start_time == child.start_time;
      if (!known) started_.push_back(child);
    }
  }
}

void ZdapdFixture::StopStartedProcesses() {
  // Also what a daemon that died by itself left behind: the process runtime starts each
  // server in its data dir, which is under this fixture's data dir.
  std::string under = data_dir_ + "/";
  for (pid_t pid : AllPids()) {
    std::error_code ec;
    auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
    pid_t ppid;
    unsigned long long start;
    if (!ec && cwd.string().rfind(under, 0) == 0 && ReadProcStat(pid, &ppid, &start)) {
      started_.push_back({pid, start});
    }
  }
  auto alive = [](const StartedProcess& p) {
    pid_t ppid;
    unsigned long long start;
    return ReadProcStat(p.pid, &ppid, &start) && start == p.start_time;
  };
  // Immediate shutdown (the data is thrown away), bounded, then by force.
  for (const auto& p : started_) {
    if (alive(p)) ::kill(p.pid, SIGQUIT);
  }
  bool gone = PollUntil(std::chrono::seconds(5), std::chrono::milliseconds(20), [&] {
    for (const auto& p : started_) {
      if (alive(p)) return false;
    }
    return true;
  });
  if (!gone) {
    for (const auto& p : started_) {
      if (alive(p)) ::kill(p.pid, SIGKILL);
    }
  }
  started_.clear();
}

void ZdapdFixture::Kill(int sig) {
  if (pid_ <= 0) return;
  RememberDescendants();
  ::kill(pid_, sig);
  int st;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
}

std::string ZdapdFixture::LogText() const {
  std::string out;
  Shell("tail -n 40 " + dir_.path() + "/zdapd.log", &out);
  return out;
}

int ZdapdFixture::Call(const std::string& method, const std::string& path,
                       const std::string& json_body, std::string* body,
                       const std::string& user) const {
  // Open mode names the user; token mode authenticates as them.
  std::string identity =
      tokens_file_.empty() ? "X-Zdap-User: " + user : "Authorization: Bearer " + tokens_.at(user);
  return CallAs(identity, method, path, json_body, body);
}

int ZdapdFixture::AdminCall(const std::string& method, const std::string& path,
                            const std::string& json_body, std::string* body) const {
  std::string token;
  if (Shell("cat " + data_dir_ + "/admin.token", &token) != 0) return 0;
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return CallAs("Authorization: Bearer " + token, method, path, json_body, body);
}

int ZdapdFixture::CallAs(const std::string& identity, const std::string& method,
                         const std::string& path, const std::string& json_body,
                         std::string* body) const {
  // Files of this call alone: calls may run on several threads at once.
  std::string n = std::to_string(calls_.fetch_add(1));
  std::string file = dir_.path() + "/req-" + n + ".json";
  std::string answer = dir_.path() + "/resp-" + n + ".json";
  std::ofstream(file) << json_body;
  std::string out;
  std::string cmd = "curl -s -m 300 " + curl_options_ + " -o " + answer + " -w '%{http_code}' -X " +
                    method + " -H '" + identity + "' " +
                    (json_body.empty() ? "" : "--data-binary @" + file + " ") + Url() + path;
  int rc = Shell(cmd, &out);
  body->clear();
  if (rc == 0) {
    std::ifstream in(answer);
    body->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
  std::filesystem::remove(answer, ec);
  return rc == 0 ? std::atoi(out.c_str()) : 0;
}

bool ServersRunUnder(const std::string& dir) {
  // postgres -D DIR, mariadbd --datadir DIR; "[-]" so the pattern does not match the shell
  // that runs pgrep. pgrep exits 0 on a match, 1 on none; anything else (127: no pgrep) means
  // it could not look, and "nothing runs" must not be concluded from that.
  std::string out;
  int rc = Shell("pgrep -f -- '[-](D|-datadir) " + dir + "'", &out);
  if (rc == 0) return true;
  if (rc == 1) return false;
  throw std::runtime_error("ServersRunUnder: pgrep could not look (exit " + std::to_string(rc) +
                           "): " + out);
}

int ContainersOf(const std::string& data_dir) {
  // No pipe: the exit status must be docker's, so that a failing docker is not "0 containers".
  std::string out;
  int rc = Shell("docker ps -aq --filter label=zdap.origin=" + data_dir, &out);
  if (rc != 0) {
    throw std::runtime_error("ContainersOf: docker ps failed (exit " + std::to_string(rc) +
                             "): " + out);
  }
  // One container id (hex) per line; stderr is mixed in by Shell, so count only ids.
  int n = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    n += !line.empty() && line.find_first_not_of("0123456789abcdef") == std::string::npos;
  }
  return n;
}

int Psql(int port, const std::string& password, const std::string& sql, std::string* out,
         const std::string& db) {
  std::string cmd = "PGPASSWORD='" + password +
                    "' PGCONNECT_TIMEOUT=10 psql -X -A -t -q -h 127.0.0.1 -p " +
                    std::to_string(port) + " -U postgres -d " + db + " -c \"" + sql + "\"";
  return Shell(cmd, out);
}

int Mariadb(int port, const std::string& password, const std::string& sql, std::string* out,
            const std::string& db) {
  return Shell("MYSQL_PWD='" + password +
                   "' mariadb --no-defaults -N -B --connect-timeout=10 -h127.0.0.1 -P" +
                   std::to_string(port) + " -uroot " + db + " -e '" + sql + "' 2>&1",
               out);
}

std::string ZdapdFixture::RefreshAndWait(const std::string& resource,
                                         std::chrono::seconds limit) const {
  std::string body;
  int code = AdminCall("POST", "/v1/resources/" + resource + "/snapshots", "", &body);
  if (code != 202) {
    throw std::runtime_error("refresh of " + resource + ": HTTP " + std::to_string(code) + ": " +
                             body);
  }
  const std::string job = JsonField(body, "id");
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (AdminCall("GET", "/v1/jobs/" + job, "", &body) == 200) {
      const std::string state = JsonField(body, "state");
      if (state == "done" || state == "failed") return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("refresh job " + job + " of " + resource + " did not end in " +
                           std::to_string(limit.count()) + " s: " + body + "\n" + LogText());
}

std::string ZdapdFixture::Password(const std::string& clone, const std::string& user) const {
  std::string body;
  if (Call("GET", "/v1/clones/" + clone, "", &body, user) != 200) return "";
  return JsonField(body, "password");
}

bool PollUntil(std::chrono::milliseconds limit, std::chrono::milliseconds every,
               const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

std::string JsonField(const std::string& json, const std::string& key) {
  boost::json::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return "";
  auto* f = v.as_object().if_contains(key);
  if (f == nullptr) return "";
  if (f->is_string()) return std::string(f->as_string());
  return boost::json::serialize(*f);
}

}  // namespace zdap::test
