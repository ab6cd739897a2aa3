#include <stdlib.h>
#include <catch2/catch.hpp>

#include <ctime>
#include <string>

#include "core/cron.h"

using namespace zdap;

namespace {

// Sets the process's zone for the scope (POSIX TZ strings need no tzdata).
class ZoneScope {
 public:
  explicit ZoneScope(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ZoneScope() {
    ::unsetenv("TZ");
    ::tzset();
  }
};

SystemTime Utc(const char* rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

std::string Next(const char* cron, const char* after) {
  auto c = CronSchedule::Parse(cron);
  REQUIRE(c.ok());
  auto n = c->NextAfter(Utc(after));
  return n ? FormatRfc3339(*n) : "none";
}

}  // namespace

TEST_CASE("cron: next minute for numbers, ranges, steps and lists") {
  ZoneScope utc("UTC0");
  CHECK(Next("0 3 * * *", "2026-11-30T02:59:59Z") == "2026-11-30T03:00:00Z");
  CHECK(Next("0 3 * * *", "2026-11-30T03:00:00Z") == "2026-12-01T03:00:00Z");  // strictly after
  CHECK(Next("* * * * *", "2026-11-30T03:00:30Z") == "2026-11-30T03:01:00Z");
  CHECK(Next("*/15 * * * *", "2026-11-30T03:16:00Z") == "2026-11-30T03:30:00Z");
  CHECK(Next("10-20/5 * * * *", "2026-11-30T03:16:00Z") == "2026-11-30T03:20:00Z");
  CHECK(Next("10-20/5 * * * *", "2026-11-30T03:20:00Z") == "2026-11-30T04:10:00Z");
  CHECK(Next("5,35 1,13 * * *", "2026-11-30T12:00:00Z") == "2026-11-30T13:05:00Z");
  CHECK(Next("0 0 1 * *", "2026-11-30T12:00:00Z") == "2026-12-01T00:00:00Z");
  CHECK(Next("0 0 1 jan *", "2026-11-30T12:00:00Z") == "2027-01-01T00:00:00Z");
  CHECK(Next("0 0 29 2 *", "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z");  // leap year
  CHECK(Next("0 0 31 * *", "2026-04-01T00:00:00Z") == "2026-05-31T00:00:00Z");
  CHECK(Next("0 0 30 2 *", "2026-01-01T00:00:00Z") == "none");  // never
}

TEST_CASE("cron: day names, Sunday as 0 and 7, and the day-of-month OR day-of-week rule") {
  ZoneScope utc("UTC0");
  // 2026-11-30 is a Monday.
  CHECK(Next("0 9 * * sun", "2026-11-30T10:00:00Z") == "2026-12-06T09:00:00Z");
  CHECK(Next("0 9 * * 0", "2026-11-30T10:00:00Z") == "2026-12-06T09:00:00Z");
  CHECK(Next("0 9 * * 7", "2026-11-30T10:00:00Z") == "2026-12-06T09:00:00Z");
  CHECK(Next("0 9 * * Mon-Fri", "2026-12-04T10:00:00Z") == "2026-12-07T09:00:00Z");
  CHECK(Next("0 9 * DEC sat", "2026-11-30T10:00:00Z") == "2026-12-05T09:00:00Z");
  // Both restricted: the 15th or any Friday, whichever comes first.
  CHECK(Next("0 0 15 * fri", "2026-11-30T10:00:00Z") == "2026-12-04T00:00:00Z");
  CHECK(Next("0 0 15 * fri", "2026-12-12T10:00:00Z") == "2026-12-15T00:00:00Z");
  // Day of month restricted, day of week '*': only the 15th.
  CHECK(Next("0 0 15 * *", "2026-11-30T10:00:00Z") == "2026-12-15T00:00:00Z");
  // '*/1' in day of week counts as unrestricted (it starts with '*'), as in Vixie cron.
  CHECK(Next("0 0 15 * */1", "2026-11-30T10:00:00Z") == "2026-12-15T00:00:00Z");
}

TEST_CASE("cron: evaluated in the local zone, across daylight-saving changes") {
  ZoneScope berlin("CET-1CEST,M3.5.0,M10.5.0/3");
  // 03:00 local in winter (UTC+1) is 02:00Z.
  CHECK(Next("0 3 * * *", "2026-11-30T00:00:00Z") == "2026-11-30T02:00:00Z");
  // 2026-03-29: 02:00 local does not exist (clocks jump to 03:00); the run still happens,
  // once, and the next day's is at 02:30 local = 00:30Z (UTC+2).
  auto c = CronSchedule::Parse("30 2 * * *").value();
  auto first = c.NextAfter(Utc("2026-03-28T12:00:00Z")).value();
  CHECK(FormatRfc3339(first) >= "2026-03-29T00:30:00Z");
  CHECK(FormatRfc3339(first) <= "2026-03-29T01:30:00Z");
  CHECK(FormatRfc3339(c.NextAfter(first).value()) == "2026-03-30T00:30:00Z");
  // Summer: 03:00 local is 01:00Z.
  CHECK(Next("0 3 * * *", "2026-07-01T00:00:00Z") == "2026-07-01T01:00:00Z");
}

TEST_CASE("cron: malformed, out-of-range and hostile expressions are refused clearly") {
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b : std::initializer_list<Bad>{
           {"", "5"},
           {"0 3 * *", "5"},
           {"0 3 * * * *", "5"},
           {"60 * * * *", "minute: 60 is out of range 0-59"},
           {"* 24 * * *", "hour"},
           {"* * 0 * *", "day of month"},
           {"* * 32 * *", "day of month"},
           {"* * * 13 *", "month"},
           {"* * * * 8", "day of week"},
           {"* * * foo *", "month: 'foo'"},
           {"* * * * sunday", "day of week"},
           {"*/0 * * * *", "step"},
           {"*/61 * * * *", "step"},
           {"5/10 * * * *", "a step needs"},
           {"30-10 * * * *", "backwards"},
           {"1,,2 * * * *", "empty list item"},
           {"1, * * * *", "empty list item"},
           {"- * * * *", "missing"},
           {"1- * * * *", "missing"},
           {"99999999999999999999 * * * *", "not a number"},
           {"-1 * * * *", "missing"},
           {"0 3 * * *\n0 4 * * *", "control"},
           {"0 3 * * \xc3\xa9", "non-ASCII"},
           {"1/2/3 * * * *", "step"},
       }) {
    INFO(b.text);
    auto r = CronSchedule::Parse(b.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains(b.says));
  }
  std::string huge(100000, '*');
  auto r = CronSchedule::Parse(huge);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("longer than"));
  std::string many_items = "0";
  for (int i = 1; i < 60; ++i) many_items += "," + std::to_string(i);
  CHECK(CronSchedule::Parse(many_items + " * * * *").ok());
}
