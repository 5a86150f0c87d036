// The leader's periodic launches (server/periodic_launches.hpp) on hand-made cluster states:
// a due launch writes the child, its evaluation and the launch record; a recorded launch is
// not made again; prohibit_overlap records a skip while a child lives; a stopped or
// parameterized parent launches nothing; and the next launch time for `job status`.
#include "server/periodic_launches.hpp"

#include <gtest/gtest.h>

#include <map>

#include "fixtures.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {

constexpr int64_t kS = 1'000'000'000;
// 2023-11-14 22:13:20 UTC, a launch time of the job, submitted 5 s before.
constexpr int64_t kT0 = 1'700'000'000;

std::string tick(const std::string& extra = "") {
  return "job:\n  id: tick\n  type: batch\n  periodic:\n    cron: \"*/10 * * * * * *\"\n" + extra +
         "  groups:\n    - name: g\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config:\n            command: /bin/true\n";
}

ClusterState with_parent(const std::string& yaml, bool stop = false) {
  ClusterState st;
  st.nodes["a"] = node("a");
  st.jobs["default/tick"] = json{{"ID", "tick"},
                             {"Namespace", "default"},
                             {"Version", 0},
                             {"Stop", stop},
                             {"SubmitTime", (kT0 - 5) * kS},
                             {"Job", drover::jobspec::to_json(job(yaml))}};
  return st;
}

std::map<std::string, json> puts_of(const PeriodicWrites& w) {
  std::map<std::string, json> out;
  for (const auto& [k, v] : w.puts) out[k] = json::parse(v);
  return out;
}

TEST(PeriodicLaunches, ADueLaunchWritesTheChildItsEvaluationAndTheRecord) {
  auto st = with_parent(tick());
  auto w = periodic_launches(st, kKeys, (kT0 + 1) * kS);  // 22:13:21: 22:13:20 is due
  ASSERT_EQ(w.launched, std::vector<std::string>{"tick/periodic-1700000000"});
  auto puts = puts_of(w);
  const auto& rec = puts.at("/drover/jobs/default/tick/periodic-1700000000");
  EXPECT_EQ(rec["Job"]["ParentID"], "tick");
  EXPECT_TRUE(rec["Job"]["Periodic"].is_null()) << "a child does not launch children";
  EXPECT_EQ(rec["Version"], 0);
  EXPECT_TRUE(puts.count("/drover/job_versions/default/tick/periodic-1700000000/0"));
  EXPECT_EQ(puts.at("/drover/periodic_launch/default/tick"),
            (json{{"Launch", kT0}, {"Until", kT0 + 1}}));
  int evals = 0;
  for (const auto& [k, v] : puts)
    if (k.rfind(kKeys.evals(), 0) == 0) {
      ++evals;
      EXPECT_EQ(v["JobID"], "tick/periodic-1700000000");
      EXPECT_EQ(v["TriggeredBy"], "periodic-job");
      EXPECT_EQ(v["Status"], "pending");
    }
  EXPECT_EQ(evals, 1);
}

TEST(PeriodicLaunches, ARecordedLaunchIsNotMadeAgainAndMissedTimesAreOneCatchUp) {
  auto st = with_parent(tick());
  st.periodic_launches["default/tick"] = {{"Launch", kT0}, {"Until", kT0 + 1}};
  EXPECT_TRUE(periodic_launches(st, kKeys, (kT0 + 5) * kS).puts.empty());
  // The leader was away for a minute: one launch, named by now.
  auto w = periodic_launches(st, kKeys, (kT0 + 67) * kS);
  EXPECT_EQ(w.launched, std::vector<std::string>{"tick/periodic-1700000067"});
  EXPECT_EQ(puts_of(w).at("/drover/periodic_launch/default/tick")["Until"], kT0 + 67);
}

TEST(PeriodicLaunches, ProhibitOverlapRecordsASkipWhileAChildLives) {
  auto st = with_parent(tick("    prohibit_overlap: true\n"));
  st.jobs["default/tick/periodic-1699999990"] = json{
      {"ID", "tick/periodic-1699999990"}, {"Namespace", "default"}, {"Version", 0},
      {"Stop", false}, {"Job", {{"ID", "tick/periodic-1699999990"}, {"ParentID", "tick"}}}};
  auto w = periodic_launches(st, kKeys, (kT0 + 1) * kS);
  EXPECT_TRUE(w.launched.empty()) << "the earlier child has not finished (pending)";
  auto puts = puts_of(w);
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts.at("/drover/periodic_launch/default/tick")["Until"], kT0 + 1);
}

TEST(PeriodicLaunches, AStoppedOrParameterizedParentLaunchesNothing) {
  EXPECT_TRUE(periodic_launches(with_parent(tick(), true), kKeys, (kT0 + 1) * kS).puts.empty());
  auto template_job = with_parent(tick("  parameterized: {payload: optional}\n"));
  EXPECT_TRUE(periodic_launches(template_job, kKeys, (kT0 + 1) * kS).puts.empty());
  EXPECT_FALSE(next_periodic_launch(template_job, "default/tick", kT0));
}

TEST(PeriodicLaunches, TheNextLaunchIsTheNextCronTimeAfterTheLastOne) {
  auto st = with_parent(tick());
  EXPECT_EQ(next_periodic_launch(st, "default/tick", kT0 + 1), kT0 + 10);
  EXPECT_FALSE(next_periodic_launch(st, "default/nope", kT0));
}

}  // namespace
