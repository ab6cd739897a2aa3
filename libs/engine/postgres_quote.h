// PostgreSQL's quoting, for the few statements the engine builds from names it was given (a
// role, a database): an identifier in double quotes, a literal in single quotes
// (standard_conforming_strings, on since 9.1: a backslash is an ordinary character).
#pragma once

#include <string>

namespace zdap::engine {

inline std::string PgQuoted(const std::string& s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}
inline std::string PgIdent(const std::string& s) {
  return PgQuoted(s, '"');
}
inline std::string PgLiteral(const std::string& s) {
  return PgQuoted(s, '\'');
}

}  // namespace zdap::engine
