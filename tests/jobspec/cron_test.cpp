// Cron expressions as Nomad (hashicorp/cronexpr) reads them, their next launch time in UTC
// and across daylight saving changes, and the system zoneinfo reader behind `time_zone`.
#include "jobspec/cron.hpp"

#include <gtest/gtest.h>

#include <string>

#include "jobspec/time_zone.hpp"

namespace drover::jobspec {
namespace {

// Unix seconds of a UTC wall clock time.
int64_t utc(int64_t y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

CronExpr must(std::string_view text) {
  auto e = CronExpr::parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << (e.ok() ? "" : e.message());
  return e.ok() ? *e : CronExpr{};
}

std::string error_of(std::string_view text) {
  auto e = CronExpr::parse(text);
  EXPECT_FALSE(e.ok()) << "parsed but should not have: " << text;
  return e.ok() ? "" : e.message();
}

int64_t next_utc(std::string_view cron, int64_t after) {
  auto t = must(cron).next(after, TimeZone::utc());
  EXPECT_TRUE(t.has_value()) << cron;
  return t.value_or(-1);
}

TimeZone zone(std::string_view name) {
  auto z = TimeZone::load(name);
  EXPECT_TRUE(z.ok()) << name << ": " << (z.ok() ? "" : z.message());
  return z.ok() ? *z : TimeZone::utc();
}

TEST(Cron, FiveFieldsRunOnTheMinuteAndNeverAtTheSameInstant) {
  EXPECT_EQ(next_utc("*/15 * * * *", utc(2026, 3, 1, 10, 7, 30)), utc(2026, 3, 1, 10, 15));
  // Strictly after: a launch at 10:15 is not launched again at 10:15.
  EXPECT_EQ(next_utc("*/15 * * * *", utc(2026, 3, 1, 10, 15)), utc(2026, 3, 1, 10, 30));
  EXPECT_EQ(next_utc("0 3 * * *", utc(2026, 12, 31, 5)), utc(2027, 1, 1, 3));
}

TEST(Cron, SevenFieldsHaveSecondsFirstAndYearLast) {
  EXPECT_EQ(next_utc("*/2 * * * * * *", utc(2026, 1, 1, 0, 0, 1)), utc(2026, 1, 1, 0, 0, 2));
  EXPECT_EQ(next_utc("*/2 * * * * * *", utc(2026, 1, 1, 0, 0, 2)), utc(2026, 1, 1, 0, 0, 4));
  EXPECT_EQ(next_utc("30 0 12 1 1 * 2030", utc(2026, 6, 1)), utc(2030, 1, 1, 12, 0, 30));
  // "?" is a wildcard anywhere, as in Nomad users' `*/5 * * * * * ?`.
  EXPECT_EQ(next_utc("*/5 * * * * * ?", utc(2026, 1, 1, 0, 0, 7)), utc(2026, 1, 1, 0, 0, 10));
}

TEST(Cron, SixFieldsAppendAYear) {
  EXPECT_EQ(next_utc("0 0 1 1 * 2031", utc(2026, 6, 1)), utc(2031, 1, 1));
  // No year left: never.
  EXPECT_FALSE(must("0 0 1 1 * 1999").next(utc(2026, 1, 1), TimeZone::utc()).has_value());
}

TEST(Cron, AliasesAreCronexprs) {
  EXPECT_EQ(next_utc("@yearly", utc(2026, 5, 5)), utc(2027, 1, 1));
  EXPECT_EQ(next_utc("@annually", utc(2026, 5, 5)), utc(2027, 1, 1));
  EXPECT_EQ(next_utc("@monthly", utc(2026, 5, 5)), utc(2026, 6, 1));
  EXPECT_EQ(next_utc("@weekly", utc(2026, 12, 2)), utc(2026, 12, 6));  // a Sunday
  EXPECT_EQ(next_utc("@daily", utc(2026, 5, 5, 13)), utc(2026, 5, 6));
  EXPECT_EQ(next_utc("@hourly", utc(2026, 5, 5, 13, 1)), utc(2026, 5, 5, 14));
  EXPECT_NE(error_of("@midnight").find("no @midnight"), std::string::npos);
  EXPECT_NE(error_of("@reboot").find("not a cron alias"), std::string::npos);
}

TEST(Cron, ListsRangesStepsAndNames) {
  EXPECT_EQ(next_utc("0 9-17/4 * * *", utc(2026, 1, 1, 10)), utc(2026, 1, 1, 13));
  EXPECT_EQ(next_utc("0 0 1,15 * *", utc(2026, 1, 2)), utc(2026, 1, 15));
  EXPECT_EQ(next_utc("5/20 * * * *", utc(2026, 1, 1, 0, 6)), utc(2026, 1, 1, 0, 25));
  EXPECT_EQ(next_utc("0 0 1 Mar,SEP *", utc(2026, 4, 1)), utc(2026, 9, 1));
  EXPECT_EQ(next_utc("0 0 * * mon-fri", utc(2026, 12, 5)), utc(2026, 12, 7));  // Sat -> Mon
  EXPECT_EQ(next_utc("0 0 * * saturday", utc(2026, 12, 1)), utc(2026, 12, 5));
  // 7 is Sunday too, and a range up to 7 includes it.
  EXPECT_EQ(next_utc("0 0 * * 7", utc(2026, 12, 1)), utc(2026, 12, 6));
  EXPECT_EQ(next_utc("0 0 * * 6-7", utc(2026, 12, 5, 1)), utc(2026, 12, 6));
}

TEST(Cron, BothDayFieldsRestrictedMatchEither) {
  // The 13th, or any Friday (crontab(5)): Friday 2026-11-06 comes before the 13th.
  EXPECT_EQ(next_utc("0 0 13 * 5", utc(2026, 11, 1)), utc(2026, 11, 6));
}

TEST(Cron, LastWorkdayAndNthWeekday) {
  EXPECT_EQ(next_utc("0 0 L * *", utc(2028, 2, 3)), utc(2028, 2, 29));  // leap year
  // 2026-05-31 is a Sunday: the last workday is Friday the 29th.
  EXPECT_EQ(next_utc("0 0 LW * *", utc(2026, 5, 3)), utc(2026, 5, 29));
  // 2026-08-15 is a Saturday: 15W is Friday the 14th; 2026-08-01 (Saturday): 1W is Monday 3rd.
  EXPECT_EQ(next_utc("0 0 15W * *", utc(2026, 8, 2)), utc(2026, 8, 14));
  EXPECT_EQ(next_utc("0 0 1W * *", utc(2026, 7, 31)), utc(2026, 8, 3));
  EXPECT_EQ(next_utc("0 0 * * 5L", utc(2026, 12, 1)), utc(2026, 12, 25));    // last Friday
  EXPECT_EQ(next_utc("0 0 * * 1#2", utc(2026, 12, 1)), utc(2026, 12, 14));   // second Monday
  EXPECT_EQ(next_utc("0 0 * * FRI#5", utc(2026, 12, 1)), utc(2027, 1, 29));  // none in December
}

TEST(Cron, AnImpossibleDateNeverComes) {
  EXPECT_FALSE(must("0 0 30 2 *").next(utc(2026, 1, 1), TimeZone::utc()).has_value());
}

TEST(Cron, BadExpressionsNameTheFieldAndTheText) {
  EXPECT_NE(error_of("* * * *").find("has 4 fields"), std::string::npos);
  EXPECT_NE(error_of("* * * * * * * *").find("has 8 fields"), std::string::npos);
  EXPECT_EQ(error_of("61 * * * *"), "minute field: \"61\" is not a minute (0-59)");
  EXPECT_EQ(error_of("* 24 * * *"), "hour field: \"24\" is not an hour (0-23)");
  EXPECT_EQ(error_of("* * 0 * *"), "day-of-month field: \"0\" is not a day of the month (1-31)");
  EXPECT_EQ(error_of("* * * foo *"), "month field: \"foo\" is not a month (1-12 or JAN-DEC)");
  EXPECT_EQ(error_of("* * * * 8"), "day-of-week field: \"8\" is not a day (0-7 or SUN-SAT)");
  EXPECT_EQ(error_of("* * * * * 1969"), "year field: \"1969\" is not a year (1970-2099)");
  EXPECT_EQ(error_of("*/0 * * * *"), "minute field: \"*/0\" has a bad step (1-59)");
  EXPECT_EQ(error_of("* */25 * * *"), "hour field: \"*/25\" has a bad step (1-23)");
  EXPECT_NE(error_of("10-5 * * * *").find("is an empty range"), std::string::npos);
  EXPECT_NE(error_of("1,,2 * * * *").find("is empty"), std::string::npos);
  EXPECT_EQ(error_of("* * * * 5#6"), "day-of-week field: \"5#6\" is not a day (0-7 or SUN-SAT)");
  EXPECT_EQ(error_of("* * L5 * *"), "day-of-month field: \"L5\" is not a day of the month (1-31)");
}

TEST(CronTimeZone, LaunchesOnTheZonesWallClock) {
  auto berlin = zone("Europe/Berlin");
  // 09:00 in Berlin in winter is 08:00 UTC, in summer 07:00 UTC.
  EXPECT_EQ(must("0 9 * * *").next(utc(2026, 1, 10), berlin), utc(2026, 1, 10, 8));
  EXPECT_EQ(must("0 9 * * *").next(utc(2026, 7, 10), berlin), utc(2026, 7, 10, 7));
  auto ny = zone("America/New_York");
  EXPECT_EQ(must("30 23 * * *").next(utc(2026, 1, 10, 12), ny), utc(2026, 1, 11, 4, 30));
}

TEST(CronTimeZone, ASkippedHourIsSkippedAndARepeatedOneRunsOnce) {
  auto berlin = zone("Europe/Berlin");
  // 2026-03-29: clocks jump from 02:00 to 03:00; 02:30 does not exist that day.
  EXPECT_EQ(must("30 2 * * *").next(utc(2026, 3, 28, 12), berlin), utc(2026, 3, 30, 0, 30));
  // 2026-10-25: 02:00-03:00 happens twice; 02:30 runs at its first occurrence only.
  auto first = must("30 2 * * *").next(utc(2026, 10, 24, 12), berlin);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(must("30 2 * * *").next(*first, berlin), utc(2026, 10, 26, 1, 30));
  // Hourly: 02:00 CEST (00:00 UTC) launches; 02:00 CET (01:00 UTC) reads the same wall
  // clock and does not launch again; 03:00 CET (02:00 UTC) does.
  EXPECT_EQ(must("0 * * * *").next(utc(2026, 10, 24, 23, 30), berlin), utc(2026, 10, 25, 0));
  EXPECT_EQ(must("0 * * * *").next(utc(2026, 10, 25, 0), berlin), utc(2026, 10, 25, 2));
}

TEST(TimeZoneFiles, ReadsRulesPastTheLastTransition) {
  // Far in the future only the footer's POSIX rule says when summer time is.
  auto berlin = zone("Europe/Berlin");
  EXPECT_EQ(berlin.offset_at(utc(2090, 7, 1)), 7200);
  EXPECT_EQ(berlin.offset_at(utc(2090, 1, 1)), 3600);
  auto sydney = zone("Australia/Sydney");  // southern summer
  EXPECT_EQ(sydney.offset_at(utc(2090, 1, 1)), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(utc(2090, 7, 1)), 10 * 3600);
  EXPECT_EQ(zone("Asia/Kolkata").offset_at(utc(2026, 1, 1)), 5 * 3600 + 1800);
  EXPECT_EQ(zone("UTC").offset_at(utc(2026, 1, 1)), 0);
}

TEST(TimeZoneFiles, PosixRulesParse) {
  auto r = TimeZone::parse_rule("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->std_offset, 3600);
  EXPECT_EQ(r->dst_offset, 7200);
  EXPECT_EQ(r->end.time, 3 * 3600);
  auto ist = TimeZone::parse_rule("<+0530>-5:30");
  ASSERT_TRUE(ist.ok());
  EXPECT_EQ(ist->std_offset, 5 * 3600 + 1800);
  EXPECT_FALSE(TimeZone::parse_rule("CET-1CEST,M13.5.0,M10.5.0").ok());
}

TEST(TimeZoneFiles, UnknownOrEscapingNamesAreRefused) {
  auto unknown = TimeZone::load("Mars/Olympus_Mons");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown time zone \"Mars/Olympus_Mons\""), std::string::npos);
  for (const char* bad : {"../../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd", "a b"}) {
    auto z = TimeZone::load(bad);
    ASSERT_FALSE(z.ok()) << bad;
    EXPECT_NE(z.message().find("is not a time zone name"), std::string::npos) << z.message();
  }
  // A directory or a non-TZif file is no zone.
  EXPECT_FALSE(TimeZone::load("Europe").ok());
  EXPECT_FALSE(TimeZone::load("zone1970.tab").ok());
}

}  // namespace
}  // namespace drover::jobspec
