// Runs the built zdap binary: argument errors, config files, and attach/detach against a fake
// origin, with docker-compose (v1) checking that it accepts base + override.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "core/file_util.h"
#include "core/time.h"
#include "fake_origin.h"
#include "support/test_env.h"
#include "support/test_ports.h"

namespace zdap {
namespace {

struct Env {
  test::TempDir home{"zdap-cli"};
  std::string config() const { return home.path() + "/cfg/config.yaml"; }
  std::string project() const { return home.path() + "/proj"; }
  Env() { std::filesystem::create_directories(project()); }

  // Runs zdap in the project directory; returns the exit code, output in *out.
  int Zdap(const std::string& args, std::string* out = nullptr) const {
    std::string o;
    int rc = test::Shell("cd '" + project() + "' && ZDAP_CONFIG='" + config() + "' " +
                             test::ProgramPath("apps/zdap/zdap") + " " + args,
                         &o);
    if (out) *out = o;
    UNSCOPED_INFO("zdap " << args << " -> " << rc << ": " << o);
    return rc;
  }
  void Write(const std::string& name, const std::string& text) const {
    REQUIRE(WriteFileAtomic(project() + "/" + name, text).ok());
  }
  std::string Read(const std::string& name) const {
    auto r = ReadFile(project() + "/" + name);
    REQUIRE(r.ok());
    return *r;
  }
  bool Exists(const std::string& name) const { return PathExists(project() + "/" + name); }
};

std::string CloneJson(const std::string& id, int port) {
  return R"({"id":")" + id +
         R"(","resource":"chinook","snapshot":"chinook@20261122T030405Z",)"
         R"("owner":"alice","state":"ready","host":"db1.zdap.test","port":)" +
         std::to_string(port) +
         R"(,"database":"chinook","user":"postgres","password":"zdap",)"
         R"("uri":"postgres://postgres:zdap@127.0.0.1:6001/chinook",)"
         R"("created_at":"2026-11-22T03:04:05Z","expires_at":null,"protected":false,)"
         R"("pooled":false,"origin":"http://127.0.0.1:43210","engine":"postgres"})";
}

test::FakeOrigin::Handler Daemon() {
  return [n = 0](const test::FakeRequest& r) mutable -> test::FakeReply {
    if (r.target == "/v1/health") return {200, R"({"status":"ok","version":"0.1.0"})"};
    if (r.target == "/v1/status") {
      return {200, R"({"version":"0.1.0","storage":{"driver":"copy","free_bytes":1000},)"
                   R"("runtime":{"driver":"process"},"resources":[{"name":"chinook"}]})"};
    }
    if (r.method == "POST" &&
        (r.target == "/v1/resources/chinook/clones" || r.target == "/v1/resources/chinook/claim")) {
      ++n;
      return {201, CloneJson("chinook-" + std::to_string(n), 6000 + n)};
    }
    if (r.method == "GET" && r.target == "/v1/resources") {
      return {200, R"({"resources":[{"name":"chinook","engine":"postgres","version":"15",)"
                   R"("database":"chinook","snapshots":[{"id":"chinook@20261122T030405Z",)"
                   R"("created_at":"2026-11-22T03:04:05Z"}],"clones":[]}]})"};
    }
    if (r.method == "DELETE") return {204, ""};
    return {404, R"({"error":{"code":"not_found","message":"resource 'nope' not found"}})"};
  };
}

// Starts every command at once (in `dir`), waits for each; returns their exit statuses in
// order, and all output in *out. An exit status that cannot be read back is -1.
std::vector<int> RunConcurrently(const std::string& dir, const std::vector<std::string>& commands,
                                 std::string* out) {
  std::string script = "cd '" + dir + "' || exit 99; ";
  for (size_t i = 0; i < commands.size(); ++i) {
    script += "(" + commands[i] + ") 2>&1 & p" + std::to_string(i) + "=$!; ";
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    script += "wait $p" + std::to_string(i) + "; echo \"exit " + std::to_string(i) + "=$?\"; ";
  }
  test::Shell(script, out);
  std::vector<int> codes(commands.size(), -1);
  for (size_t i = 0; i < commands.size(); ++i) {
    std::string key = "exit " + std::to_string(i) + "=";
    size_t at = out->find(key);
    if (at != std::string::npos) codes[i] = std::atoi(out->c_str() + at + key.size());
  }
  return codes;
}

