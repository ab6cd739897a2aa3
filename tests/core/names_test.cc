#include <catch2/catch.hpp>

#include "core/names.h"

using namespace zdap;

TEST_CASE("names follow SPEC's pattern") {
  CHECK(IsValidName("chinook"));
  CHECK(IsValidName("a"));
  CHECK(IsValidName("chinook-7f3a"));
  CHECK(IsValidName("0abc"));
  CHECK(IsValidName(std::string(63, 'a')));
  CHECK_FALSE(IsValidName(std::string(64, 'a')));
  CHECK_FALSE(IsValidName(""));
  CHECK_FALSE(IsValidName("-a"));
  CHECK_FALSE(IsValidName("Chinook"));
  CHECK_FALSE(IsValidName("a_b"));
  CHECK_FALSE(IsValidName("../etc"));
  CHECK_FALSE(IsValidName("a/b"));
  CHECK_FALSE(IsValidName(std::string("a\0b", 3)));
  auto s = ValidateName("clone", "Bad Name");
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("clone name 'Bad Name'") != std::string::npos);
}

TEST_CASE("snapshot ids are <resource>@<stamp>") {
  SnapshotId id;
  REQUIRE(ParseSnapshotId("chinook@20261122T030405Z", &id).ok());
  CHECK(id.resource == "chinook");
  CHECK(id.stamp == "20261122T030405Z");
  CHECK(id.ToString() == "chinook@20261122T030405Z");
  CHECK_FALSE(ParseSnapshotId("chinook", &id).ok());
  CHECK_FALSE(ParseSnapshotId("../x@20261122T030405Z", &id).ok());
  CHECK_FALSE(ParseSnapshotId("chinook@2026", &id).ok());
  CHECK_FALSE(ParseSnapshotId("chinook@20261122T030405Z/../../x", &id).ok());
}
