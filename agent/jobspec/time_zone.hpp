// IANA time zones for periodic jobs' `time_zone`, read from the system's zoneinfo (TZif files,
// RFC 8536, with the POSIX TZ rule of their footer for times past the last transition).
// libstdc++ 12 has no std::chrono::tzdb, and localtime_r under a changed TZ is a process-wide
// setting that threads would race on; a TimeZone is a plain value, safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::jobspec {

class TimeZone {
 public:
  // "UTC" (also "" and "Etc/UTC"), "Local" (/etc/localtime), or an IANA name such as
  // "Europe/Berlin", read from $TZDIR or /usr/share/zoneinfo. Errors say why ("unknown time
  // zone", "not a TZif file"); a name with "..", a leading '/' or odd bytes is refused unread.
  static Result<TimeZone> load(std::string_view name);
  static TimeZone utc();

  const std::string& name() const { return name_; }
  // Seconds east of UTC in force at `unix` (seconds since the epoch).
  int offset_at(int64_t unix) const;
  // The instants whose local wall clock reads `local` (seconds since the epoch of that wall
  // clock, as if it were UTC), earliest first: none in a gap (clocks jump forward), two in an
  // overlap (clocks fall back), else one.
  std::vector<int64_t> from_local(int64_t local) const;

  // The POSIX TZ rule of a TZif footer ("CET-1CEST,M3.5.0,M10.5.0/3"), exposed for tests.
  struct Rule {
    int std_offset = 0;  // seconds east of UTC
    int dst_offset = 0;
    bool has_dst = false;
    // Each change: kind 'J' (Jn, 1..365, Feb 29 never counted), 'D' (n, 0..365) or 'M'
    // (Mm.w.d), and the local time of day in seconds (may be negative or past 24h).
    struct Change {
      char kind = 'M';
      int month = 0, week = 0, day = 0;
      int time = 7200;
    } start, end;
  };
  static Result<Rule> parse_rule(std::string_view text);

 private:
  struct Type {
    int offset = 0;
  };
  int rule_offset(int64_t unix) const;

  std::string name_;
  std::vector<int64_t> transitions_;  // ascending
  std::vector<uint8_t> transition_types_;
  std::vector<Type> types_;
  bool has_rule_ = false;
  Rule rule_;
};

// Calendar helpers (proleptic Gregorian, days since 1970-01-01), shared with the cron code.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
struct CivilDate {
  int64_t year;
  unsigned month, day;
};
CivilDate civil_from_days(int64_t days);
// 0 = Sunday.
int weekday_from_days(int64_t days);
unsigned days_in_month(int64_t year, unsigned month);

}  // namespace drover::jobspec
