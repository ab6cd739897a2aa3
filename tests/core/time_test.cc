#include <catch2/catch.hpp>

#include "core/time.h"

using namespace zdap;
using std::chrono::seconds;

TEST_CASE("durations parse the units resource files use") {
  CHECK(ParseDuration("90s").value() == seconds(90));
  CHECK(ParseDuration("30m").value() == seconds(1800));
  CHECK(ParseDuration("8h").value() == seconds(8 * 3600));
  CHECK(ParseDuration("7d").value() == seconds(7 * 86400));
  CHECK(ParseDuration("1h30m").value() == seconds(5400));
  CHECK(ParseDuration("0").value() == seconds(0));
}

TEST_CASE("malformed and hostile durations are refused with the input in the message") {
  for (const char* bad : {"", "8", "h", "-1h", "1.5h", "8x", "1h ", " 1h", "99999999999999999999d",
                          "36600000d", "1h-", "d1"}) {
    auto r = ParseDuration(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find("duration") != std::string::npos);
  }
}

TEST_CASE("durations format back to the short form") {
  CHECK(FormatDuration(seconds(8 * 3600)) == "8h");
  CHECK(FormatDuration(seconds(5400)) == "1h30m");
  CHECK(FormatDuration(seconds(7 * 86400)) == "7d");
  CHECK(FormatDuration(seconds(0)) == "0s");
}

TEST_CASE("RFC 3339 and compact UTC stamps round-trip") {
  auto t = ParseRfc3339("2026-11-22T03:04:05Z");
  REQUIRE(t.ok());
  CHECK(FormatRfc3339(*t) == "2026-11-22T03:04:05Z");
  CHECK(FormatCompactUtc(*t) == "20261122T030405Z");
  CHECK(ParseCompactUtc("20261122T030405Z").value() == *t);
  CHECK_FALSE(ParseRfc3339("2026-13-22T03:04:05Z").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-22 03:04:05").ok());
  CHECK_FALSE(ParseCompactUtc("20261122T030405").ok());
  // Past what a 64-bit nanosecond SystemTime holds (April 2262): refused, not overflowed.
  CHECK_FALSE(ParseCompactUtc("70261122T030405Z").ok());
  CHECK_FALSE(ParseRfc3339("2262-05-01T00:00:00Z").ok());
  CHECK(ParseRfc3339("2261-12-31T23:59:59Z").ok());
  // Fractions, as FormatRfc3339Millis writes them (zdapd's job times).
  auto whole = ParseRfc3339("2026-11-22T03:04:05Z");
  auto millis = ParseRfc3339("2026-11-22T03:04:05.250Z");
  REQUIRE(millis.ok());
  CHECK(*millis - *whole == std::chrono::milliseconds(250));
  CHECK(ParseRfc3339(FormatRfc3339Millis(*millis)).value() == *millis);
  CHECK(ParseRfc3339("2026-11-22T03:04:05.123456789Z").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-22T03:04:05.Z").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-22T03:04:05.1234567890Z").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-22T03:04:05.12aZ").ok());
  CHECK_FALSE(ParseRfc3339("2026-11-22T03:04:05,250Z").ok());
}
