// libFuzzer target: `zfs ... -H -p` output (storage/zfs_driver.h). Table rows never hold a tab
// or newline and are never empty; the space, user-property and byte parsers return a value or
// an error on any text.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "storage/zfs_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (64 << 10)) return 0;
  std::string out(reinterpret_cast<const char*>(data), size);
  for (const auto& row : zdap::storage::ParseZfsTable(out)) {
    if (row.empty()) std::abort();
    for (const auto& field : row) {
      if (field.find('\t') != std::string::npos || field.find('\n') != std::string::npos) {
        std::abort();
      }
    }
  }
  auto space = zdap::storage::ParseZfsSpace(out);
  if (!space.ok() && space.status().message().empty()) std::abort();
  auto props = zdap::storage::ParseZfsUserProps(out);
  if (!props.ok() && props.status().message().empty()) std::abort();
  auto bytes = zdap::storage::ParseZfsBytes(out);
  if (!bytes.ok() && bytes.status().message().empty()) std::abort();
  return 0;
}
