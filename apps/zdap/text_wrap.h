// Help text wrapped to a terminal's 80 columns: `zdap --help` and `zdap VERB --help` are
// generated from the verb registry, so their lines are as long as what each verb declares.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zdap::cli {

inline constexpr size_t kHelpColumns = 80;

// `text` broken at spaces into lines of at most `width` columns, the first starting at column
// `first_column` (what the caller has printed on it already), the others indented by
// `indent` spaces; joined with "\n", no final newline. A bracketed group ("[--balance
// first|roundrobin]") is kept on one line, and a word longer than a line stands alone.
std::string WrapWords(std::string_view text, size_t width, size_t indent, size_t first_column);

}  // namespace zdap::cli
