// An operator's alloc stop on a server (keys.hpp alloc_stop; docs/cluster.md, "Stopping an
// alloc"): the leader's pass stops the alloc and places it anew, linked to its replacement as
// a migrated alloc is, once; the evaluation says why.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

TEST(AllocStop, TheStoppedAllocIsPlacedAnewOnceAndLinkedToItsReplacement) {
  ClusterState st;
  st.nodes["a"] = node("a");
  st.nodes["b"] = node("b");
  st.jobs["default/web"] = record_of(job(web(2)));
  auto plan = plan_cluster(st, kKeys, kNow);
  ASSERT_EQ(plan.placed, 2);
  apply_plan(st, plan, kKeys);
  for (auto& [id, a] : st.allocs) a.status = {{"ClientStatus", "running"}};
  const std::string victim = st.allocs.begin()->first;
  const std::string name = st.allocs.begin()->second.alloc.value("Name", "");

  st.stop_requests.insert(victim);
  plan = plan_cluster(st, kKeys, kNow + 1);
  EXPECT_EQ(plan.placed, 1);
  auto written = plan_allocs(plan, kKeys.allocs());
  ASSERT_TRUE(written.count(victim));
  const json& stopped = written.at(victim);
  EXPECT_EQ(stopped["DesiredStatus"], "stop");
  EXPECT_EQ(stopped["DesiredDescription"], "alloc was stopped by an operator");
  const std::string next = stopped.value("NextAllocation", "");
  ASSERT_FALSE(next.empty()) << stopped.dump();
  ASSERT_TRUE(written.count(next));
  EXPECT_EQ(written.at(next)["PreviousAllocation"], victim);
  EXPECT_EQ(written.at(next)["Name"], name) << "the same index";
  bool said = false;
  for (const auto& [k, v] : plan.puts)
    if (k.rfind(kKeys.evals(), 0) == 0) said |= json::parse(v).value("TriggeredBy", "") == "alloc-stop";
  EXPECT_TRUE(said) << "its evaluation is triggered by alloc-stop";

  // The request stays until GC; acted on once.
  apply_plan(st, plan, kKeys);
  plan = plan_cluster(st, kKeys, kNow + 2);
  EXPECT_EQ(plan.placed, 0);
  EXPECT_FALSE(plan_allocs(plan, kKeys.allocs()).count(victim));
}
