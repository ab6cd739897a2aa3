// zdap-proxyd: the TCP proxy of a compose project's database service (SPEC "Proxy").
// Exit codes: 0 ok (also after a graceful shutdown), 1 failure (e.g. cannot listen), 2 usage.
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/version.h"
#include "proxy/config.h"
#include "proxy/healthcheck_command.h"
#include "proxy/server.h"

int main(int argc, char** argv) {
  using zdap::proxy::ProxyConfig;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = zdap::proxy::ParseCommandLine(args, zdap::proxy::ProcessEnv());
  if (!config.ok()) {
    std::fprintf(stderr, "zdap-proxyd: %s\n", config.status().message().c_str());
    return 2;
  }
  switch (config->command) {
    case ProxyConfig::Command::kHelp:
      std::fputs(zdap::proxy::Usage().c_str(), stdout);
      return 0;
    case ProxyConfig::Command::kVersion:
      std::puts("zdap-proxyd " ZDAP_VERSION);
      return 0;
    case ProxyConfig::Command::kHealthcheck:
      return zdap::proxy::RunHealthcheck(*config);
    case ProxyConfig::Command::kRun:
      break;
  }
  zdap::log::SetLevel(config->log_level);
  ::signal(SIGPIPE, SIG_IGN);

  zdap::proxy::Server server(std::move(*config));
  zdap::Status st = server.Bind();
  if (!st.ok()) {
    std::fprintf(stderr, "zdap-proxyd: %s\n", st.message().c_str());
    return 1;
  }
  st = server.Run(/*handle_signals=*/true);
  if (!st.ok()) {
    std::fprintf(stderr, "zdap-proxyd: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
