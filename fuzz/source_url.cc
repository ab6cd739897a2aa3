// libFuzzer target: live source URLs (config/source_url.h). A URL that parses has a host, a
// port in range and no password, and its printed form (ToString) parses to the same parts.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/source_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto u = zdap::config::ParseSourceUrl(text);
  if (!u.ok()) {
    if (u.status().message().empty()) std::abort();
    return 0;
  }
  if (u->host.empty() || u->port < 1 || u->port > 65535) std::abort();
  if (u->user.find(':') != std::string::npos) std::abort();
  auto again = zdap::config::ParseSourceUrl(u->ToString());
  if (!again.ok() || again->family != u->family || again->user != u->user ||
      again->host != u->host || again->port != u->port || again->database != u->database) {
    std::abort();
  }
  return 0;
}
