// libFuzzer target: resource files (config/resource.h). Any text gives a Resource or an error
// with a message; a parsed resource has a valid name, a known engine and a port in range, and
// parsing the same text again gives the same result (no hidden state).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/resource.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = zdap::config::ParseResource("/etc/zdap/resources/fuzz.yaml", text, "/etc/zdap");
  if (!r.ok()) {
    if (r.status().message().empty()) std::abort();
    return 0;
  }
  if (r->name.empty() || (r->engine != "postgres" && r->engine != "mariadb")) std::abort();
  if (r->DefaultPort() <= 0) std::abort();
  auto again = zdap::config::ParseResource("/etc/zdap/resources/fuzz.yaml", text, "/etc/zdap");
  if (!again.ok() || again->name != r->name || again->engine != r->engine) std::abort();
  return 0;
}