bool HaveDockerCompose() {
  return test::Shell("docker-compose version") == 0;
}

}  // namespace

TEST_CASE("zdap usage errors exit 2, help exits 0", "[binary]") {
  Env env;
  for (const char* args :
       {"", "frobnicate", "attach", "attach a b", "detach", "origin", "origin nope", "origin add",
        "origin add --bogus x", "list", "list things", "user set", "init extra",
        "attach chinook --ttl", "list resources -o"}) {
    std::string out;
    REQUIRE(env.Zdap(args, &out) == 2);
    REQUIRE_FALSE(out.empty());
  }
  std::string out;
  REQUIRE(env.Zdap("--help", &out) == 0);
  REQUIRE(out.find("zdap attach RESOURCE") != std::string::npos);
  for (const char* args : {"attach --help", "detach -h", "origin add --help", "help init",
                           "list resources --help", "--version"}) {
    REQUIRE(env.Zdap(args, &out) == 0);
  }
}

TEST_CASE("zdap origin and user verbs keep a 0600 config", "[binary]") {
  Env env;
  std::string out;
  REQUIRE(env.Zdap("origin add ftp://x:1", &out) == 1);
  REQUIRE(out.find("http or https") != std::string::npos);
  REQUIRE(env.Zdap("origin add http://127.0.0.1:43210/ --token sup3rsecret", &out) == 0);
  REQUIRE(out.find("sup3rsecret") == std::string::npos);
  struct stat st;
  REQUIRE(::stat(env.config().c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(env.Zdap("add origin HTTP://DB1:80", &out) == 0);
  REQUIRE(env.Zdap("origin list", &out) == 0);
  REQUIRE(out == "http://127.0.0.1:43210\nhttp://db1:80\n");
  REQUIRE(env.Zdap("origin list -v", &out) == 0);
  REQUIRE(out.find("token: set") != std::string::npos);
  REQUIRE(out.find("sup3rsecret") == std::string::npos);
  REQUIRE(env.Zdap("remove origin http://db1:80", &out) == 0);
  REQUIRE(env.Zdap("origin remove http://db1:80", &out) == 1);
  REQUIRE(env.Zdap("user set Not_A_Name", &out) == 1);
  REQUIRE(env.Zdap("set user alice", &out) == 0);
  auto cfg = ReadFile(env.config());
  REQUIRE(cfg.ok());
  REQUIRE(cfg->find("user: alice") != std::string::npos);
  REQUIRE(cfg->find("sup3rsecret") != std::string::npos);
}

TEST_CASE("zdap origin list -v asks each origin's health", "[binary]") {
  test::FakeOrigin healthy(Daemon());
  test::FakeOrigin draining([](const test::FakeRequest&) -> test::FakeReply {
    return {200, R"({"status":"draining","version":"0.1.0"})"};
  });
  const std::string dead = "http://127.0.0.1:" + std::to_string(test::ReservePort());
  Env env;
  REQUIRE(env.Zdap("origin add " + healthy.url() + " --token t0k3n") == 0);
  REQUIRE(env.Zdap("origin add " + draining.url()) == 0);
  REQUIRE(env.Zdap("origin add " + dead) == 0);
  std::string out;
  REQUIRE(env.Zdap("origin list -v", &out) == 0);
  // One line per origin, in order, each with its own health.
  auto line_of = [&](const std::string& url) {
    size_t at = out.find(url + "  ");
    REQUIRE(at != std::string::npos);
    return out.substr(at, out.find('\n', at) - at);
  };
  CHECK(line_of(healthy.url()) == healthy.url() + "  token: set  health: ok, version 0.1.0");
  CHECK(line_of(draining.url()) ==
        draining.url() + "  token: none  health: origin " + draining.url() + " is not healthy");
  std::string dead_line = line_of(dead);
  CHECK(dead_line.starts_with(dead + "  token: none  health: "));
  CHECK(dead_line.find("health: ok") == std::string::npos);
  CHECK(dead_line.size() > (dead + "  token: none  health: ").size());  // says why
  CHECK(out.find("t0k3n") == std::string::npos);
  // No `zdap user set` yet: the login name stands in, and says so.
  CHECK(out.find(" (login name))") != std::string::npos);
}

TEST_CASE("zdap init, attach, list, detach against a fake origin", "[binary]") {
  REQUIRE(HaveDockerCompose());  // scripts/test installs docker-compose (Debian package)
  test::FakeOrigin origin(Daemon());
  Env env;
  REQUIRE(env.Zdap("origin add " + origin.url()) == 0);
  REQUIRE(env.Zdap("user set alice") == 0);

  std::string out;
  REQUIRE(env.Zdap("attach chinook", &out) == 1);  // no project yet
  REQUIRE(out.find("zdap init") != std::string::npos);
  REQUIRE(env.Zdap("init", &out) == 1);  // no compose file
  std::filesystem::create_directories(env.project() + "/db");

  struct Case {
    std::string name, base, override_text;
    bool override_exists;
  };
  const std::string rich =
      "# local tweaks\n"
      "x-env: &env\n"
      "  TZ: UTC\n"
      "services:\n"
      "  app:\n"
      "    environment: *env   # shared\n"
      "volumes:\n"
      "  data: {}\n"
      "networks:\n"
      "  front: {}\n";
  std::vector<Case> cases = {
      {"v3.8 with build, override with other services",
       "version: \"3.8\"\nservices:\n  db:\n    build: {context: ./db, target: dev}\n"
       "    ports: [\"15432:5432\"]\n    healthcheck: {test: [CMD, pg_isready], start_period: 5s}\n"
       "  app:\n    image: alpine\n    depends_on: [db]\nvolumes:\n  data: {}\nnetworks:\n  front: "
       "{}\n",
       rich, true},
      {"no version, no override file",
       "services:\n  db:\n    image: postgres:15\n    expose: [\"5433\"]\n  app:\n    image: "
       "alpine\n",
       "", false},
      {"v2.4, override without services, CRLF, no final newline",
       "version: \"2.4\"\nservices:\n  db:\n    image: postgres:15\n    build: ./db\n"
       "  app:\n    image: alpine\n    depends_on:\n      db: {condition: service_healthy}\n",
       "version: \"2.4\"\r\nvolumes:\r\n  v: {}", true},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      env.Write("docker-compose.yml", c.base);
      if (c.override_exists) env.Write("docker-compose.override.yml", c.override_text);
      REQUIRE(env.Zdap("init", &out) == 0);
      REQUIRE(env.Read(".zdap.yaml").find("override: docker-compose.override.yml") !=
              std::string::npos);
      REQUIRE(env.Zdap("attach chinook --service db --ttl 8h", &out) == 0);
      REQUIRE(out.find("as service 'db'") != std::string::npos);
      std::string attached = env.Read("docker-compose.override.yml");
      REQUIRE(attached.find("# >>> zdap service db") != std::string::npos);
      REQUIRE(attached.find("db1.zdap.test:600") != std::string::npos);
      REQUIRE(env.Read(".zdap.yaml").find("clone: chinook-") != std::string::npos);
      auto posted = origin.requests();
      REQUIRE(std::any_of(posted.begin(), posted.end(), [](const test::FakeRequest& r) {
        return r.method == "POST" && r.body == R"({"ttl":"8h"})" &&
               r.HasHeader("X-Zdap-User: alice");
      }));

      std::string merged;
      int rc = test::Shell("cd '" + env.project() +
                               "' && docker-compose -f docker-compose.yml -f "
                               "docker-compose.override.yml config",
                           &merged);
      INFO(merged);
      REQUIRE(rc == 0);
      REQUIRE(merged.find("image: zdap/proxyd:") != std::string::npos);
      REQUIRE(merged.find("/zdap-proxyd") != std::string::npos);
      if (c.base.find("build") != std::string::npos) {
        REQUIRE(merged.find(".zdap/build/db") != std::string::npos);
        REQUIRE(env.Read(".zdap/build/db/Dockerfile").find("FROM zdap/proxyd:") !=
                std::string::npos);
      }

      REQUIRE(env.Zdap("attach chinook --service db", &out) == 1);  // attached already
      REQUIRE(env.Zdap("attach chinook --service app", &out) ==
              (c.name.starts_with("v3.8") ? 1 : 0));
      if (!c.name.starts_with("v3.8")) REQUIRE(env.Zdap("detach app") == 0);
      REQUIRE(env.Zdap("list resources", &out) == 0);
      REQUIRE(out.find("chinook") != std::string::npos);
      REQUIRE(env.Zdap("list resources -o json", &out) == 0);
      REQUIRE(out.find("\"origin\"") != std::string::npos);

      REQUIRE(env.Zdap("detach db", &out) == 0);
      REQUIRE(out.find("destroyed clone chinook-") != std::string::npos);
      if (c.override_exists) {
        REQUIRE(env.Read("docker-compose.override.yml") == c.override_text);
      } else {
        REQUIRE_FALSE(env.Exists("docker-compose.override.yml"));
      }
      REQUIRE_FALSE(env.Exists(".zdap"));
      REQUIRE(env.Read(".zdap.yaml").find("chinook-") == std::string::npos);
      REQUIRE(env.Zdap("detach db", &out) == 1);
      auto deleted = origin.requests();
      REQUIRE(std::any_of(deleted.begin(), deleted.end(), [](const test::FakeRequest& r) {
        return r.method == "DELETE" && r.target.starts_with("/v1/clones/chinook-");
      }));
    }
  }
}

TEST_CASE("concurrent attaches and detaches serialise on the project lock", "[binary]") {
  test::FakeOrigin origin(Daemon());
  Env env;
  REQUIRE(env.Zdap("origin add " + origin.url()) == 0);
  REQUIRE(env.Zdap("user set alice") == 0);
  env.Write("docker-compose.yml", "services:\n  app:\n    image: alpine\n");
  const std::string original = "services:\n  app:\n    environment: {A: 1}\n";
  env.Write("docker-compose.override.yml", original);
  REQUIRE(env.Zdap("init") == 0);
  std::string zdap = "ZDAP_CONFIG='" + env.config() + "' " + test::ProgramPath("apps/zdap/zdap");
  std::vector<std::string> attach_all, detach_all;
  for (int i = 0; i < 4; ++i) {
    attach_all.push_back(zdap + " attach chinook --service s" + std::to_string(i));
    detach_all.push_back(zdap + " detach s" + std::to_string(i));
  }
  std::string out;
  std::vector<int> attached_codes = RunConcurrently(env.project(), attach_all, &out);
  INFO(out);
  REQUIRE(attached_codes == std::vector<int>{0, 0, 0, 0});
  std::string attached = env.Read("docker-compose.override.yml");
  std::string project = env.Read(".zdap.yaml");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(attached.find("# >>> zdap service s" + std::to_string(i)) != std::string::npos);
    REQUIRE(project.find("  s" + std::to_string(i) + ":") != std::string::npos);
  }
  std::string detach_out;
  std::vector<int> detached_codes = RunConcurrently(env.project(), detach_all, &detach_out);
  INFO(detach_out);
  REQUIRE(detached_codes == std::vector<int>{0, 0, 0, 0});
  REQUIRE(env.Read("docker-compose.override.yml") == original);
  REQUIRE(env.Read(".zdap.yaml").find("services:") == std::string::npos);
}

