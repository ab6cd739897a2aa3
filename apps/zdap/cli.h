// The zdap command line: verb dispatch, help, and exit codes (0 ok, 1 failure, 2 usage).
#pragma once

#include <string>
#include <vector>

namespace zdap::cli {

// Runs `zdap <args...>` (args without the program name); returns the exit code.
int Run(const std::vector<std::string>& args);
int Main(int argc, char** argv);

}  // namespace zdap::cli
