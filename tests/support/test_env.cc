#include "support/test_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <stdexcept>

namespace zdap::test {

TempDir::TempDir(const std::string& prefix) {
  const char* base = ::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
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

}  // namespace zdap::test
