#include "core/human_bytes.h"

#include <fmt/format.h>

#include <iterator>

namespace zdap {

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(fmt::format(
        "'{}' is not a byte count: use a whole number with an optional unit, like 100MB, "
        "512KiB or 1GB (kB MB GB TB are powers of 1000; KiB MiB GiB TiB of 1024)",
        text.substr(0, 40)));
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 19) return bad();
  uint64_t n = 0;
  for (size_t i = 0; i < digits; ++i) n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  std::string_view rest = text.substr(digits);
  if (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);  // "100 MB"; but not "100 "
    if (rest.empty()) return bad();
  }
  std::string unit;
  for (char c : rest) unit += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  struct Unit {
    const char* name;
    uint64_t factor;
  };
  constexpr Unit kUnits[] = {{"", 1},
                             {"b", 1},
                             {"kb", 1000},
                             {"mb", 1000000},
                             {"gb", 1000000000},
                             {"tb", 1000000000000},
                             {"kib", 1ull << 10},
                             {"mib", 1ull << 20},
                             {"gib", 1ull << 30},
                             {"tib", 1ull << 40}};
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (n > (uint64_t{1} << 63) / u.factor) return bad();
    return n * u.factor;
  }
  return bad();
}

}  // namespace zdap
