// Preemption (server/preemption.hpp and the reconciler's use of it): which lower-priority
// allocs a higher-priority job evicts to fit, and what both allocs then say.
#include "server/preemption.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {

Resident res(const std::string& id, int priority, int mem, const std::string& job = "default/j",
             int max_parallel = 0) {
  Resident r{id, job, "g"};
  r.priority = priority;
  r.memory_mb = mem;
  r.max_parallel = max_parallel;
  return r;
}

PreemptionAsk wants(int priority, int mem, int free_mem = 0) {
  PreemptionAsk a;
  a.job_priority = priority;
  a.memory_mb = mem;
  a.free_memory = free_mem;
  a.free_cpu = 10000;
  return a;
}

}  // namespace

TEST(Preemption, TheLowestPriorityGoesFirst) {
  auto out = select_preemptions(wants(70, 1000), {res("mid", 40, 1000), res("low", 20, 1000)});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, std::vector<std::string>{"low"});
}

TEST(Preemption, AllocsWithinTenPrioritiesAreNeverEvicted) {
  EXPECT_FALSE(select_preemptions(wants(50, 500), {res("near", 45, 4000)}));
  EXPECT_TRUE(select_preemptions(wants(55, 500), {res("ten-below", 45, 4000)}));
}

TEST(Preemption, TheAllocClosestInSizeToTheAskIsChosen) {
  auto out = select_preemptions(
      wants(90, 1000), {res("small", 20, 500), res("exact", 20, 1000), res("big", 20, 3000)});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, std::vector<std::string>{"exact"});
}

TEST(Preemption, AnAllocABiggerEvictionAlreadyCoversIsLeftRunning) {
  // The small one is taken first (lowest priority) but does not make room; the big one does,
  // alone, so the small one stays.
  auto out = select_preemptions(wants(90, 1000), {res("small", 10, 100), res("big", 20, 3000)});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, std::vector<std::string>{"big"});
}

TEST(Preemption, NothingIsEvictedWhenEvictingEverythingStillWouldNotMakeRoom) {
  EXPECT_FALSE(select_preemptions(wants(90, 5000, 500), {res("a", 10, 1000), res("b", 10, 1000)}));
}

TEST(Preemption, AGroupPastItsMaxParallelIsSparedForAnother) {
  auto out = select_preemptions(
      wants(90, 1000), {res("x1", 20, 1000, "default/x", 1), res("y1", 20, 1000, "default/y", 1)},
      {{"default/x/g", 1}});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, std::vector<std::string>{"y1"});
}

TEST(Preemption, TheScoreFallsAsThePrioritiesEvictedRise) {
  EXPECT_GT(preemption_score({20}), 0.99);
  EXPECT_GT(preemption_score({20}), preemption_score({80}));
  EXPECT_GT(preemption_score({50}), preemption_score({50, 50, 50}));
  EXPECT_NEAR(preemption_score({1024, 1024}), 1.0 / (1.0 + std::exp(0.0048 * (1026 - 2048))),
              1e-12);
}

namespace {


std::string system_job(int priority, int memory = 500) {
  return "job:\n  id: sys\n  type: system\n  priority: " + std::to_string(priority) +
         "\n  groups:\n    - name: g\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config: {command: /bin/true}\n          resources: {memory: " +
         std::to_string(memory) + "}\n";
}

// One node filled by the low-priority service job "web" (one alloc of 4000 MB), as etcd has it.
ClusterState full_node() {
  ClusterState st;
  st.nodes["a"] = node("a");
  st.jobs["default/web"] = record_of(job(web(1, 4000)));
  apply_allocs(st, plan_cluster(st, kKeys, 1), kKeys.allocs(), {{"ClientStatus", "running"}});
  return st;
}

std::map<std::string, json> allocs_of(const Plan& p) {
  std::map<std::string, json> out;
  for (const auto& [k, v] : p.puts)
    if (k.rfind(kKeys.allocs(), 0) == 0) out[json::parse(v)["ID"]] = json::parse(v);
  return out;
}

json eval_of(const Plan& p, const std::string& job) {
  for (const auto& [k, v] : p.puts)
    if (k.rfind(kKeys.evals(), 0) == 0 && json::parse(v)["JobID"] == job) return json::parse(v);
  return nullptr;
}

}  // namespace

TEST(Preemption, ASystemJobEvictsALowerPriorityAllocAndBothSaySo) {
  auto st = full_node();
  ASSERT_EQ(st.allocs.size(), 1u);
  const std::string low = st.allocs.begin()->first;
  st.jobs["default/sys"] = record_of(job(system_job(100)));
  auto plan = plan_cluster(st, kKeys, 2);
  EXPECT_EQ(plan.preempted, 1);
  auto allocs = allocs_of(plan);
  ASSERT_TRUE(allocs.count(low));
  const json& evicted = allocs[low];
  std::string sys_id;
  for (const auto& [id, a] : allocs)
    if (a["JobID"] == "sys") sys_id = id;
  ASSERT_FALSE(sys_id.empty()) << "the system job is placed";
  EXPECT_EQ(evicted["DesiredStatus"], "evict");
  EXPECT_EQ(evicted["PreemptedByAllocation"], sys_id);
  EXPECT_NE(
      evicted["DesiredDescription"].get<std::string>().find("Preempted by alloc ID " + sys_id),
      std::string::npos);
  EXPECT_EQ(allocs[sys_id]["PreemptedAllocations"], json::array({low}));
  EXPECT_TRUE(allocs[sys_id]["Metrics"]["ScoreMetaData"][0]["Scores"].contains("preemption"));
  // The evicted job's own pass finds no room for a replacement: blocked, with the reason.
  auto e = eval_of(plan, "web");
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["Status"], "blocked");
  EXPECT_NE(e["StatusDescription"].get<std::string>().find("memory"), std::string::npos);
  EXPECT_EQ(e["TriggeredBy"], "preemption");
}

TEST(Preemption, AJobWithinTenPrioritiesOfTheAllocIsBlockedInstead) {
  auto st = full_node();
  st.jobs["default/sys"] = record_of(job(system_job(55)));
  auto plan = plan_cluster(st, kKeys, 2);
  EXPECT_EQ(plan.preempted, 0);
  EXPECT_EQ(eval_of(plan, "sys")["Status"], "blocked");
}

TEST(Preemption, ServiceJobsPreemptOnlyWhenTheClusterTurnsItOn) {
  auto st = full_node();
  auto urgent = job(web(1, 1000, "  priority: 90\n"));
  urgent.id = "urgent";
  st.jobs["default/urgent"] = record_of(urgent);
  auto off = plan_cluster(st, kKeys, 2);
  EXPECT_EQ(off.preempted, 0) << "Nomad's default: service preemption off";
  EXPECT_EQ(eval_of(off, "urgent")["Status"], "blocked");
  st.scheduler.preempt_service = true;
  auto on = plan_cluster(st, kKeys, 2);
  EXPECT_EQ(on.preempted, 1);
  EXPECT_EQ(eval_of(on, "urgent")["Status"], "complete");
}
