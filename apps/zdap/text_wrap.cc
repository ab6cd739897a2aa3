#include "zdap/text_wrap.h"

#include <vector>

namespace zdap::cli {
namespace {

// The words of `text`: runs between spaces outside square brackets.
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  int depth = 0;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ' ';
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    bool breaks = c == ' ' && (depth == 0 || i == text.size());
    if (!breaks && start == std::string_view::npos) start = i;
    if (breaks && start != std::string_view::npos) {
      words.push_back(text.substr(start, i - start));
      start = std::string_view::npos;
    }
  }
  return words;
}

}  // namespace

std::string WrapWords(std::string_view text, size_t width, size_t indent, size_t first_column) {
  std::string out;
  size_t column = first_column;
  bool line_empty = true;
  for (std::string_view word : Words(text)) {
    if (!line_empty && column + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      column = indent;
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_empty = false;
  }
  return out;
}

}  // namespace zdap::cli
