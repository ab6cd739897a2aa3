// "Did you mean ...?": the closest known word to a mistyped one, by edit distance.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zdap::cli {

// Levenshtein distance (insert, delete, substitute; each costs 1).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a typo (at most 2 edits, and
// fewer edits than the word has letters), else "". Ties go to the earlier candidate.
std::string Closest(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean attach?" for a close candidate, else "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace zdap::cli