TEST_CASE("zdap attach leaves no clone behind when the override is refused", "[binary]") {
  test::FakeOrigin origin(Daemon());
  Env env;
  REQUIRE(env.Zdap("origin add " + origin.url()) == 0);
  REQUIRE(env.Zdap("user set alice") == 0);
  env.Write("docker-compose.yml", "services:\n  db:\n    image: postgres\n");
  env.Write("docker-compose.override.yml", "services: {db: {image: x}}\n");
  REQUIRE(env.Zdap("init") == 0);
  std::string out;
  REQUIRE(env.Zdap("attach chinook --service db", &out) == 1);
  REQUIRE(out.find("flow style") != std::string::npos);
  for (const auto& r : origin.requests()) REQUIRE(r.method != "POST");
  REQUIRE(env.Read("docker-compose.override.yml") == "services: {db: {image: x}}\n");
  env.Write("docker-compose.override.yml", "services:\n  app:\n    image: x\n");
  REQUIRE(env.Zdap("attach nope", &out) == 1);
  INFO(out);
  // One origin: no ranking round trip; the origin's own answer names the resource.
  REQUIRE(out.find("origin " + origin.url()) != std::string::npos);
  REQUIRE(out.find("'nope'") != std::string::npos);
}

}  // namespace zdap

namespace zdap {

TEST_CASE("zdap attach --replicas: N clones on N origins behind one proxy, undone on failure",
          "[binary][placement]") {
  test::FakeOrigin a(Daemon()), b(Daemon());
  auto full = [inner = Daemon()](const test::FakeRequest& r) mutable -> test::FakeReply {
    if (r.method == "POST") {
      return {503, R"({"error":{"code":"unavailable","message":"no free clone port"}})"};
    }
    return inner(r);
  };
  test::FakeOrigin f(full);
  Env env;
  REQUIRE(env.Zdap("origin add " + a.url()) == 0);
  REQUIRE(env.Zdap("origin add " + b.url()) == 0);
  REQUIRE(env.Zdap("user set alice") == 0);
  const std::string base = "services:\n  db:\n    image: postgres:15\n";
  env.Write("docker-compose.yml", base);
  REQUIRE(env.Zdap("init") == 0);
  std::string out;
  auto count = [](const test::FakeOrigin& o, const std::string& method) {
    auto rs = o.requests();
    return std::count_if(rs.begin(), rs.end(),
                         [&](const test::FakeRequest& r) { return r.method == method; });
  };

  for (const char* usage : {"--replicas 0", "--replicas x", "--replicas 2 --origin http://h:1",
                            "--balance random", "--replicas 17"}) {
    REQUIRE(env.Zdap(std::string("attach chinook --service db ") + usage, &out) == 2);
  }
  REQUIRE(env.Zdap("attach chinook --service db --replicas 3", &out) == 1);
  REQUIRE(out.find("--replicas 3 needs 3 distinct origins, 2 configured") != std::string::npos);
  REQUIRE(count(a, "POST") + count(b, "POST") == 0);

  REQUIRE(env.Zdap("attach chinook --service db --replicas 2 --balance roundrobin", &out) == 0);
  REQUIRE(out.find("2 clones: chinook-1 on " + a.url() + ", chinook-1 on " + b.url()) !=
          std::string::npos);
  // The first clone gets a password of its origin's making; the replica is asked for that one,
  // so the app's one password opens both targets.
  // The bodies of the requests `o` saw for `target`.
  auto bodies = [](const test::FakeOrigin& o, const std::string& target) {
    std::vector<std::string> out;
    for (const auto& r : o.requests()) {
      if (r.target == target) out.push_back(r.body);
    }
    return out;
  };
  auto posts = [&](const test::FakeOrigin& o) { return bodies(o, "/v1/resources/chinook/clones"); };
  REQUIRE(posts(a).size() == 1);
  CHECK(posts(a)[0].find("password") == std::string::npos);
  REQUIRE(posts(b).size() == 1);
  CHECK(posts(b)[0].find(R"("password":"zdap")") != std::string::npos);
  std::string attached = env.Read("docker-compose.override.yml");
  REQUIRE(attached.find(R"("--target", "db1.zdap.test:6001", "--target", "db1.zdap.test:6001", )"
                        R"("--balance", "roundrobin"])") != std::string::npos);
  std::string project = env.Read(".zdap.yaml");
  REQUIRE(project.find("replicas:") != std::string::npos);
  REQUIRE(project.find("origin: " + b.url()) != std::string::npos);
  REQUIRE(env.Zdap("detach db", &out) == 0);
  REQUIRE(count(a, "DELETE") == 1);
  REQUIRE(count(b, "DELETE") == 1);
  REQUIRE(!env.Exists("docker-compose.override.yml"));

  // b is replaced by an origin that cannot create: the clone made on a is destroyed again.
  REQUIRE(env.Zdap("origin remove " + b.url()) == 0);
  REQUIRE(env.Zdap("origin add " + f.url()) == 0);
  REQUIRE(env.Zdap("attach chinook --service db --replicas 2", &out) == 1);
  REQUIRE(out.find("only 1 of the 2 origins needed could take a clone of chinook") !=
          std::string::npos);
  REQUIRE(out.find("no free clone port") != std::string::npos);
  REQUIRE(out.find("(clone chinook-2 destroyed again)") != std::string::npos);
  REQUIRE(count(a, "DELETE") == 2);
  REQUIRE(!env.Exists("docker-compose.override.yml"));
  REQUIRE(env.Read(".zdap.yaml").find("services:") == std::string::npos);
  // One replica: an origin that fails (f, now first of two equal ones) is passed over for the
  // next, with a warning.
  REQUIRE(env.Zdap("origin remove " + a.url()) == 0);
  REQUIRE(env.Zdap("origin add " + a.url()) == 0);
  REQUIRE(env.Zdap("attach chinook --service db", &out) == 0);
  REQUIRE(out.find("zdap: warning: origin " + f.url() + ": no free clone port") !=
          std::string::npos);
  REQUIRE(env.Read(".zdap.yaml").find("origin: " + a.url()) != std::string::npos);
  REQUIRE(env.Zdap("detach db", &out) == 0);
  // The same with --claim: the replica's claim asks for the first clone's password.
  REQUIRE(env.Zdap("origin remove " + f.url()) == 0);
  REQUIRE(env.Zdap("origin add " + b.url()) == 0);
  REQUIRE(env.Zdap("attach chinook --service db --replicas 2 --claim", &out) == 0);
  auto claims = [&](const test::FakeOrigin& o) { return bodies(o, "/v1/resources/chinook/claim"); };
  REQUIRE(claims(a).size() == 1);
  CHECK(claims(a)[0].find("password") == std::string::npos);
  REQUIRE(claims(b).size() == 1);
  CHECK(claims(b)[0].find(R"("password":"zdap")") != std::string::npos);
  REQUIRE(env.Zdap("detach db", &out) == 0);
}

TEST_CASE("zdap status: one row per origin, a silent one shown down", "[binary][placement]") {
  test::FakeOrigin a(Daemon());
  const std::string dead = "http://127.0.0.1:" + std::to_string(test::ReservePort());
  Env env;
  std::string out;
  REQUIRE(env.Zdap("status", &out) == 1);
  REQUIRE(out.find("no origin configured") != std::string::npos);
  REQUIRE(env.Zdap("origin add " + dead) == 0);
  REQUIRE(env.Zdap("status", &out) == 1);
  REQUIRE(out.find("none of the 1 configured origins answers") != std::string::npos);
  REQUIRE(env.Zdap("origin add " + a.url()) == 0);
  REQUIRE(env.Zdap("status", &out) == 0);
  REQUIRE(out.find("ORIGIN") != std::string::npos);
  INFO(out);
  REQUIRE(
      out.find(a.url() +
               "  up     0.1.0    copy/process  1000 B     -         -     0       -      -\n") !=
      std::string::npos);
  size_t down_row = out.find(dead + "  down   -        -             -          -         -     -");
  REQUIRE(down_row != std::string::npos);
  REQUIRE(out.find("origin " + dead + ": cannot connect", down_row) < out.find('\n', down_row));
  REQUIRE(env.Zdap("status -o json", &out) == 0);
  REQUIRE(out.find(R"({"url":")" + dead + R"(","reachable":false,"error":")") != std::string::npos);
  REQUIRE(out.find(R"({"url":")" + a.url() + R"(","reachable":true,"status":{"version":"0.1.0")") !=
          std::string::npos);
  REQUIRE(env.Zdap("status -o yaml", &out) == 0);
  REQUIRE(out.find("reachable: false") != std::string::npos);
  REQUIRE(env.Zdap("status -o xml", &out) == 2);  // a value outside the declared choices
  REQUIRE(out == "zdap: --output 'xml': use table, json or yaml (see `zdap status --help`)\n");
  REQUIRE(env.Zdap("status extra", &out) == 2);
}

TEST_CASE("zdap status: a resource whose last refresh failed is named in the origin's row",
          "[binary][placement]") {
  test::FakeOrigin a([](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/status") {
      return {200, R"({"version":"0.1.0","storage":{"driver":"copy","free_bytes":1000},)"
                   R"("runtime":{"driver":"process"},"resources":[)"
                   R"({"name":"chinook","refresh":{"cron":"0 3 * * *","next_at":null,"last":)"
                   R"({"state":"failed","finished_at":"2030-01-01T03:00:41Z","elapsed_ms":41000,)"
                   R"("error":"pg_restore: connection refused"}}},)"
                   R"({"name":"sakila","refresh":{"cron":null,"last":)"
                   R"({"state":"done","finished_at":"2030-01-01T03:00:00Z","elapsed_ms":10}}}]})"};
    }
    return {404, R"({"error":{"code":"not_found","message":"no"}})"};
  });
  Env env;
  std::string out;
  REQUIRE(env.Zdap("origin add " + a.url()) == 0);
  REQUIRE(env.Zdap("status", &out) == 0);
  INFO(out);
  size_t row = out.find(a.url() + "  up");
  REQUIRE(row != std::string::npos);
  std::string line = out.substr(row, out.find('\n', row) - row);
  CHECK(line.find("refresh of chinook failed at 2030-01-01T03:00:41Z") != std::string::npos);
  CHECK(line.find("sakila") == std::string::npos);  // its last refresh went well
  // The error line itself is in the JSON, for scripts.
  REQUIRE(env.Zdap("status -o json", &out) == 0);
  CHECK(out.find(R"("error":"pg_restore: connection refused")") != std::string::npos);
}

TEST_CASE("zdap status: how current each resource's newest snapshot is", "[binary][placement]") {
  const std::string three_hours_ago = FormatRfc3339(SystemNow() - std::chrono::hours(3));
  test::FakeOrigin a([&](const test::FakeRequest& r) -> test::FakeReply {
    if (r.target == "/v1/status") {
      return {200, R"({"version":"0.1.0","storage":{"driver":"btrfs","free_bytes":1000},)"
                   R"("runtime":{"driver":"process"},"resources":[)"
                   R"({"name":"app","data_as_of":")" +
                       three_hours_ago + R"("},{"name":"sakila","data_as_of":null}]})"};
    }
    return {404, R"({"error":{"code":"not_found","message":"no"}})"};
  });
  Env env;
  std::string out;
  REQUIRE(env.Zdap("origin add " + a.url()) == 0);
  REQUIRE(env.Zdap("status", &out) == 0);
  INFO(out);
  CHECK(out.find("DATA AS OF") != std::string::npos);
  size_t row = out.find(a.url() + "  up");
  REQUIRE(row != std::string::npos);
  std::string line = out.substr(row, out.find('\n', row) - row);
  CHECK(line.find("app 3h ago") != std::string::npos);
  CHECK(line.find("sakila") == std::string::npos);  // no snapshot: nothing to say
}

}  // namespace zdap

