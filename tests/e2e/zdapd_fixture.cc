#include "e2e/zdapd_fixture.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace zdap::test {

int FreeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

ZdapdFixture::ZdapdFixture(std::string data_dir, std::string resource_yaml) : dir_("zdapd-e2e") {
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
  api_port_ = FreeTcpPort();
  clone_first_ = 20000 + static_cast<int>(::getpid() % 400) * 20;
}

ZdapdFixture::~ZdapdFixture() {
  if (pid_ > 0) Kill(SIGTERM);
  // Whatever clones are left: stop their servers so nothing outlives the test.
  Shell("pkill -QUIT -f -- '[-](D|-datadir) " + data_dir_ + "/' ; true");
  if (runtime_ == "docker") {
    Shell("docker ps -aq --filter label=zdap.origin=" + data_dir_ + " | xargs -r docker rm -f");
  }
}

int ZdapdFixture::Host(const std::string& args, std::string* output) const {
  std::string cmd = "ZDAPD_RUNTIME_DRIVER=" + runtime_ + " " + ProgramPath("apps/zdapd/zdapd") +
                    " " + args + " --config-dir " + config_dir_ + " --data-dir " + data_dir_ +
                    " --clone-ports " + std::to_string(clone_first_) + "-" +
                    std::to_string(clone_first_ + 19) +
                    " --listen 127.0.0.1:" + std::to_string(api_port_);
  return Shell(cmd, output);
}

void ZdapdFixture::Spawn() {
  pid_ = ::fork();
  if (pid_ == 0) {
    std::string log = dir_.path() + "/zdapd.log";
    std::freopen(log.c_str(), "a", stderr);
    std::freopen("/dev/null", "w", stdout);
    std::string ports = std::to_string(clone_first_) + "-" + std::to_string(clone_first_ + 19);
    std::string listen = "127.0.0.1:" + std::to_string(api_port_);
    std::string bin = ProgramPath("apps/zdapd/zdapd");
    ::setenv("ZDAPD_RUNTIME_DRIVER", runtime_.c_str(), 1);
    std::vector<const char*> argv = {
        bin.c_str(),       "serve",         "--config-dir", config_dir_.c_str(), "--data-dir",
        data_dir_.c_str(), "--clone-ports", ports.c_str(),  "--listen",          listen.c_str()};
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

void ZdapdFixture::Kill(int sig) {
  if (pid_ <= 0) return;
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
  std::string file = dir_.path() + "/req.json";
  std::ofstream(file) << json_body;
  std::string out;
  std::string cmd = "curl -s -m 300 " + curl_options_ + " -o " + dir_.path() +
                    "/resp.json -w '%{http_code}' -X " + method + " -H 'X-Zdap-User: " + user +
                    "' " + (json_body.empty() ? "" : "--data-binary @" + file + " ") + Url() + path;
  if (Shell(cmd, &out) != 0) return 0;
  body->clear();
  Shell("cat " + dir_.path() + "/resp.json", body);
  return std::atoi(out.c_str());
}

bool ServersRunUnder(const std::string& dir) {
  // postgres -D DIR, mariadbd --datadir DIR; "[-]" so the pattern does not match the shell
  // that runs pgrep.
  return Shell("pgrep -f -- '[-](D|-datadir) " + dir + "'") == 0;
}

int ContainersOf(const std::string& data_dir) {
  std::string out;
  Shell("docker ps -aq --filter label=zdap.origin=" + data_dir + " | wc -l", &out);
  return std::atoi(out.c_str());
}

int Psql(int port, const std::string& sql, std::string* out, const std::string& db) {
  std::string cmd = "PGPASSWORD=zdap PGCONNECT_TIMEOUT=10 psql -X -A -t -q -h 127.0.0.1 -p " +
                    std::to_string(port) + " -U postgres -d " + db + " -c \"" + sql + "\"";
  return Shell(cmd, out);
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
