#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/file_util.h"
#include "support/test_env.h"

using namespace zdap;
using zdap::test::TempDir;

TEST_CASE("ReplaceFile swaps the whole content in, with exactly the mode asked for") {
  TempDir dir("replace-file");
  std::string path = dir.path() + "/pg_hba.conf";
  REQUIRE(ReplaceFile(path, "first\n", 0600).ok());
  CHECK(ReadFile(path).value() == "first\n");
  ::umask(077);
  REQUIRE(ReplaceFile(path, "second, longer\n", 0644).ok());
  ::umask(022);
  CHECK(ReadFile(path).value() == "second, longer\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
  // No temporary file is left next to it.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("ReplaceFile into a missing directory fails and names the path") {
  TempDir dir("replace-file-missing");
  Status st = ReplaceFile(dir.path() + "/no/such/file", "x", 0600);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find(dir.path() + "/no/such") != std::string::npos);
}
