// libFuzzer target: durations and timestamps (core/time.h). A duration that parses formats
// to text that parses to the same duration; RFC 3339 and compact UTC times that parse format
// and parse back to the same instant (to the second).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = zdap::ParseDuration(text); d.ok()) {
    if (d->count() < 0) std::abort();
    auto back = zdap::ParseDuration(zdap::FormatDuration(*d));
    if (!back.ok() || *back != *d) std::abort();
  }
  using std::chrono::floor;
  using std::chrono::seconds;
  if (auto t = zdap::ParseRfc3339(text); t.ok()) {
    auto back = zdap::ParseRfc3339(zdap::FormatRfc3339(*t));
    if (!back.ok() || floor<seconds>(*back) != floor<seconds>(*t)) std::abort();
  }
  if (auto t = zdap::ParseCompactUtc(text); t.ok()) {
    auto back = zdap::ParseCompactUtc(zdap::FormatCompactUtc(*t));
    if (!back.ok() || *back != *t) std::abort();
  }
  return 0;
}
