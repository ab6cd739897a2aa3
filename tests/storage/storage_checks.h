// Small checks and file helpers shared by the storage tests (conformance_test.cc,
// stream_test.cc): each REQUIREs what it needs, so a failure names the path or the status.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace zdap::storage::test_checks {

using Names = std::vector<std::string>;

inline void MustOk(const Status& st) {
  INFO(st.ToString());
  REQUIRE(st.ok());
}

template <typename T>
T Must(Result<T> r) {
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  INFO(path);
  REQUIRE(f.good());
}

inline std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  INFO(path);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every entry of a directory, hidden ones included, sorted.
inline Names AllEntries(const std::string& dir) {
  Names names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace zdap::storage::test_checks
