#include "core/quote.h"

#include <fmt/format.h>

namespace zdap {

std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : text) {
    if (n == kMax) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
    ++n;
  }
  out += "'";
  return out;
}

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  for (unsigned char c : text.substr(0, max)) {
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

}  // namespace zdap
