#include "support/test_env.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace zdap::test {

TempDir::TempDir(const std::string& prefix) {
  const char* base = ::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

namespace {

// Mount points at or below `dir` (overlay clones, loop file systems a test left mounted),
// deepest first, so remove_all does not stop at the first busy mount and leak the tree.
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> mounts;
  std::ifstream in("/proc/self/mounts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string source, target;
    fields >> source >> target;
    if (target == dir || target.rfind(dir + "/", 0) == 0) mounts.push_back(target);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return mounts;
}

}  // namespace

TempDir::~TempDir() {
  // Lazy detach: a server still shutting down may hold the mount for a moment.
  for (const auto& mount : MountsUnder(path_)) ::umount2(mount.c_str(), MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string SourceDir() {
  return ZDAP_SOURCE_DIR;
}
std::string BinaryDir() {
  return ZDAP_BINARY_DIR;
}
std::string ProgramPath(const std::string& rel) {
  return BinaryDir() + "/" + rel;
}
std::string ChinookDir() {
  return SourceDir() + "/compose-examples/chinook/zdap/dumps";
}

int Shell(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = ::fread(buf.data(), 1, buf.size(), f)) > 0) {
    if (output) output->append(buf.data(), n);
  }
  int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void StopBackgroundProcess(int pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) {  // 10 s in 20 ms steps
    if (::kill(pid, 0) != 0) return;
    ::usleep(20000);
  }
  ::kill(pid, SIGKILL);
}

}  // namespace zdap::test
