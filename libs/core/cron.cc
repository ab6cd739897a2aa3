#include "core/cron.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <vector>

namespace zdap {
namespace {

constexpr size_t kMaxCronLength = 256;

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names[i] stands for min + i (nullptr: numbers only)
  size_t name_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 12},
    {"day of week", 0, 7, kDayNames, 7},  // 7 is Sunday too
};

// One value: digits or (for months and days) a three-letter name.
Result<int> ParseValue(std::string_view text, const FieldSpec& f) {
  if (text.empty()) return InvalidArgument(fmt::format("{}: a value is missing", f.name));
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    int v = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) {
        return InvalidArgument(fmt::format("{}: '{}' is not a number", f.name, text));
      }
      v = v * 10 + (c - '0');
    }
    if (v < f.min || v > f.max) {
      return InvalidArgument(
          fmt::format("{}: {} is out of range {}-{}", f.name, text, f.min, f.max));
    }
    return v;
  }
  std::string lower;
  for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < f.name_count; ++i) {
    if (lower == f.names[i]) return f.min + static_cast<int>(i);
  }
  return InvalidArgument(
      fmt::format("{}: '{}' is not a {}", f.name, text, f.names ? "number or a name" : "number"));
}

// One field into `bits` (index = value); *restricted = the field is not "*" or "*/n".
template <size_t N>
Status ParseField(std::string_view text, const FieldSpec& f, std::bitset<N>* bits,
                  bool* restricted) {
  *restricted = text.empty() || text[0] != '*';
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    if (item.empty()) return InvalidArgument(fmt::format("{}: an empty list item", f.name));
    std::string_view range = item;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      FieldSpec step_spec{f.name, 1, f.max - f.min + 1, nullptr, 0};
      auto s = ParseValue(step_text, step_spec);
      if (!s.ok()) {
        return InvalidArgument(fmt::format("{}: step '{}' must be a number from 1 to {}", f.name,
                                           step_text, step_spec.max));
      }
      step = *s;
      if (range != "*" && range.find('-') == std::string_view::npos) {
        return InvalidArgument(
            fmt::format("{}: a step needs '*' or a range before it, as in */{} or 0-30/{}", f.name,
                        step, step));
      }
    }
    int lo = f.min, hi = f.max;
    if (range != "*") {
      size_t dash = range.find('-');
      ZDAP_ASSIGN_OR_RETURN(lo, ParseValue(range.substr(0, dash), f));
      hi = lo;
      if (dash != std::string_view::npos) {
        ZDAP_ASSIGN_OR_RETURN(hi, ParseValue(range.substr(dash + 1), f));
        if (hi < lo) {
          return InvalidArgument(fmt::format("{}: range '{}' runs backwards", f.name, range));
        }
      }
    } else if (f.max == 7) {
      hi = 6;  // "*" in day of week: Sunday once
    }
    for (int v = lo; v <= hi; v += step) {
      bits->set(static_cast<size_t>(f.max == 7 && v == 7 ? 0 : v));
    }
    start = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  if (text.size() > kMaxCronLength) {
    return InvalidArgument(
        fmt::format("cron expression is longer than {} characters", kMaxCronLength));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
      return InvalidArgument("cron expression contains a control character");
    }
    if (static_cast<unsigned char>(c) >= 0x7f) {
      return InvalidArgument("cron expression contains a non-ASCII character");
    }
  }
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return InvalidArgument(
        fmt::format("'{}' has {} field(s); a cron expression has 5: minute hour day-of-month month "
                    "day-of-week, e.g. '0 3 * * *'",
                    text, fields.size()));
  }
  CronSchedule c;
  c.text_ = std::string(text);
  bool ignored = false;
  ZDAP_RETURN_IF_ERROR(ParseField(fields[0], kFields[0], &c.minutes_, &ignored));
  ZDAP_RETURN_IF_ERROR(ParseField(fields[1], kFields[1], &c.hours_, &ignored));
  ZDAP_RETURN_IF_ERROR(ParseField(fields[2], kFields[2], &c.days_, &c.days_restricted_));
  ZDAP_RETURN_IF_ERROR(ParseField(fields[3], kFields[3], &c.months_, &ignored));
  std::bitset<8> weekdays;
  ZDAP_RETURN_IF_ERROR(ParseField(fields[4], kFields[4], &weekdays, &c.weekdays_restricted_));
  for (size_t d = 0; d < 7; ++d) c.weekdays_[d] = weekdays[d];
  return c;
}

bool CronSchedule::DayMatches(const std::tm& t) const {
  if (!months_[static_cast<size_t>(t.tm_mon + 1)]) return false;
  bool day = days_[static_cast<size_t>(t.tm_mday)];
  bool weekday = weekdays_[static_cast<size_t>(t.tm_wday)];
  if (days_restricted_ && weekdays_restricted_) return day || weekday;
  return day && weekday;
}

bool CronSchedule::Matches(const std::tm& t) const {
  return minutes_[static_cast<size_t>(t.tm_min)] && hours_[static_cast<size_t>(t.tm_hour)] &&
         DayMatches(t);
}

std::optional<SystemTime> CronSchedule::NextAfter(SystemTime after) const {
  std::time_t t = std::chrono::system_clock::to_time_t(after);
  std::tm day{};
  if (::localtime_r(&t, &day) == nullptr) return std::nullopt;
  // Walk calendar days, and within a matching day its matching hours and minutes; mktime
  // maps each local minute to an instant (a minute a DST change skips comes out later).
  for (int d = 0; d < 366 * 5 + 2; ++d) {
    std::tm date = day;
    date.tm_mday += d;
    date.tm_hour = 12;  // noon: normalising the date is unaffected by DST changes
    date.tm_min = 0;
    date.tm_sec = 0;
    date.tm_isdst = -1;
    if (std::mktime(&date) == -1) return std::nullopt;
    if (!DayMatches(date)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[static_cast<size_t>(h)]) continue;
      for (int mi = 0; mi < 60; ++mi) {
        if (!minutes_[static_cast<size_t>(mi)]) continue;
        std::tm at = date;
        at.tm_hour = h;
        at.tm_min = mi;
        at.tm_isdst = -1;
        std::time_t when = std::mktime(&at);
        if (when == -1) continue;
        SystemTime candidate = std::chrono::system_clock::from_time_t(when);
        if (candidate > after) return candidate;
      }
    }
  }
  return std::nullopt;
}

}  // namespace zdap
