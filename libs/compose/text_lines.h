// TextLines: a text split into lines that keep their own terminators ("\n", "\r\n", or none
// on a last line), so that joining them gives back the exact bytes. The override editor works
// on these to change one region of a file and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace zdap::compose {

class TextLines {
 public:
  explicit TextLines(std::string_view text);

  size_t size() const { return lines_.size(); }
  const std::string& line(size_t i) const { return lines_[i]; }
  // The line without its terminator and without leading/trailing blanks.
  std::string_view Trimmed(size_t i) const;
  // Number of leading spaces.
  size_t Indent(size_t i) const;
  bool HasTerminator(size_t i) const;

  // The terminator the file uses: "\r\n" when its first line ends so, else "\n".
  const std::string& eol() const { return eol_; }

  // Inserts complete lines (each ending in eol()) before line `at` (size() = append). When
  // appending after a last line that has no terminator, that line gets one and the last
  // inserted line loses its own, so the file still ends without a terminator.
  void Insert(size_t at, const std::vector<std::string>& new_lines);
  // Removes lines [first, last]. When `last` is the final line and has no terminator, the
  // line before `first` loses its terminator: the exact inverse of Insert at the end.
  void Remove(size_t first, size_t last);

  std::string Join() const;

 private:
  std::vector<std::string> lines_;
  std::string eol_;
};

}  // namespace zdap::compose