namespace zdap {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string SseMessage(int id, const std::string& type, const std::string& more) {
  std::string data = R"({"id":)" + std::to_string(id) + R"(,"type":")" + type +
                     R"(","time":"2026-12-07T03:00:0)" + std::to_string(id % 10) +
                     R"(.000Z","resource":"chinook")" + more + "}";
  return "id: " + std::to_string(id) + "\nevent: " + type + "\ndata: " + data + "\n\n";
}

}  // namespace

TEST_CASE("zdap events prints each event and resumes after a dropped connection", "[binary]") {
  // The origin: two events, then the connection drops; the follow-up must ask for what came
  // after the last one (Last-Event-ID), gets one more (and a gap notice); then the token is
  // revoked, which ends the command.
  auto script = [](const test::FakeRequest& r, int n) -> test::FakeReply {
    if (r.target != "/v1/events") return {404, R"({"error":{"code":"not_found","message":"no"}})"};
    switch (n) {
      case 1:
        return {200,
                "retry: 3000\n\n" +
                    SseMessage(11, "clone.created", R"(,"clone":"c1","owner":"alice")") +
                    ": keep-alive\n\n" +
                    SseMessage(12, "refresh.failed",
                               R"(,"job":"j1","error":"line one\nline <b>two</b>\u001b[31m")")};
      case 2:
        if (!r.HasHeader("Last-Event-ID: 12")) return {400, R"({"error":{"message":"no id"}})"};
        return {200, "retry: 3000\n\nevent: gap\ndata: {}\n\n" +
                         SseMessage(13, "clone.destroyed",
                                    R"(,"clone":"c1","owner":"alice","reason":"expiry")")};
      default:
        return {401, R"({"error":{"code":"unauthenticated","message":"token revoked"}})"};
    }
  };
  for (const char* format : {"text", "json"}) {
    test::FakeOrigin origin(
        [script, n = 0](const test::FakeRequest& r) mutable { return script(r, ++n); });
    Env env;
    REQUIRE(env.Zdap("origin add " + origin.url() + " --token t0ken") == 0);
    std::string out;
    int rc = env.Zdap(std::string("events -o ") + format, &out);
    CHECK(rc == 1);
    // The events on stdout; on stderr, each reconnect and the gap (the output has both).
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("zdap: ", 0) != 0) lines.push_back(line);
    }
    REQUIRE(lines.size() == 3);
    CHECK(out.find("zdap: the origin no longer has every event") != std::string::npos);
    CHECK(out.find("the event stream ended; following again in 1 s") != std::string::npos);
    CHECK(out.find("zdap: error: origin " + origin.url() + ": token revoked") != std::string::npos);
    if (std::string(format) == "json") {
      CHECK(lines[0].find(R"("id":11)") != std::string::npos);
      CHECK(lines[1].find(R"("id":12)") != std::string::npos);
      CHECK(lines[2].find(R"("reason":"expiry")") != std::string::npos);
    } else {
      CHECK(lines[0] ==
            "2026-12-07T03:00:01.000Z  clone.created  c1  resource=chinook owner=alice");
      // Control characters (newline, escape) of an error line are spaces; markup stays text.
      CHECK(lines[1] ==
            "2026-12-07T03:00:02.000Z  refresh.failed  resource=chinook job=j1 error: line one "
            "line <b>two</b> [31m");
      CHECK(lines[2] ==
            "2026-12-07T03:00:03.000Z  clone.destroyed  c1  resource=chinook owner=alice "
            "reason=expiry");
    }
  }
  // A format outside the verb's choices is a usage error.
  CHECK(Env().Zdap("events -o yaml") == 2);
}

