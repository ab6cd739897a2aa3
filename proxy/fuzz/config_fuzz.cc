// libFuzzer target: the command-line/environment parser and the YAML parser must return a
// Status (never crash, hang or throw) on any input, and errors stay on one line.
// Input: NUL-separated arguments; a first byte 'Y' feeds the rest to the YAML parser instead.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proxy/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && in[0] == 'Y') {
    zdap::proxy::ProxyConfig c;
    zdap::Status st = zdap::proxy::ParseYamlConfig(in.substr(1), "fuzz.yaml", &c);
    if (!st.ok() && st.message().find('\n') != std::string::npos) std::abort();
    return 0;
  }
  std::vector<std::string> args;
  size_t start = 0;
  while (start <= in.size() && args.size() < 300) {
    size_t end = in.find('\0', start);
    if (end == std::string_view::npos) end = in.size();
    args.emplace_back(in.substr(start, end - start));
    start = end + 1;
  }
  zdap::proxy::EnvironmentVariables env;
  // Reuse the first two arguments as LISTEN_PORT and TARGET_ADDRESS too.
  if (args.size() > 2) {
    env["LISTEN_PORT"] = args[0];
    env["TARGET_ADDRESS"] = args[1];
  }
  for (size_t skip_config = 0; skip_config < args.size(); ++skip_config) {
    // --config and --token-file would read files: not here.
    if (args[skip_config].find("config") != std::string::npos ||
        args[skip_config].find("file") != std::string::npos) {
      return 0;
    }
  }
  auto r = zdap::proxy::ParseCommandLine(args, env);
  if (!r.ok() && r.status().message().find('\n') != std::string::npos) std::abort();
  return 0;
}
