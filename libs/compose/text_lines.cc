#include "compose/text_lines.h"

namespace zdap::compose {
namespace {

size_t TerminatorLength(const std::string& line) {
  if (line.size() >= 2 && line.compare(line.size() - 2, 2, "\r\n") == 0) return 2;
  if (!line.empty() && line.back() == '\n') return 1;
  return 0;
}

}  // namespace

TextLines::TextLines(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines_.emplace_back(text.substr(start, end - start));
    start = end;
  }
  eol_ = !lines_.empty() && TerminatorLength(lines_[0]) == 2 ? "\r\n" : "\n";
}

std::string_view TextLines::Trimmed(size_t i) const {
  std::string_view s = lines_[i];
  s.remove_suffix(TerminatorLength(lines_[i]));
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t TextLines::Indent(size_t i) const {
  size_t n = 0;
  while (n < lines_[i].size() && lines_[i][n] == ' ') ++n;
  return n;
}

bool TextLines::HasTerminator(size_t i) const {
  return TerminatorLength(lines_[i]) > 0;
}

void TextLines::Insert(size_t at, const std::vector<std::string>& new_lines) {
  if (new_lines.empty()) return;
  std::vector<std::string> block = new_lines;
  if (at == lines_.size() && !lines_.empty() && !HasTerminator(lines_.size() - 1)) {
    lines_.back() += eol_;
    std::string& last = block.back();
    last.resize(last.size() - TerminatorLength(last));
  }
  lines_.insert(lines_.begin() + static_cast<std::ptrdiff_t>(at), block.begin(), block.end());
}

void TextLines::Remove(size_t first, size_t last) {
  bool strip_previous = last + 1 == lines_.size() && !HasTerminator(last) && first > 0;
  lines_.erase(lines_.begin() + static_cast<std::ptrdiff_t>(first),
               lines_.begin() + static_cast<std::ptrdiff_t>(last) + 1);
  if (strip_previous) {
    std::string& prev = lines_[first - 1];
    prev.resize(prev.size() - TerminatorLength(prev));
  }
}

std::string TextLines::Join() const {
  std::string out;
  for (const auto& l : lines_) out += l;
  return out;
}

}  // namespace zdap::compose
