// `job plan` (server/job_plan.hpp): the reconciler's dry-run on hand-made cluster states, and
// Nomad's job diff.
#include "server/job_plan.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {


ClusterState running(const std::string& yaml) {
  ClusterState st;
  for (const char* id : {"a", "b", "c"}) st.nodes[id] = node(id);
  auto j = job(yaml);
  st.jobs["default/web"] = json{{"ID", "web"}, {"Namespace", "default"}, {"Version", 0},
                            {"Stop", false}, {"Job", drover::jobspec::to_json(j)}};
  for (const auto& [k, v] : plan_cluster(st, kKeys, kNow).puts) {
    if (k.rfind(kKeys.allocs(), 0) != 0) continue;
    auto a = json::parse(v);
    AllocView view;
    view.id = a["ID"];
    view.node_id = a["NodeID"];
    view.take(a);
    view.key = k;
    view.status = {{"ClientStatus", "running"}};
    st.allocs[view.id] = view;
  }
  return st;
}

json updates_of(const json& plan, const std::string& group = "g") {
  return plan["Annotations"]["DesiredTGUpdates"][group];
}

TEST(JobPlan, ANewJobIsPlacedWholeAndItsDiffIsAdded) {
  ClusterState st;
  for (const char* id : {"a", "b", "c"}) st.nodes[id] = node(id);
  auto plan = plan_job(st, kKeys, job(web(3)), kNow);
  EXPECT_EQ(updates_of(plan)["Place"], 3) << plan.dump(2);
  EXPECT_EQ(plan["JobModifyIndex"], -1);
  EXPECT_TRUE(plan["FailedTGAllocs"].is_null());
  EXPECT_EQ(plan["Diff"]["Type"], "Added");
  EXPECT_TRUE(st.allocs.empty()) << "a plan writes nothing";
}

TEST(JobPlan, ScalingUpPlacesOnlyTheNewAllocsUpdatesTheOthersInPlaceAndTheDiffNamesTheCount) {
  auto st = running(web(3));
  auto plan = plan_job(st, kKeys, job(web(5)), kNow);
  EXPECT_EQ(updates_of(plan)["Place"], 2) << plan.dump(2);
  // The running allocs move to the new version where they are (Nomad's in-place update).
  EXPECT_EQ(updates_of(plan)["InPlaceUpdate"], 3);
  EXPECT_EQ(plan["JobModifyIndex"], 0);
  const json& g = plan["Diff"]["TaskGroups"][0];
  EXPECT_EQ(g["Type"], "Edited");
  bool count = false;
  for (const auto& f : g["Fields"])
    if (f["Name"] == "Count") {
      count = true;
      EXPECT_EQ(f["Old"], "3");
      EXPECT_EQ(f["New"], "5");
    }
  EXPECT_TRUE(count) << g.dump(2);
}

TEST(JobPlan, ScalingDownStopsAndAnUnchangedJobChangesNothing) {
  auto st = running(web(3));
  auto down = plan_job(st, kKeys, job(web(1)), kNow);
  EXPECT_EQ(updates_of(down)["Stop"], 2) << down.dump(2);
  EXPECT_EQ(updates_of(down)["InPlaceUpdate"], 1);
  auto same = plan_job(st, kKeys, job(web(3)), kNow);
  EXPECT_EQ(updates_of(same)["Ignore"], 3) << same.dump(2);
  EXPECT_EQ(updates_of(same)["Place"], 0);
  EXPECT_EQ(same["Diff"]["Type"], "None");
}

TEST(JobPlan, ANewTaskConfigIsADestructiveUpdateAndTheTaskDiffShowsIt) {
  auto st = running(web(2));
  std::string changed = web(2);
  changed.replace(changed.find("/bin/true"), 9, "/bin/false");
  auto plan = plan_job(st, kKeys, job(changed), kNow);
  EXPECT_EQ(updates_of(plan)["DestructiveUpdate"], 2) << plan.dump(2);
  EXPECT_EQ(updates_of(plan)["Place"], 0);
  EXPECT_EQ(updates_of(plan)["Stop"], 0);
  const json& task = plan["Diff"]["TaskGroups"][0]["Tasks"][0];
  EXPECT_EQ(task["Type"], "Edited") << task.dump(2);
  EXPECT_NE(task.dump().find("/bin/false"), std::string::npos) << task.dump(2);
}

