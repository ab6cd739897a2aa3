// with_ports COUNT COMMAND [ARGS...]: runs COMMAND with COUNT TCP ports on 127.0.0.1 reserved
// for it the way every test reserves them (support/test_ports.h), listed in the environment
// as ZDAP_TEST_PORTS="P1 P2 ...". For tests written as scripts: the ports stay reserved until
// COMMAND exits, this program exits with COMMAND's status, and SIGTERM or SIGINT (ctest's
// timeout, ^C) is passed on to COMMAND so that its own clean-up runs.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "support/test_ports.h"

namespace {

volatile sig_atomic_t child_pid = 0;

void PassOn(int sig) {
  if (child_pid > 0) ::kill(child_pid, sig);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || std::atoi(argv[1]) < 1) {
    std::fprintf(stderr, "usage: with_ports COUNT COMMAND [ARGS...]\n");
    return 2;
  }
  try {
    zdap::test::PortBlock ports(std::atoi(argv[1]));
    std::string list;
    for (int p = ports.first(); p <= ports.last(); ++p) {
      list += (list.empty() ? "" : " ") + std::to_string(p);
    }
    ::setenv("ZDAP_TEST_PORTS", list.c_str(), 1);
    struct sigaction sa {};
    sa.sa_handler = PassOn;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("with_ports: fork");
      return 1;
    }
    if (pid == 0) {
      ::execvp(argv[2], argv + 2);
      std::perror("with_ports: exec");
      _exit(127);
    }
    child_pid = pid;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        std::perror("with_ports: waitpid");
        return 1;
      }
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "with_ports: %s\n", e.what());
    return 1;
  }
}
