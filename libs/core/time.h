// Wall-clock time for APIs and ids. All times are UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
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

// Durations as in resource files: "90s", "30m", "8h", "7d", "0". Several units may be
// combined ("1h30m"). Refuses negatives, overflow, and anything above 100 years.
Result<std::chrono::seconds> ParseDuration(std::string_view text);
std::string FormatDuration(std::chrono::seconds d);  // "8h", "1h30m", "0s"

// The grammar both duration syntaxes share: one or more "<digits><unit>" terms, summed.
// `units` lists each suffix with its value; longer suffixes must come before their prefixes
// ("ms" before "m"). Returns nullopt for anything malformed or above `max`. Callers handle
// "0" and write their own error message.
struct DurationUnit {
  std::string_view suffix;
  int64_t value;
};
std::optional<int64_t> SumDurationTerms(std::string_view text,
                                        std::initializer_list<DurationUnit> units, int64_t max);

}  // namespace zdap
