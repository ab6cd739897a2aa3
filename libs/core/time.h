// Wall-clock time for APIs and ids. All times are UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zdap {

using SystemTime = std::chrono::system_clock::time_point;

SystemTime SystemNow();
// "2026-11-22T03:04:05Z" (SPEC: times are RFC 3339 UTC).
std::string FormatRfc3339(SystemTime t);
std::string FormatRfc3339Millis(SystemTime t);
Result<SystemTime> ParseRfc3339(std::string_view text);
// "20261122T030405Z", the suffix of snapshot ids.
std::string FormatCompactUtc(SystemTime t);
Result<SystemTime> ParseCompactUtc(std::string_view text);

// Durations written by people, one grammar everywhere: "0", or one or more "<digits><unit>"
// terms, summed ("1h30m"; largest first is not required). Units: ms, s, m, h, d. Refused with a
// message that quotes the input: anything else (signs, fractions, spaces, bare numbers other
// than 0, unknown units), a term finer than the setting counts in, and values above its bound.
struct DurationRule {
  std::chrono::milliseconds finest;  // a term in a smaller unit is refused ("500ms" as a ttl)
  std::chrono::milliseconds max;
  std::string_view examples;  // what the error suggests: "90s, 30m, 8h, 7d or 0"
};
// Lifetimes and schedules (resource files, API bodies, the CLI's --ttl): whole seconds, at most
// 100 years.
inline constexpr DurationRule kLifetimeDuration{
    std::chrono::seconds(1), std::chrono::hours(24 * 365 * 100), "90s, 30m, 8h, 7d or 0"};
// Timeouts and intervals (zdap-proxyd's flags and file): milliseconds, at most 24 hours.
inline constexpr DurationRule kTimeoutDuration{std::chrono::milliseconds(1), std::chrono::hours(24),
                                               "500ms, 2s, 1m or 0"};

Result<std::chrono::milliseconds> ParseDuration(std::string_view text, const DurationRule& rule);
// ParseDuration(text, kLifetimeDuration) in seconds.
Result<std::chrono::seconds> ParseDuration(std::string_view text);
std::string FormatDuration(std::chrono::seconds d);             // "8h", "1h30m", "0s"
std::string FormatDurationMillis(std::chrono::milliseconds d);  // "1500ms", "2s", "0"

}  // namespace zdap