// Issue 25: a clone the origin advertises on loopback, where nothing else on this machine
// serves its port, is refused with exactly what to change on the origin; the clone is destroyed
// again and the project is left as it was.
TEST_CASE("zdap attach of a clone containers cannot reach says what to change on the origin",
          "[binary]") {
  const int dead_port = test::ReservePort();  // reserved, never listened on
  auto loopback_clone = [dead_port](const test::FakeRequest& r) -> test::FakeReply {
    if (r.method == "POST" && r.target == "/v1/resources/chinook/clones") {
      std::string clone = CloneJson("chinook-1", dead_port);
      size_t at = clone.find("db1.zdap.test");
      clone.replace(at, std::string("db1.zdap.test").size(), "127.0.0.1");
      return {201, clone};
    }
    return Daemon()(r);
  };
  for (bool with_token : {false, true}) {
    INFO("the origin is configured " << (with_token ? "with" : "without") << " a token");
    test::FakeOrigin origin(loopback_clone);
    Env env;
    REQUIRE(env.Zdap("origin add " + origin.url() + (with_token ? " --token t0k3n" : "")) == 0);
    REQUIRE(env.Zdap("user set alice") == 0);
    env.Write("docker-compose.yml", "services:\n  db:\n    image: postgres\n");
    REQUIRE(env.Zdap("init") == 0);
    std::string out;
    REQUIRE(env.Zdap("attach chinook --service db", &out) == 1);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);  // one line
    CHECK(out.starts_with(
        "zdap: error: clone chinook-1 listens on 127.0.0.1:" + std::to_string(dead_port) +
        " only, which the proxy container cannot reach: on origin " + origin.url() +
        " set `clone_bind: 0.0.0.0` in zdapd's config (or " +
        "`zdapd serve --clone-bind 0.0.0.0`;"));
    CHECK(Contains(out, "(clone chinook-1 destroyed again)"));
    if (with_token) {
      // Its zdapd has a tokens file already (the user has a token): only the bind changes.
      CHECK(Contains(out, "restart zdapd and attach again"));
      CHECK_FALSE(Contains(out, "token add"));
    } else {
      // zdapd refuses a non-loopback clone_bind without a tokens file: how to make one, and
      // how zdap then gets its token.
      CHECK(Contains(out,
                     "which zdapd allows only with a tokens file: make one with "
                     "`zdapd token add alice --tokens-file FILE`, set `tokens_file: FILE` "
                     "(or --tokens-file FILE), restart zdapd, give zdap the token it printed "
                     "with `zdap origin add " +
                         origin.url() + " --token TOKEN` and attach again"));
    }
    auto requests = origin.requests();
    CHECK(std::count_if(requests.begin(), requests.end(), [](const test::FakeRequest& r) {
            return r.method == "DELETE" && r.target == "/v1/clones/chinook-1";
          }) == 1);
    CHECK_FALSE(env.Exists("docker-compose.override.yml"));
    CHECK(env.Read(".zdap.yaml").find("chinook-1") == std::string::npos);
  }
}

}  // namespace zdap
