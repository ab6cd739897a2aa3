#include "proxy/duration.h"

#include <fmt/format.h>

#include <cstdint>

#include "core/time.h"
#include "proxy/address.h"

namespace zdap::proxy {

Result<std::chrono::milliseconds> ParseMillis(std::string_view text) {
  constexpr int64_t kMax = int64_t{24} * 3600 * 1000;
  if (text == "0") return std::chrono::milliseconds(0);
  std::optional<int64_t> total;
  if (text.size() <= 32) {
    total = SumDurationTerms(text, {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}},
                             kMax);
  }
  if (!total) {
    return InvalidArgument(fmt::format(
        "{} is not a duration: use a number and a unit, like 500ms, 2s, 1m or 0", Quote(text)));
  }
  return std::chrono::milliseconds(*total);
}

std::string FormatMillis(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  return fmt::format("{}s", ms / 1000);
}

}  // namespace zdap::proxy
