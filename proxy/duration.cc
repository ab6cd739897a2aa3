#include "proxy/duration.h"

#include <fmt/format.h>

#include <cstdint>

#include "proxy/address.h"

namespace zdap::proxy {

Result<std::chrono::milliseconds> ParseMillis(std::string_view text) {
  constexpr int64_t kMax = int64_t{24} * 3600 * 1000;
  auto bad = [&] {
    return InvalidArgument(fmt::format(
        "{} is not a duration: use a number and a unit, like 500ms, 2s, 1m or 0", Quote(text)));
  };
  if (text.empty() || text.size() > 32) return bad();
  if (text == "0") return std::chrono::milliseconds(0);
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMax) return bad();
      ++i;
      ++digits;
    }
    if (digits == 0 || i >= text.size()) return bad();
    int64_t unit;
    if (text.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (text[i] == 's') {
      unit = 1000;
      ++i;
    } else if (text[i] == 'm') {
      unit = 60 * 1000;
      ++i;
    } else if (text[i] == 'h') {
      unit = 3600 * 1000;
      ++i;
    } else {
      return bad();
    }
    if (n > kMax / unit) return bad();
    total += n * unit;
    if (total > kMax) return bad();
  }
  return std::chrono::milliseconds(total);
}

std::string FormatMillis(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  return fmt::format("{}s", ms / 1000);
}

}  // namespace zdap::proxy
