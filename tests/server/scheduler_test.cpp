// The leader's reconciler (server/scheduler.hpp) on hand-made cluster states: what it writes
// is what agents run, so each test reads the plan's alloc keys as an agent would.
#include "server/scheduler.hpp"

#include <gtest/gtest.h>

#include "drover/common/json_text.hpp"
#include "fixtures.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {

const Keys kKeys{"/drover"};
constexpr int64_t kNow = 1'000'000'000'000'000'000LL;

json job_record(const drover::jobspec::Job& j, int version = 0, bool stop = false) {
  return {{"ID", j.id},
          {"Namespace", "default"},
          {"Version", version},
          {"Stop", stop},
          {"Job", drover::jobspec::to_json(j)}};
}

// The plan's puts under allocs/, by alloc id.
std::map<std::string, json> allocs_of(const Plan& p) {
  std::map<std::string, json> out;
  for (const auto& [k, v] : p.puts)
    if (k.rfind(kKeys.allocs(), 0) == 0) {
      auto j = json::parse(v);
      out[j["ID"]] = j;
    }
  return out;
}

std::map<std::string, json> evals_of(const Plan& p) {
  std::map<std::string, json> out;
  for (const auto& [k, v] : p.puts)
    if (k.rfind(kKeys.evals(), 0) == 0) out[k] = json::parse(v);
  return out;
}

// Applies a plan's alloc writes to the state, as etcd would.
void apply(ClusterState& st, const Plan& p) {
  for (const auto& [id, a] : allocs_of(p)) {
    AllocView v;
    v.id = id;
    v.node_id = a["NodeID"];
    v.alloc = a;
    v.key = kKeys.alloc(v.node_id, id);
    auto it = st.allocs.find(id);
    if (it != st.allocs.end()) v.status = it->second.status;
    st.allocs[id] = v;
  }
}

ClusterState three_nodes() {
  ClusterState st;
  for (const char* id : {"a", "b", "c"}) st.nodes[id] = node(id);
  return st;
}

}  // namespace

TEST(Scheduler, AServiceJobOfCountSixIsSpreadTwoPerNodeWithDistinctIndexes) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(6)));
  auto plan = plan_cluster(st, kKeys, kNow);
  auto allocs = allocs_of(plan);
  ASSERT_EQ(allocs.size(), 6u);
  std::map<std::string, int> per_node;
  std::set<std::string> names;
  for (const auto& [id, a] : allocs) {
    per_node[a["NodeID"]]++;
    names.insert(a["Name"]);
    EXPECT_EQ(a["DesiredStatus"], "run");
    EXPECT_EQ(a["Job"]["ID"], "web");
  }
  EXPECT_EQ(per_node, (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
  EXPECT_EQ(names.size(), 6u);
  auto evals = evals_of(plan);
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_EQ(evals.begin()->second["Status"], "complete");

  // Planned again from the result: nothing more to do.
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow).empty());
}

TEST(Scheduler, AllocsOfANodeThatWentAreLostAndReplacedOnTheOthers) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(3)));
  apply(st, plan_cluster(st, kKeys, kNow));
  st.nodes.erase("b");
  auto plan = plan_cluster(st, kKeys, kNow);
  EXPECT_EQ(plan.lost, 1);
  EXPECT_EQ(plan.placed, 1);
  std::string lost_id;
  for (const auto& [id, a] : allocs_of(plan)) {
    if (a["NodeID"] == "b") {
      EXPECT_EQ(a["ClientStatus"], "lost");
      EXPECT_EQ(a["DesiredStatus"], "stop");
      lost_id = id;
    }
  }
  ASSERT_FALSE(lost_id.empty());
  for (const auto& [id, a] : allocs_of(plan))
    if (id != lost_id) {
      EXPECT_NE(a["NodeID"], "b");
      EXPECT_EQ(a["PreviousAllocation"], lost_id);
    }
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow).empty()) << "replaced once, not on every pass";
}

TEST(Scheduler, ASystemJobGoesOnEveryNodeAndOnANodeThatJoinsLater) {
  auto st = three_nodes();
  auto sys = job(
      "job:\n  id: sys\n  type: system\n  groups:\n    - name: g\n      tasks:\n        - name: "
      "t\n          driver: raw_exec\n          config: {command: /bin/true}\n");
  st.jobs["default/sys"] = job_record(sys);
  auto plan = plan_cluster(st, kKeys, kNow);
  EXPECT_EQ(plan.placed, 3);
  apply(st, plan);
  st.nodes["d"] = node("d");
  plan = plan_cluster(st, kKeys, kNow);
  auto allocs = allocs_of(plan);
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs.begin()->second["NodeID"], "d");
}

