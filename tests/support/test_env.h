// Helpers shared by the test executables: temp dirs, paths of built programs and fixtures.
#pragma once

#include <string>

namespace zdap::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "zdap-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string SourceDir();  // repository root
std::string BinaryDir();  // build directory
std::string ProgramPath(
    const std::string& rel);  // BinaryDir() + "/" + rel, e.g. "proxy/zdap-proxyd"
std::string ChinookDir();     // directory with the Chinook dumps and LICENSE

// Runs `command` with /bin/sh -c, returns its exit status and puts stdout+stderr in *output.
int Shell(const std::string& command, std::string* output = nullptr);

// Ends a process the test started in the background through Shell (a shell's job, so not a
// child it can wait for): SIGTERM, up to 10 s for it to go, then SIGKILL. Never waits longer.
void StopBackgroundProcess(int pid);

}  // namespace zdap::test
