// libFuzzer target: origin URLs (net/http_url.h). A URL that parses prints in a canonical
// form that parses again to the same URL (ToString is a fixed point).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/http_url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto u = zdap::net::ParseHttpUrl(text);
  if (!u.ok()) {
    if (u.status().message().empty()) std::abort();
    return 0;
  }
  std::string canonical = u->ToString();
  auto again = zdap::net::ParseHttpUrl(canonical);
  if (!again.ok() || again->ToString() != canonical) std::abort();
  return 0;
}
