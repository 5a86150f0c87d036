// When a periodic job launches (jobspec/periodic_schedule.hpp), the arithmetic the agent's and
// the server's launchers share: on-time launches named by their cron time, one catch-up named
// by the time it happens, nothing before the first time, several crons, a bad cron named.
#include "jobspec/periodic_schedule.hpp"

#include <gtest/gtest.h>

namespace drover::jobspec {
namespace {

// 2023-11-14 22:13:20 UTC: a minute boundary is 40 s later.
constexpr int64_t kT0 = 1700000000;
constexpr int64_t kMinute = kT0 + 40;

PeriodicSchedule every_minute() {
  auto s = PeriodicSchedule::of(Periodic{{"* * * * *"}, false, "UTC", true});
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.message());
  return s.ok() ? *s : PeriodicSchedule{};
}

TEST(PeriodicSchedule, NothingIsDueBeforeTheFirstLaunchTime) {
  auto s = every_minute();
  EXPECT_EQ(s.next_after(kT0), kMinute);
  EXPECT_FALSE(s.due(kT0, kMinute - 1));
}

TEST(PeriodicSchedule, AnOnTimeLaunchIsNamedByItsCronTime) {
  auto s = every_minute();
  EXPECT_EQ(s.due(kT0, kMinute), kMinute);
  // Seen a few seconds late (a busy leader): still the cron time.
  EXPECT_EQ(s.due(kT0, kMinute + kPeriodicOnTimeSlack), kMinute);
  // Done up to the launch: the next one is a minute on.
  EXPECT_FALSE(s.due(kMinute, kMinute + 30));
  EXPECT_EQ(s.due(kMinute, kMinute + 60), kMinute + 60);
}

TEST(PeriodicSchedule, MissedTimesAreOneCatchUpNamedByNow) {
  auto s = every_minute();
  // Down for ten minutes: one launch, named by the time it happens, not ten.
  const int64_t now = kMinute + 600 + 7;
  EXPECT_EQ(s.due(kT0, now), now);
  EXPECT_FALSE(s.due(now, now + 10)) << "the catch-up covers every missed time up to now";
}

TEST(PeriodicSchedule, TheEarliestOfSeveralCronsComesFirst) {
  auto s = PeriodicSchedule::of(Periodic{{"0 0 * * *", "30 22 * * *"}, false, "UTC", true});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->next_after(kT0), kT0 - 13 * 60 - 20 + 30 * 60);  // 22:30 the same day
}

TEST(PeriodicSchedule, ABadCronOrZoneIsNamed) {
  auto bad = PeriodicSchedule::of(Periodic{{"61 * * * *"}, false, "UTC", true});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("cron \"61 * * * *\""), std::string::npos) << bad.message();
  auto zone = PeriodicSchedule::of(Periodic{{"@daily"}, false, "Mars/Olympus", true});
  ASSERT_FALSE(zone.ok());
  EXPECT_NE(zone.message().find("Mars/Olympus"), std::string::npos) << zone.message();
}

TEST(PeriodicSchedule, AChildIsTheParentsCopyNamedByItsLaunchTime) {
  Job p;
  p.id = p.name = "report";
  p.periodic = Periodic{{"@daily"}, true, "UTC", true};
  EXPECT_TRUE(periodic_active(p));
  auto c = periodic_child(p, kT0);
  EXPECT_EQ(c.id, "report/periodic-1700000000");
  EXPECT_EQ(c.parent_id, "report");
  EXPECT_FALSE(periodic_active(c));
  p.parameterized = Parameterized{};
  EXPECT_FALSE(periodic_active(p)) << "a parameterized parent's block is for its children";
}

}  // namespace
}  // namespace drover::jobspec
