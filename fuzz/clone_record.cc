// libFuzzer target: catalog clone records (catalog/clone_record.h), the files zdapd reads back
// at start. A record that parses serialises to text that parses to the same record.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "catalog/clone_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = zdap::catalog::ParseRecord(text);
  if (!r.ok()) {
    if (r.status().message().empty()) std::abort();
    return 0;
  }
  std::string once = zdap::catalog::SerializeRecord(*r);
  auto back = zdap::catalog::ParseRecord(once);
  if (!back.ok() || zdap::catalog::SerializeRecord(*back) != once) std::abort();
  if (back->id != r->id || back->port != r->port || back->state != r->state) std::abort();
  return 0;
}
