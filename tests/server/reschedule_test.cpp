// Nomad's reschedule arithmetic (server/reschedule.hpp): the delay functions, the ceiling and
// its reset, the attempts window, and the tracker a replacement carries.
#include "server/reschedule.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "jobspec/parse.hpp"

using namespace drover::server;
using drover::jobspec::ReschedulePolicy;
using nlohmann::json;

namespace {

constexpr int64_t kS = 1'000'000'000LL;
constexpr int64_t kT0 = 1'700'000'000 * kS;

// An alloc that was itself placed by reschedules with these delays, `gap` apart.
json alloc_after(const std::vector<int64_t>& delays, int64_t gap = 60 * kS) {
  json events = json::array();
  int64_t t = kT0;
  for (auto d : delays) {
    events.push_back(
        {{"RescheduleTime", t}, {"PrevAllocID", "p"}, {"PrevNodeID", "n"}, {"Delay", d}});
    t += gap;
  }
  return {{"ID", "x"}, {"NodeID", "n1"}, {"RescheduleTracker", {{"Events", events}}}};
}

ReschedulePolicy policy(const std::string& fn, int64_t delay_s, int64_t max_s) {
  ReschedulePolicy p;
  p.delay_function = fn;
  p.delay = std::chrono::seconds(delay_s);
  p.max_delay = std::chrono::seconds(max_s);
  p.unlimited = true;
  return p;
}

// The delay of the reschedule after `delays`, failing right after the last one.
int64_t next(const ReschedulePolicy& p, const std::vector<int64_t>& delays) {
  int64_t last = kT0 + (delays.empty() ? 0 : int64_t(delays.size() - 1) * 60 * kS);
  return next_reschedule_delay_ns(p, alloc_after(delays), last + kS) / kS;
}

TEST(RescheduleDelay, ConstantStaysAtTheDelay) {
  auto p = policy("constant", 5, 0);
  EXPECT_EQ(next(p, {}), 5);
  EXPECT_EQ(next(p, {5 * kS, 5 * kS, 5 * kS}), 5);
}

TEST(RescheduleDelay, ExponentialDoublesUpToTheCeiling) {
  auto p = policy("exponential", 30, 100);
  EXPECT_EQ(next(p, {}), 30);
  EXPECT_EQ(next(p, {30 * kS}), 60);
  EXPECT_EQ(next(p, {30 * kS, 60 * kS}), 100) << "120s is capped at max_delay";
  EXPECT_EQ(next(p, {30 * kS, 60 * kS, 100 * kS}), 100);
}

TEST(RescheduleDelay, FibonacciAddsTheLastTwoUpToTheCeiling) {
  auto p = policy("fibonacci", 5, 30);
  EXPECT_EQ(next(p, {}), 5);
  EXPECT_EQ(next(p, {5 * kS}), 5);
  EXPECT_EQ(next(p, {5 * kS, 5 * kS}), 10);
  EXPECT_EQ(next(p, {5 * kS, 5 * kS, 10 * kS}), 15);
  EXPECT_EQ(next(p, {5 * kS, 5 * kS, 10 * kS, 15 * kS}), 25);
  EXPECT_EQ(next(p, {5 * kS, 5 * kS, 10 * kS, 15 * kS, 25 * kS}), 30);
}

TEST(RescheduleDelay, AnAllocThatRanLongerThanTheCeilingStartsTheSeriesOver) {
  auto p = policy("exponential", 30, 100);
  json a = alloc_after({30 * kS, 60 * kS, 100 * kS});
  int64_t last = kT0 + 2 * 60 * kS;
  EXPECT_EQ(next_reschedule_delay_ns(p, a, last + 50 * kS), 100 * kS) << "failed soon again";
  EXPECT_EQ(next_reschedule_delay_ns(p, a, last + 500 * kS), 30 * kS) << "ran 500s first";
}

TEST(RescheduleAttempts, AttemptsCountOnlyWithinTheInterval) {
  ReschedulePolicy p = drover::jobspec::default_reschedule_policy(drover::jobspec::JobType::Batch);
  p.attempts = 2;
  p.interval = std::chrono::minutes(10);
  json first = {{"ID", "a"}, {"NodeID", "n"}};
  EXPECT_EQ(next_reschedule_at_ns(p, first, kT0), kT0 + 5 * kS) << "a first failure";
  json two = alloc_after({5 * kS, 5 * kS});  // rescheduled at kT0 and kT0+60s
  EXPECT_EQ(next_reschedule_at_ns(p, two, kT0 + 120 * kS), std::nullopt)
      << "2 attempts already made in the last 10 minutes";
  EXPECT_EQ(next_reschedule_at_ns(p, two, kT0 + 630 * kS), kT0 + 635 * kS)
      << "the first attempt has left the window";
  p.attempts = 0;
  EXPECT_EQ(next_reschedule_at_ns(p, first, kT0), std::nullopt) << "rescheduling off";
}

TEST(RescheduleAttempts, UnlimitedNeverRunsOut) {
  auto p = policy("constant", 5, 0);
  std::vector<int64_t> many(50, 5 * kS);
  EXPECT_TRUE(next_reschedule_at_ns(p, alloc_after(many, kS), kT0 + 60 * kS).has_value());
}

TEST(RescheduleTracker, TheReplacementCarriesTheEventsThatStillCount) {
  ReschedulePolicy p = policy("constant", 5, 0);
  p.unlimited = false;
  p.attempts = 3;
  p.interval = std::chrono::minutes(2);
  json prev = alloc_after({5 * kS, 5 * kS});  // at kT0 and kT0+60s
  prev["ID"] = "prev";
  auto t = next_reschedule_tracker(p, prev, kT0 + 130 * kS, kT0 + 135 * kS);
  ASSERT_EQ(t["Events"].size(), 2u) << "the event at kT0 is older than the 2m interval";
  EXPECT_EQ(t["Events"][1]["PrevAllocID"], "prev");
  EXPECT_EQ(t["Events"][1]["PrevNodeID"], "n1");
  EXPECT_EQ(t["Events"][1]["RescheduleTime"], kT0 + 135 * kS);
  EXPECT_EQ(t["Events"][1]["Delay"], 5 * kS);
  auto u = next_reschedule_tracker(policy("constant", 5, 0),
                                   alloc_after(std::vector<int64_t>(9, kS)), kT0, kT0);
  EXPECT_EQ(u["Events"].size(), 6u) << "unlimited keeps the last 5 and adds this one";
}

}  // namespace
