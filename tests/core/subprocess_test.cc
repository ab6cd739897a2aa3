#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/subprocess.h"

using namespace zdap;

namespace {

// Options with just argv set (designated initializers would warn about the other members).
SpawnOptions Argv(std::vector<std::string> argv) {
  SpawnOptions o;
  o.argv = std::move(argv);
  return o;
}

SpawnOptions WithCwd(SpawnOptions o, std::string cwd) {
  o.cwd = std::move(cwd);
  return o;
}

}  // namespace

TEST_CASE("Run captures output and the exit status") {
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = Run(o);
  REQUIRE(r.ok());
  CHECK_FALSE(r->ok());
  CHECK(DescribeWaitStatus(r->wait_status) == "exited with status 3");
  CHECK(r->output.find("out") != std::string::npos);
  CHECK(r->output.find("err") != std::string::npos);
}

TEST_CASE("Run passes env without argv and does not inherit the parent's by default") {
  ::setenv("ZDAP_TEST_PARENT_ONLY", "1", 1);
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo \"[$SECRET][$ZDAP_TEST_PARENT_ONLY]\""};
  o.env = {"SECRET=s3cret"};
  auto r = Run(o);
  REQUIRE(r.ok());
  CHECK(r->output == "[s3cret][]\n");
}

TEST_CASE("a missing program is a clear error, not a crash") {
  SpawnOptions o;
  o.argv = {"zdap-no-such-program"};
  auto r = Run(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("zdap-no-such-program") != std::string::npos);
}

TEST_CASE("Run kills the whole process group on timeout") {
  SpawnOptions o;
  o.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  auto r = Run(o, std::chrono::milliseconds(200));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
}

TEST_CASE("a program that cannot be executed names the step and the reason") {
  char dir[] = "/tmp/zdap-subprocess-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string script = std::string(dir) + "/not-executable";
  REQUIRE(Run(Argv({"sh", "-c", "echo 'exit 0' > " + script})).ok());
  auto r = Run(Argv({script}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "cannot run " + script + ": " + script + ": Permission denied");
  auto bad_cwd = Run(WithCwd(Argv({"true"}), std::string(dir) + "/missing"));
  REQUIRE_FALSE(bad_cwd.ok());
  CHECK(bad_cwd.status().message() == "cannot run true: chdir: No such file or directory");
  REQUIRE(Run(Argv({"rm", "-r", dir})).ok());
}

TEST_CASE("the child gets cwd, stdin, an output file, its own group and no parent fds") {
  char dir[] = "/tmp/zdap-subprocess-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string in = std::string(dir) + "/in", out = std::string(dir) + "/out";
  REQUIRE(Run(Argv({"sh", "-c", "echo from-stdin > " + in})).ok());
  int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  REQUIRE(leaked >= 0);
  SpawnOptions o;
  o.argv = {"sh", "-c",
            // ls, exec'd by the shell (same process, no pipeline whose ends the shell would
            // hold meanwhile: "0 1 2 4" failed a run), lists its fds: 0-2 and its own
            // directory fd, which takes the lowest free number: 3 unless one leaked.
            "pwd; cat; ps -o pgid= -p $$ | tr -d ' '; echo $$; exec ls /proc/self/fd"};
  o.cwd = dir;
  o.stdin_path = in;
  o.output_path = out;
  auto child = Subprocess::Spawn(o);
  ::close(leaked);
  REQUIRE(child.ok());
  auto st = child->Wait();
  REQUIRE(st.ok());
  CHECK(ExitedZero(*st));
  auto text = Run(Argv({"cat", out}));
  REQUIRE(text.ok());
  std::string pid = std::to_string(child->pid());
  CHECK(text->output == std::string(dir) + "\nfrom-stdin\n" + pid + "\n" + pid + "\n0\n1\n2\n3\n");
  REQUIRE(Run(Argv({"rm", "-r", dir})).ok());
}

TEST_CASE("run_as drops uid, gid and groups in the child only, on every thread of the parent") {
  auto nobody = LookupUser("nobody");
  REQUIRE(nobody.ok());
  REQUIRE(::geteuid() == 0);  // tests run as root
  std::thread other([] { std::this_thread::sleep_for(std::chrono::milliseconds(300)); });
  SpawnOptions o;
  o.argv = {"sh", "-c", "id -u; id -g; id -G; echo $HOME $USER"};
  o.run_as = *nobody;
  auto r = Run(o);
  other.join();
  REQUIRE(r.ok());
  CHECK(r->ok());
  CHECK(r->output == fmt::format("{}\n{}\n{}\n{} nobody\n", nobody->uid, nobody->gid, nobody->gid,
                                 nobody->home));
  // The child shares the parent's memory until exec: no credential change may leak back.
  CHECK(::getuid() == 0);
  CHECK(::geteuid() == 0);
  CHECK(::getgid() == 0);
  auto tasks = Run(Argv(
      {"sh", "-c", fmt::format("grep -h '^Uid:' /proc/{}/task/*/status | sort -u", ::getpid())}));
  REQUIRE(tasks.ok());
  CHECK(tasks->output == "Uid:\t0\t0\t0\t0\n");
}

TEST_CASE("the child starts with no blocked signals and default handlers") {
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &usr1, &old);
  auto previous_pipe = ::signal(SIGPIPE, SIG_IGN);
  auto r = Run(Argv({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
  ::signal(SIGPIPE, previous_pipe);
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  REQUIRE(r.ok());
  CHECK(r->output == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_CASE("many threads spawn at once") {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = Run(Argv({"sh", "-c", "echo $0", std::to_string(t * 100 + i)}));
        ok += r.ok() && r->ok() && r->output == std::to_string(t * 100 + i) + "\n";
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 80);
}