TEST(Scheduler, AJobThatFitsNowhereGetsABlockedEvalWithNomadsReasonsAndIsPlacedLater) {
  ClusterState st;
  st.nodes["a"] = node("a", 4000, 1000);
  st.jobs["default/web"] = job_record(job(web(1, 2000)));
  auto plan = plan_cluster(st, kKeys, kNow);
  EXPECT_EQ(plan.placed, 0);
  auto evals = evals_of(plan);
  ASSERT_EQ(evals.size(), 1u);
  auto e = evals.begin()->second;
  EXPECT_EQ(e["Status"], "blocked");
  EXPECT_EQ(e["FailedTGAllocs"]["g"]["DimensionExhausted"]["memory"], 1);
  EXPECT_NE(
      e["StatusDescription"].get<std::string>().find("dimension \"memory\" exhausted on 1 node"),
      std::string::npos);
  st.evals[e["ID"]] = e;
  // Capacity appears: a bigger node joins.
  st.nodes["b"] = node("b", 4000, 8000);
  plan = plan_cluster(st, kKeys, kNow);
  EXPECT_EQ(plan.placed, 1);
  EXPECT_EQ(evals_of(plan).begin()->second["Status"], "complete");
}

TEST(Scheduler, StoppingAJobStopsItsAllocs) {
  auto st = three_nodes();
  auto j = job(web(2));
  st.jobs["default/web"] = job_record(j);
  apply(st, plan_cluster(st, kKeys, kNow));
  st.jobs["default/web"] = job_record(j, 1, /*stop=*/true);
  auto plan = plan_cluster(st, kKeys, kNow);
  auto allocs = allocs_of(plan);
  ASSERT_EQ(allocs.size(), 2u);
  for (const auto& [id, a] : allocs) EXPECT_EQ(a["DesiredStatus"], "stop");
}

TEST(Scheduler, AFailedServiceAllocIsRescheduledAfterNomadsDefaultDelay) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(1)));
  apply(st, plan_cluster(st, kKeys, kNow));
  auto& a = st.allocs.begin()->second;
  a.status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 10'000'000'000LL).empty()) << "within the 30s delay";
  auto plan = plan_cluster(st, kKeys, kNow + 31'000'000'000LL);
  EXPECT_EQ(plan.placed, 1);
  EXPECT_EQ(reschedule_at_ns("batch", 1, 0), std::nullopt);
  EXPECT_EQ(reschedule_at_ns("service", 2, 0), 120'000'000'000LL);
}

TEST(Scheduler, ADrainingNodesAllocsMoveToTheOtherNodes) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(3)));
  apply(st, plan_cluster(st, kKeys, kNow));
  st.nodes["a"]["Drain"] = true;
  st.nodes["a"]["SchedulingEligibility"] = "ineligible";
  auto plan = plan_cluster(st, kKeys, kNow);
  int stopped_on_a = 0, placed = 0;
  for (const auto& [id, a] : allocs_of(plan)) {
    if (a["NodeID"] == "a") {
      EXPECT_EQ(a["DesiredStatus"], "stop");
      ++stopped_on_a;
    } else if (a["DesiredStatus"] == "run") {
      ++placed;
    }
  }
  EXPECT_EQ(stopped_on_a, 1);
  EXPECT_EQ(placed, 1);
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow).empty());
}

TEST(Scheduler, AFailedSystemAllocIsNotPlacedAgainOnItsNode) {
  auto st = three_nodes();
  auto sys = job(
      "job:\n  id: sys\n  type: system\n  groups:\n    - name: g\n      tasks:\n        - name: "
      "t\n          driver: raw_exec\n          config: {command: /bin/false}\n");
  st.jobs["default/sys"] = job_record(sys);
  apply(st, plan_cluster(st, kKeys, kNow));
  for (auto& [id, a] : st.allocs) a.status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  EXPECT_EQ(plan_cluster(st, kKeys, kNow + 3600'000'000'000LL).placed, 0);
}
