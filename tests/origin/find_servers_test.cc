// ProcessRuntime::ListServers finds a server by /proc alone (no pid file, no record), from
// the moment it runs in its data dir; Stop ends its whole process group.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "core/file_util.h"
#include "core/subprocess.h"
#include "runtime/runtime.h"
#include "support/test_env.h"

using namespace zdap;

namespace {

bool Listed(runtime::ProcessRuntime& rt, pid_t pid, const std::string& data_dir) {
  auto found = rt.ListServers();
  REQUIRE(found.ok());
  for (const auto& f : *found) {
    if (f.handle.pid == pid) {
      CHECK(f.data_dir == data_dir);
      return true;
    }
  }
  return false;
}

bool Gone(pid_t pid) {
  int st;
  ::waitpid(pid, &st, WNOHANG);
  return ::kill(pid, 0) != 0;
}

}  // namespace

TEST_CASE("a process-group leader running in a data dir under the scope is found and stopped") {
  test::TempDir dir("zdap-find");
  std::string store = std::filesystem::canonical(dir.path()).string() + "/store";
  std::string data_dir = store + "/clones/c1";
  std::string elsewhere = dir.path() + "/elsewhere";
  REQUIRE(MakeDirs(data_dir).ok());
  REQUIRE(MakeDirs(elsewhere).ok());
  runtime::ProcessRuntime rt(std::nullopt, store);

  // The argv does not name the data dir (as between fork and exec): the cwd must do.
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "sleep 60 & wait"};
  o.cwd = data_dir;
  o.new_process_group = true;
  auto server = Subprocess::Spawn(o);
  REQUIRE(server.ok());
  o.cwd = elsewhere;
  auto stranger = Subprocess::Spawn(o);
  REQUIRE(stranger.ok());
  pid_t pid = server->pid();

  // The child reaches its cwd just after the fork: bounded poll.
  bool listed = false;
  for (int i = 0; i < 200 && !listed; ++i) {
    listed = Listed(rt, pid, data_dir);
    if (!listed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(listed);
  CHECK_FALSE(Listed(rt, stranger->pid(), elsewhere));
  runtime::ServerHandle h;
  h.pid = pid;
  CHECK(rt.Owns(h, data_dir));
  CHECK_FALSE(rt.Owns(h, elsewhere));

  // SIGTERM to sh leaves its sleep behind; Stop takes the whole group.
  auto group_alive = [&] { return ::kill(-pid, 0) == 0; };
  REQUIRE(group_alive());
  REQUIRE(rt.Stop(h, data_dir, SIGKILL, std::chrono::seconds(5)).ok());
  CHECK(Gone(pid));
  bool group_gone = false;
  for (int i = 0; i < 200 && !group_gone; ++i) {
    group_gone = !group_alive();
    if (!group_gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(group_gone);
  CHECK_FALSE(Listed(rt, pid, data_dir));

  // Not a server of ours: Stop leaves it alone.
  runtime::ServerHandle other;
  other.pid = stranger->pid();
  REQUIRE(rt.Stop(other, data_dir, SIGKILL, std::chrono::seconds(1)).ok());
  CHECK_FALSE(Gone(stranger->pid()));
  stranger->Signal(SIGKILL);
  (void)stranger->Wait();
}

TEST_CASE("without a scope nothing is listed") {
  runtime::ProcessRuntime rt(std::nullopt, "");
  auto found = rt.ListServers();
  REQUIRE(found.ok());
  CHECK(found->empty());
}
