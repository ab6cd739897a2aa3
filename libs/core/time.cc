#include "core/time.h"

#include <fmt/format.h>

#include <ctime>

#include "core/quote.h"

namespace zdap {
namespace {

std::tm ToUtcTm(SystemTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Result<SystemTime> FromFields(int y, int mo, int d, int h, int mi, int s, std::string_view text) {
  // SystemTime counts nanoseconds in 64 bits: it ends in April 2262 (found by fuzz/time.cc).
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970 || y > 2261) {
    return InvalidArgument(fmt::format("'{}' is not a valid UTC time", text));
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t tt = timegm(&tm);
  if (tt == static_cast<std::time_t>(-1)) {
    return InvalidArgument(fmt::format("'{}' is not a valid UTC time", text));
  }
  return std::chrono::system_clock::from_time_t(tt);
}

}  // namespace

SystemTime SystemNow() {
  return std::chrono::system_clock::now();
}

std::string FormatRfc3339(SystemTime t) {
  std::tm tm = ToUtcTm(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatRfc3339Millis(SystemTime t) {
  std::tm tm = ToUtcTm(t);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

// YYYY-MM-DDTHH:MM:SSZ exactly; errors name `original`.
static Result<SystemTime> ParseRfc3339Seconds(std::string_view text, std::string_view original);

Result<SystemTime> ParseRfc3339(std::string_view text) {
  // Accepts what FormatRfc3339 and FormatRfc3339Millis write: YYYY-MM-DDTHH:MM:SS[.f]Z, with
  // 1 to 9 digits of fraction (zdapd sends job times with milliseconds).
  std::chrono::nanoseconds fraction{0};
  std::string whole;
  if (text.size() > 21 && text.size() <= 30 && text[19] == '.' && text.back() == 'Z') {
    int64_t n = 0;
    for (size_t i = 20; i + 1 < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') {
        return InvalidArgument(fmt::format("'{}' is not an RFC 3339 UTC time", text));
      }
      n = n * 10 + (text[i] - '0');
    }
    for (size_t digits = text.size() - 21; digits < 9; ++digits) n *= 10;
    fraction = std::chrono::nanoseconds(n);
    whole = std::string(text.substr(0, 19)) + "Z";
  }
  std::string_view fields = whole.empty() ? text : std::string_view(whole);
  ZDAP_ASSIGN_OR_RETURN(SystemTime t, ParseRfc3339Seconds(fields, text));
  return t + std::chrono::duration_cast<SystemTime::duration>(fraction);
}

static Result<SystemTime> ParseRfc3339Seconds(std::string_view text, std::string_view original) {
  int y, mo, d, h, mi, s;
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z' || !ParseDigits(text, 0, 4, &y) ||
      !ParseDigits(text, 5, 2, &mo) || !ParseDigits(text, 8, 2, &d) ||
      !ParseDigits(text, 11, 2, &h) || !ParseDigits(text, 14, 2, &mi) ||
      !ParseDigits(text, 17, 2, &s)) {
    return InvalidArgument(
        fmt::format("'{}' is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)", original));
  }
  return FromFields(y, mo, d, h, mi, s, original);
}

std::string FormatCompactUtc(SystemTime t) {
  std::tm tm = ToUtcTm(t);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<SystemTime> ParseCompactUtc(std::string_view text) {
  int y, mo, d, h, mi, s;
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' || !ParseDigits(text, 0, 4, &y) ||
      !ParseDigits(text, 4, 2, &mo) || !ParseDigits(text, 6, 2, &d) ||
      !ParseDigits(text, 9, 2, &h) || !ParseDigits(text, 11, 2, &mi) ||
      !ParseDigits(text, 13, 2, &s)) {
    return InvalidArgument(fmt::format("'{}' is not a UTC time like 20261122T030405Z", text));
  }
  return FromFields(y, mo, d, h, mi, s, text);
}

namespace {

struct DurationUnit {
  std::string_view suffix;
  int64_t millis;
};
constexpr size_t kMaxDurationText = 32;

// Longer suffixes before their prefixes: "ms" before "m".
constexpr DurationUnit kDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}};

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text, const DurationRule& rule) {
  auto malformed = [&] {
    return InvalidArgument(fmt::format("{} is not a duration: use a number and a unit, like {}",
                                       Quote(text), rule.examples));
  };
  auto too_large = [&] {
    return InvalidArgument(fmt::format("{} is too long a duration: at most {}", Quote(text),
                                       FormatDurationMillis(rule.max)));
  };
  if (text == "0") return std::chrono::milliseconds(0);
  // 32 characters hold any sensible duration ("1d23h59m59s999ms" is 16); longer text is noise.
  if (text.empty() || text.size() > kMaxDurationText) return malformed();
  const int64_t max = rule.max.count();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    size_t digits = 0;
    bool overflow = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      n = n * 10 + (text[i] - '0');
      if (n > max) {  // keep reading: "99999999999x" is malformed before it is too long
        overflow = true;
        n = max + 1;
      }
    }
    if (digits == 0 || i >= text.size()) return malformed();
    const DurationUnit* unit = nullptr;
    for (const DurationUnit& u : kDurationUnits) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return malformed();
    i += unit->suffix.size();
    if (unit->millis < rule.finest.count()) {
      return InvalidArgument(
          fmt::format("{} is not a duration here: the smallest unit is {}, like {}", Quote(text),
                      FormatDurationMillis(rule.finest), rule.examples));
    }
    if (overflow || n > max / unit->millis) return too_large();
    total += n * unit->millis;
    if (total > max) return too_large();
  }
  return std::chrono::milliseconds(total);
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  ZDAP_ASSIGN_OR_RETURN(std::chrono::milliseconds d, ParseDuration(text, kLifetimeDuration));
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

std::string FormatDurationMillis(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  return FormatDuration(std::chrono::seconds(ms / 1000));
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s <= 0) return "0s";
  std::string out;
  if (s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s >= 3600) {
    out += fmt::format("{}h", s / 3600);
    s %= 3600;
  }
  if (s >= 60) {
    out += fmt::format("{}m", s / 60);
    s %= 60;
  }
  if (s > 0) out += fmt::format("{}s", s);
  return out;
}

}  // namespace zdap
