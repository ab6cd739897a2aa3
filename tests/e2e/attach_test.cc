// The whole product path with real programs: zdapd serves a clone, the zdap CLI attaches it
// to a compose project, zdap-proxyd forwards to it, psql queries through the proxy.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <boost/json.hpp>

#include "e2e/zdapd_fixture.h"

using namespace zdap::test;

TEST_CASE("attach with the CLI, query through zdap-proxyd, detach leaves the project as it was") {
  ZdapdFixture d;
  REQUIRE(d.Host("refresh chinook") == 0);
  // A clone on a non-loopback address needs token authentication (zdapd refuses it in open mode).
  d.UseTokens({"alice"});
  ::setenv("ZDAPD_CLONE_BIND", "0.0.0.0", 1);  // the proxy container needs a reachable clone
  d.Start();
  ::unsetenv("ZDAPD_CLONE_BIND");
  TempDir project("zdap-project");
  std::string base = SourceDir() + "/compose-examples/chinook/docker-compose.yml";
  REQUIRE(Shell("cp " + base + " " + project.path() + "/") == 0);
  std::string zdap = "cd " + project.path() + " && ZDAP_CONFIG=" + project.path() + "/user.yaml " +
                     ProgramPath("apps/zdap/zdap") + " ";
  // Runs zdap, requires success; the message is captured after the output is in.
  auto run = [&](const std::string& args) {
    std::string out;
    int rc = Shell(zdap + args, &out);
    INFO("zdap " << args << ": " << out);
    REQUIRE(rc == 0);
    return out;
  };
  run("origin add " + d.Url() + " --token " + d.Token("alice"));
  run("user set alice");
  run("init");
  CHECK(run("attach chinook --service db").find("attached chinook") != std::string::npos);

  std::string target;
  Shell("sed -n 's/^ *target: *//p' " + project.path() + "/.zdap.yaml", &target);
  while (!target.empty() && target.back() == '\n') target.pop_back();
  REQUIRE_FALSE(target.empty());

  // The attached clone's own password (the resource's one opens no clone).
  std::string list;
  REQUIRE(d.Call("GET", "/v1/clones", "", &list) == 200);
  auto clones = boost::json::parse(list).at("clones").as_array();
  REQUIRE(clones.size() == 1);
  std::string password(clones[0].at("password").as_string());

  int listen = FreeTcpPort();
  pid_t proxy = ::fork();
  if (proxy == 0) {
    std::string bin = ProgramPath("proxy/zdap-proxyd");
    std::string l = "127.0.0.1:" + std::to_string(listen);
    std::freopen("/dev/null", "w", stderr);
    ::execl(bin.c_str(), bin.c_str(), "--listen", l.c_str(), "--target", target.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string count;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    count.clear();
    if (Psql(listen, password, "select count(*) from invoice_line", &count) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(proxy, SIGTERM);
  int st;
  ::waitpid(proxy, &st, 0);
  CHECK(count == "2240\n");

  // The override file did not exist before attach; detach removes it and the clone again.
  REQUIRE(Shell("test -f " + project.path() + "/docker-compose.override.yml") == 0);
  run("detach db");
  CHECK(Shell("test -e " + project.path() + "/docker-compose.override.yml") != 0);
  std::string body;
  REQUIRE(d.Call("GET", "/v1/clones", "", &body) == 200);
  CHECK(body == "{\"clones\":[]}\n");
  CHECK_FALSE(ServersRunUnder(d.data_dir() + "/store/clones/"));
}
