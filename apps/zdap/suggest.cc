#include "zdap/suggest.h"

#include <algorithm>
#include <numeric>

namespace zdap::cli {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Closest(std::string_view word, const std::vector<std::string>& candidates) {
  // Words are short; a very long one is no typo of a verb and not worth the quadratic cost.
  if (word.empty() || word.size() > 64) return "";
  std::string best;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    if (c.size() > 64) continue;
    size_t d = EditDistance(word, c);
    if (d < best_distance && d < word.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string c = Closest(word, candidates);
  return c.empty() ? "" : "; did you mean " + c + "?";
}

}  // namespace zdap::cli