TEST(JobPlan, ANewGroupReschedulePolicyIsAnInPlaceUpdate) {
  auto st = running(web(2));
  std::string changed = web(2);
  changed.replace(changed.find("      tasks:"), 0, "      reschedule: {attempts: 5, interval: 1h, unlimited: false}\n");
  auto plan = plan_job(st, kKeys, job(changed), kNow);
  EXPECT_EQ(updates_of(plan)["InPlaceUpdate"], 2) << plan.dump(2);
  EXPECT_EQ(updates_of(plan)["DestructiveUpdate"], 0);
}

TEST(JobPlan, AJobThatFitsNowhereReportsTheFailedGroupWithNomadsReasons) {
  ClusterState st;
  st.nodes["a"] = node("a");
  auto plan = plan_job(st, kKeys, job(web(1, 100000)), kNow);
  ASSERT_TRUE(plan["FailedTGAllocs"].is_object()) << plan.dump(2);
  EXPECT_EQ(plan["FailedTGAllocs"]["g"]["DimensionExhausted"]["memory"], 1) << plan.dump(2);
}

TEST(JobPlan, APlanThatPreemptsListsTheAllocsItWouldEvict) {
  // web fills each of the three nodes; a system job of priority 100 preempts (Nomad's default
  // for system jobs) on every one of them.
  auto st = running(web(3, 4000));
  auto plan = plan_job(
      st, kKeys,
      job("job:\n  id: sys\n  type: system\n  priority: 100\n  groups:\n    - name: g\n"
          "      tasks:\n        - name: t\n          driver: raw_exec\n"
          "          config: {command: /bin/true}\n          resources: {memory: 500}\n"),
      kNow);
  EXPECT_EQ(updates_of(plan)["Place"], 3) << plan.dump(2);
  EXPECT_EQ(updates_of(plan)["Preemptions"], 3) << plan.dump(2);
  const json& preempted = plan["Annotations"]["PreemptedAllocs"];
  ASSERT_EQ(preempted.size(), 3u) << plan.dump(2);
  for (const auto& a : preempted) {
    EXPECT_EQ(a["JobID"], "web");
    EXPECT_TRUE(st.allocs.count(a["ID"].get<std::string>()));
  }
}

}  // namespace

// `job run -check-index`: the job's modify index is the etcd revision its current version was
// first written at; 0 means the job must not exist (Nomad's EnforceIndex words).
TEST(EnforceIndex, ZeroIsForANewJobAndAnIndexMustBeTheJobsOwn) {
  drover::upstream::EtcdRange range;
  range.revision = 40;
  const json rec = {{"ID", "web"}, {"Namespace", "default"}, {"Version", 1},
                    {"Stop", false}, {"Job", drover::jobspec::to_json(job(web(1)))}};
  range.kvs.push_back({"/drover/jobs/default/web", rec.dump(), 40, 12});
  range.kvs.push_back({"/drover/job_versions/default/web/0", json{{"Version", 0}}.dump(), 12, 12});
  range.kvs.push_back({"/drover/job_versions/default/web/1", rec.dump(), 39, 31});
  auto st = read_cluster_state(range, kKeys);
  EXPECT_EQ(st.job_modify_index.at("default/web"), 31) << "version 1's first write";
  EXPECT_EQ(plan_job(st, kKeys, job(web(2)), kNow)["JobModifyIndex"], 31);

  EXPECT_EQ(enforce_index_problem(st, "default/web", 31), "");
  EXPECT_EQ(enforce_index_problem(st, "default/web", 0),
            "Enforcing job modify index 0: job already exists");
  EXPECT_EQ(enforce_index_problem(st, "default/web", 12),
            "Enforcing job modify index 12: job exists with conflicting job modify index: 31");
  EXPECT_EQ(enforce_index_problem(st, "default/api", 0), "");
  EXPECT_EQ(enforce_index_problem(st, "default/api", 7),
            "Enforcing job modify index 7: job does not exist");
}
