// Cron expressions as Nomad reads a periodic job's `cron` (github.com/hashicorp/cronexpr):
// five fields (minute hour day-of-month month day-of-week), six (a year appended) or seven
// (a seconds field first and a year last); `*` and `?`, lists, ranges, steps, month and day
// names, `L`, `W`, `LW` in day-of-month, `5L` and `5#3` in day-of-week; and @yearly,
// @annually, @monthly, @weekly, @daily, @hourly. Times are evaluated on a zone's wall clock
// (time_zone.hpp).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/time_zone.hpp"

namespace drover::jobspec {

class CronExpr {
 public:
  // Errors name the field and the text: `day-of-week field: "8" is not a day (0-7 or SUN-SAT)`.
  static Result<CronExpr> parse(std::string_view text);

  // The first instant strictly after `after` (unix seconds) whose wall clock in `zone`
  // matches; nothing when none comes before the end of 2099 (cronexpr's last year). A wall
  // clock time that a zone skips (clocks jump forward) is not matched that day; one that it
  // repeats (clocks fall back) is matched once.
  std::optional<int64_t> next(int64_t after, const TimeZone& zone) const;

  static constexpr int kFirstYear = 1970;
  static constexpr int kLastYear = 2099;

 private:
  // The first wall clock second at or after `local` (seconds, as if UTC) that matches.
  std::optional<int64_t> next_local(int64_t local) const;
  std::vector<unsigned> days_of(int64_t year, unsigned month) const;

  std::bitset<60> seconds_, minutes_;
  std::bitset<24> hours_;
  std::bitset<13> months_;  // 1..12
  std::bitset<kLastYear - kFirstYear + 1> years_;
  bool dom_restricted_ = false, dow_restricted_ = false;
  std::bitset<32> days_;          // 1..31
  std::bitset<32> workdays_;      // nW: the weekday nearest day n
  bool last_day_ = false;         // L
  bool last_workday_ = false;     // LW
  std::bitset<7> weekdays_;       // 0 = Sunday
  std::bitset<35> nth_weekdays_;  // d#n: (n-1)*7 + d
  std::bitset<7> last_weekdays_;  // dL
};

}  // namespace drover::jobspec
