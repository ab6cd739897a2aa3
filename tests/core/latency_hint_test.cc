#include <sys/syscall.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/latency_hint.h"
#include "core/subprocess.h"

using namespace zdap;

namespace {

// The nice value (field 19) of a task from /proc/<pid>/task/<tid>/stat.
int NiceOf(pid_t pid, pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 19; ++i) rest >> field;
  REQUIRE_FALSE(field.empty());
  return std::stoi(field);
}

// "se.slice" in /proc/self/task/<tid>/sched, in nanoseconds.
long SliceOf(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/sched");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("se.slice", 0) == 0) return std::stol(line.substr(line.find(':') + 1));
  }
  FAIL("no se.slice in /proc/self/task/" << tid << "/sched");
  return -1;
}

}  // namespace

TEST_CASE("PreferLowLatency sets the calling thread's nice and slice, not its children's") {
  REQUIRE(::geteuid() == 0);  // tests run as root: a negative nice is allowed
  // The suite may itself run under `nice`: compare with the nice it started with.
  const int inherited = NiceOf(::getpid(), ::getpid());
  std::thread t([] {
    pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
    Status st = PreferLowLatency(-10, std::chrono::microseconds(100));
    REQUIRE(st.ok());
    CHECK(NiceOf(::getpid(), tid) == -10);
    CHECK(SliceOf(tid) == 100000);
    // A process this thread starts keeps the default nice (SCHED_FLAG_RESET_ON_FORK).
    SpawnOptions o;
    o.argv = {"sh", "-c", "cut -d')' -f2 /proc/$$/stat | cut -d' ' -f18"};
    auto r = Run(o);
    REQUIRE(r.ok());
    CHECK(r->output == "0\n");
  });
  t.join();
  // Only that thread: the main thread is untouched.
  CHECK(NiceOf(::getpid(), ::getpid()) == inherited);
}
