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

TEST_CASE("one duration grammar, two rules: lifetimes in seconds, timeouts in milliseconds") {
  using std::chrono::milliseconds;
  // The same text means the same time under both rules where both allow it.
  for (const char* both : {"0", "2s", "1m30s", "8h", "30s1m", "1d"}) {
    INFO(both);
    CHECK(ParseDuration(both, kLifetimeDuration).value() ==
          ParseDuration(both, kTimeoutDuration).value());
  }
  CHECK(ParseDuration("500ms", kTimeoutDuration).value() == milliseconds(500));
  // A lifetime counts whole seconds: milliseconds are refused, not rounded.
  auto ms_ttl = ParseDuration("500ms");
  REQUIRE_FALSE(ms_ttl.ok());
  CHECK(ms_ttl.status().message() ==
        "'500ms' is not a duration here: the smallest unit is 1s, like 90s, 30m, 8h, 7d or 0");
  CHECK_FALSE(ParseDuration("1000ms").ok());
  // Each rule has its bound, and says it.
  auto day_and_more = ParseDuration("1d1ms", kTimeoutDuration);
  REQUIRE_FALSE(day_and_more.ok());
  CHECK(day_and_more.status().message() == "'1d1ms' is too long a duration: at most 1d");
  CHECK(ParseDuration("36500d").ok());
  CHECK_FALSE(ParseDuration(std::string(31, '0') + "1s").ok());  // 33 characters
  CHECK_FALSE(ParseDuration("36501d").ok());
}

TEST_CASE("hostile durations: the error stays one short line") {
  std::string huge(1 << 20, '9');
  std::string with_newline = "1h\nInjected: line";
  with_newline[2] = '\n';
  for (const std::string& bad : {huge + "s", with_newline, std::string("1\0s", 3),
                                 std::string("\x1b[31m1h"), std::string(63, '9') + "s"}) {
    auto r = ParseDuration(bad, kTimeoutDuration);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find('\n') == std::string::npos);
    CHECK(r.status().message().size() < 200);
  }
  CHECK(FormatDurationMillis(std::chrono::milliseconds(90000)) == "1m30s");
  CHECK(FormatDurationMillis(std::chrono::milliseconds(0)) == "0");
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
