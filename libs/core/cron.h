// 5-field cron expressions (minute hour day-of-month month day-of-week), as Vixie cron reads
// them: numbers, ranges "a-b", steps "*/n" and "a-b/n", lists "a,b", "*", month names
// jan..dec and day names sun..sat (case-insensitive), Sunday as 0 or 7. When both day fields
// are restricted a day matches if either does; otherwise both must. Times are local time.
#pragma once

#include <bitset>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace zdap {

class CronSchedule {
 public:
  // InvalidArgument names the field and what is wrong with it.
  static Result<CronSchedule> Parse(std::string_view text);

  // Whether the minute `local` (broken-down local time) matches.
  bool Matches(const std::tm& local) const;
  // The first matching minute strictly after `after`, in the process's local time zone
  // (TZ); nullopt when none comes within 5 years (e.g. "0 0 30 2 *").
  std::optional<SystemTime> NextAfter(SystemTime after) const;

  const std::string& text() const { return text_; }

 private:
  bool DayMatches(const std::tm& local) const;  // month and the day-of-month/week rule
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace zdap
