// The leader's reconciler (server/scheduler.hpp) on hand-made cluster states: what it writes
// is what agents run, so each test reads the plan's alloc keys as an agent would.
#include "server/scheduler.hpp"

#include <gtest/gtest.h>

#include <set>

#include "drover/common/json_text.hpp"
#include "fixtures.hpp"
#include "server/deployment.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {


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
    v.take(a);
    v.key = kKeys.alloc(v.node_id, id);
    auto it = st.allocs.find(id);
    if (it != st.allocs.end()) v.status = it->second.status;
    st.allocs[id] = v;
  }
}

// Applies a plan's evaluation writes to the state.
void apply_evals(ClusterState& st, const Plan& p) {
  for (const auto& [k, e] : evals_of(p)) st.evals[e["ID"]] = e;
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
  const std::string first = st.allocs.begin()->first;
  st.allocs.at(first).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  // The failure: a follow-up evaluation waits out the 30s delay; the alloc names it.
  auto plan = plan_cluster(st, kKeys, kNow + 1'000'000'000LL);
  EXPECT_EQ(plan.placed, 0);
  json followup;
  for (const auto& [k, e] : evals_of(plan))
    if (e.value("WaitUntil", int64_t{0}) != 0) followup = e;
  ASSERT_TRUE(followup.is_object()) << "no follow-up eval";
  EXPECT_EQ(followup["Status"], "pending");
  EXPECT_EQ(followup["TriggeredBy"], "alloc-failure");
  EXPECT_EQ(followup["WaitUntil"], kNow + 30'000'000'000LL);
  EXPECT_EQ(allocs_of(plan).at(first)["FollowupEvalID"], followup["ID"]);
  apply(st, plan);
  apply_evals(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 10'000'000'000LL).empty()) << "within the delay";
  // After it: the replacement, linked both ways, with the reschedule in its tracker.
  plan = plan_cluster(st, kKeys, kNow + 31'000'000'000LL);
  EXPECT_EQ(plan.placed, 1);
  auto allocs = allocs_of(plan);
  EXPECT_TRUE(allocs.at(first).contains("NextAllocation"));
  const json& fresh = allocs.at(allocs.at(first)["NextAllocation"]);
  EXPECT_EQ(fresh["PreviousAllocation"], first);
  ASSERT_EQ(fresh["RescheduleTracker"]["Events"].size(), 1u);
  EXPECT_EQ(fresh["RescheduleTracker"]["Events"][0]["Delay"], 30'000'000'000LL);
  EXPECT_EQ(fresh["RescheduleTracker"]["Events"][0]["PrevAllocID"], first);
  EXPECT_EQ(fresh["EvalID"], followup["ID"]);
  const json done = evals_of(plan).at(kKeys.eval(followup["ID"]));
  EXPECT_EQ(done["Status"], "complete");
  EXPECT_EQ(done["PlacedAllocs"], json::array({fresh["ID"]}));
  // Its failure waits twice as long (exponential).
  apply(st, plan);
  apply_evals(st, plan);
  st.allocs.at(fresh["ID"]).status = {{"ClientStatus", "failed"},
                                      {"ModifyTime", kNow + 40'000'000'000LL}};
  plan = plan_cluster(st, kKeys, kNow + 41'000'000'000LL);
  bool waits_60s = false;
  for (const auto& [k, e] : evals_of(plan))
    waits_60s |= e.value("WaitUntil", int64_t{0}) == kNow + 100'000'000'000LL;
  EXPECT_TRUE(waits_60s);
}

// The node rewrote the failed alloc's status after its follow-up evaluation was written (a later
// ModifyTime): the replacement is still placed when that evaluation opens, under it, not by a
// pass that completes it with nothing placed and then another evaluation.
TEST(Scheduler, AFollowUpEvalPlacesTheReplacementWhenItOpensThoughTheStatusWasRewritten) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(1)));
  apply(st, plan_cluster(st, kKeys, kNow));
  const std::string first = st.allocs.begin()->first;
  st.allocs.at(first).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  auto plan = plan_cluster(st, kKeys, kNow + 1'000'000'000LL);
  json followup;
  for (const auto& [k, e] : evals_of(plan))
    if (e.value("WaitUntil", int64_t{0}) != 0) followup = e;
  ASSERT_TRUE(followup.is_object());
  apply(st, plan);
  apply_evals(st, plan);
  st.allocs.at(first).status["ModifyTime"] = kNow + 2'000'000'000LL;  // rewritten by its node
  plan = plan_cluster(st, kKeys, kNow + 30'500'000'000LL);  // the eval is open, 30 s after it
  EXPECT_EQ(plan.placed, 1);
  const auto allocs = allocs_of(plan);
  ASSERT_TRUE(allocs.at(first).contains("NextAllocation"));
  EXPECT_EQ(allocs.at(allocs.at(first)["NextAllocation"])["EvalID"], followup["ID"]);
  const json done = evals_of(plan).at(kKeys.eval(followup["ID"]));
  EXPECT_EQ(done["PlacedAllocs"].size(), 1u) << done.dump();
}

namespace {

// A job allowed one reschedule an hour (after 5s) whose alloc failed, was replaced once, and
// whose replacement failed too at `second_failed_at`: `second` names the replacement.
void one_reschedule_used(ClusterState& st, std::string& second, int64_t second_failed_at) {
  auto j = job(web(1, 300,
                   "  reschedule: {attempts: 1, interval: 1h, delay: 5s, "
                   "delay_function: constant, unlimited: false}\n"));
  st.jobs["default/web"] = job_record(j);
  apply(st, plan_cluster(st, kKeys, kNow));
  std::string id = st.allocs.begin()->first;
  st.allocs.at(id).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  auto plan = plan_cluster(st, kKeys, kNow + 6'000'000'000LL);
  ASSERT_EQ(plan.placed, 1) << "the delay (5s) is over: placed at once, no follow-up";
  apply(st, plan);
  apply_evals(st, plan);
  second = allocs_of(plan).at(id)["NextAllocation"];
  st.allocs.at(second).status = {{"ClientStatus", "failed"}, {"ModifyTime", second_failed_at}};
}

}  // namespace

TEST(Scheduler, TheJobsRescheduleBlockLimitsTheAttempts) {
  auto st = three_nodes();
  std::string second;
  ASSERT_NO_FATAL_FAILURE(one_reschedule_used(st, second, kNow + 60'000'000'000LL));
  auto plan = plan_cluster(st, kKeys, kNow + 3600'000'000'000LL);
  EXPECT_EQ(plan.placed, 0) << "the one attempt in the hour is used";
  EXPECT_EQ(st.allocs.at(second).client_status(), "failed");
}

TEST(Scheduler, AForcedEvaluationReschedulesAFailedAllocThatIsOutOfAttempts) {
  auto st = three_nodes();
  std::string second;
  ASSERT_NO_FATAL_FAILURE(one_reschedule_used(st, second, kNow));
  ASSERT_EQ(plan_cluster(st, kKeys, kNow + 7'000'000'000LL).placed, 0) << "out of attempts";
  // `job eval -force-reschedule` (POST /v1/job/web/evaluate): replaced now, and the
  // evaluation is done.
  st.evals["forced"] = {{"ID", "forced"},           {"Namespace", "default"},
                        {"JobID", "web"},           {"Type", "service"},
                        {"Status", "pending"},      {"TriggeredBy", "job-register"},
                        {"ForceReschedule", true},  {"CreateTime", kNow}};
  auto plan = plan_cluster(st, kKeys, kNow + 8'000'000'000LL);
  EXPECT_EQ(plan.placed, 1);
  EXPECT_TRUE(allocs_of(plan).at(second).contains("NextAllocation"));
  EXPECT_EQ(evals_of(plan).at(kKeys.eval("forced"))["Status"], "complete");
  // A plain evaluation changes nothing: the new alloc runs, nothing else is placed.
  apply(st, plan);
  apply_evals(st, plan);
  st.evals["plain"] = {{"ID", "plain"},        {"Namespace", "default"}, {"JobID", "web"},
                       {"Type", "service"},    {"Status", "pending"},
                       {"TriggeredBy", "job-register"}, {"CreateTime", kNow}};
  plan = plan_cluster(st, kKeys, kNow + 9'000'000'000LL);
  EXPECT_EQ(plan.placed, 0);
  EXPECT_EQ(evals_of(plan).at(kKeys.eval("plain"))["Status"], "complete");
}

TEST(Scheduler, ABatchAllocIsRescheduledOnceByDefault) {
  auto st = three_nodes();
  auto b =
      job("job:\n  id: b\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
          "        - name: t\n          driver: raw_exec\n          config: {command: x}\n");
  st.jobs["default/b"] = job_record(b);
  apply(st, plan_cluster(st, kKeys, kNow));
  std::string id = st.allocs.begin()->first;
  st.allocs.at(id).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  auto plan = plan_cluster(st, kKeys, kNow + 5'000'000'000LL);
  ASSERT_EQ(plan.placed, 1) << "after Nomad's 5s batch delay";
  apply(st, plan);
  std::string second = allocs_of(plan).at(id)["NextAllocation"];
  st.allocs.at(second).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  EXPECT_EQ(plan_cluster(st, kKeys, kNow + 3600'000'000'000LL).placed, 0);
}

TEST(Scheduler, StoppingAJobResolvesItsWaitingFollowUpEval) {
  auto st = three_nodes();
  auto j = job(web(1));
  st.jobs["default/web"] = job_record(j);
  apply(st, plan_cluster(st, kKeys, kNow));
  st.allocs.begin()->second.status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow}};
  auto plan = plan_cluster(st, kKeys, kNow);
  apply(st, plan);
  apply_evals(st, plan);
  st.jobs["default/web"] = job_record(j, 1, /*stop=*/true);
  plan = plan_cluster(st, kKeys, kNow + 1'000'000'000LL);
  int waiting = 0;
  for (const auto& [k, e] : evals_of(plan))
    if (e.contains("WaitUntil")) {
      ++waiting;
      EXPECT_EQ(e["Status"], "complete");
    }
  EXPECT_EQ(waiting, 1);
  EXPECT_EQ(plan.placed, 0);
}

TEST(Scheduler, ADrainingNodesAllocsMoveToTheOtherNodes) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(3)));
  apply(st, plan_cluster(st, kKeys, kNow));
  drain(st, "a", kNow);
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
  // Nothing is left on the node: the next pass completes the drain, and only that.
  auto done = plan_cluster(st, kKeys, kNow);
  ASSERT_EQ(done.puts.size(), 1u);
  EXPECT_EQ(done.puts[0].first, kKeys.node_control("a"));
  json control = json::parse(done.puts[0].second);
  EXPECT_EQ(control["Drain"], false);
  EXPECT_EQ(control["Eligibility"], "ineligible");
  EXPECT_EQ(control["LastDrain"]["Status"], "complete");
  st.controls["a"] = control;
  st.nodes["a"]["Drain"] = false;
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

// --- Rolling updates (server/deployment.hpp) ---------------------------------------------

namespace {

// Applies every write of a plan to the state, as etcd would: allocs (keeping what their nodes
// reported), evaluations, deployments, the job and its versions.
void apply_writes(ClusterState& st, const Plan& p) {
  apply(st, p);
  apply_evals(st, p);
  for (const auto& [k, v] : p.puts) {
    auto j = json::parse(v);
    if (k.rfind(kKeys.deployments(), 0) == 0) {
      st.deployments[j["ID"]] = j;
    } else if (k.rfind(kKeys.jobs(), 0) == 0) {
      st.jobs[k.substr(kKeys.jobs().size())] = j;
    } else if (k.rfind(kKeys.job_versions_all(), 0) == 0) {
      st.job_versions[std::string(j["Namespace"]) + "/" + std::string(j["ID"])][j["Version"]] = j;
    } else if (k.rfind(kKeys.node_controls(), 0) == 0) {
      const std::string node = k.substr(kKeys.node_controls().size());
      st.controls[node] = j;
      st.nodes[node]["Drain"] = j["Drain"];
      st.nodes[node]["SchedulingEligibility"] = j["Eligibility"];
    }
  }
}

void report(ClusterState& st, const std::string& id, bool healthy) {
  st.allocs.at(id).status = {{"ClientStatus", "running"},
                             {"DeploymentStatus", {{"Healthy", healthy}}},
                             {"ModifyTime", kNow}};
}

// The allocs of the job meant to run, by version.
std::map<int, std::vector<std::string>> running_by_version(const ClusterState& st) {
  std::map<int, std::vector<std::string>> out;
  for (const auto& [id, a] : st.allocs)
    if (a.desired() == "run") out[a.alloc.value("JobVersion", 0)].push_back(id);
  return out;
}

// By value: a range-for over running_by_version(st)[v] would read a destroyed map.
std::vector<std::string> ids_of_version(const ClusterState& st, int version) {
  return running_by_version(st)[version];
}

const char* kRolling =
    "  update: {max_parallel: 1, min_healthy_time: 1s, healthy_deadline: 1m, "
    "progress_deadline: 5m, auto_revert: true}\n";

// v0 of a count-3 job with a rolling update block, placed and healthy: its deployment has
// succeeded and the version is stable.
ClusterState stable_v0(const char* update = kRolling) {
  auto st = three_nodes();
  auto v0 = job(web(3, 300, update));
  st.jobs["default/web"] = job_record(v0);
  st.job_versions["default/web"][0] = job_record(v0);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  for (auto& [id, a] : st.allocs) report(st, id, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  return st;
}

json only_deployment_of_version(const ClusterState& st, int version) {
  json found;
  for (const auto& [id, d] : st.deployments)
    if (d["JobVersion"] == version) found = d;
  return found;
}

}  // namespace

TEST(Deployment, TheFirstVersionsDeploymentSucceedsWhenItsAllocsAreHealthyAndMarksItStable) {
  auto st = stable_v0();
  ASSERT_EQ(st.deployments.size(), 1u);
  const json d = st.deployments.begin()->second;
  EXPECT_EQ(d["Status"], "successful");
  EXPECT_EQ(d["TaskGroups"]["g"]["HealthyAllocs"], 3);
  EXPECT_EQ(d["TaskGroups"]["g"]["DesiredTotal"], 3);
  EXPECT_TRUE(st.jobs.at("default/web").value("Stable", false));
  for (const auto& [id, a] : st.allocs) EXPECT_EQ(a.alloc["DeploymentID"], d["ID"]);
}

TEST(Deployment, ANewVersionReplacesMaxParallelAllocsAtATimeWaitingForHealth) {
  auto st = stable_v0();
  st.jobs["default/web"] = job_record(job(web(3, 400, kRolling)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  auto by = running_by_version(st);
  ASSERT_EQ(by[1].size(), 1u) << "max_parallel 1";
  EXPECT_EQ(by[0].size(), 2u);
  json d1 = only_deployment_of_version(st, 1);
  EXPECT_EQ(d1["Status"], "running");
  EXPECT_EQ(st.allocs.at(by[1][0]).alloc["DeploymentID"], d1["ID"]);
  // Nothing more while the new alloc's health is not known.
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  EXPECT_EQ(running_by_version(st)[1].size(), 1u);
  // Healthy: the next one goes; and so on to the end.
  for (int step = 2; step <= 3; ++step) {
    report(st, running_by_version(st)[1].back(), true);
    for (const auto& id : ids_of_version(st, 1)) report(st, id, true);
    apply_writes(st, plan_cluster(st, kKeys, kNow + 2'000'000'000LL));
    EXPECT_EQ(running_by_version(st)[1].size(), std::size_t(step));
  }
  for (const auto& id : ids_of_version(st, 1)) report(st, id, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 3'000'000'000LL));
  EXPECT_EQ(only_deployment_of_version(st, 1)["Status"], "successful");
  EXPECT_EQ(running_by_version(st)[0].size(), 0u);
  EXPECT_TRUE(st.jobs.at("default/web").value("Stable", false));
}

TEST(Deployment, AnUnhealthyVersionFailsItsDeploymentAndIsRevertedToTheLastStable) {
  auto st = stable_v0();
  st.jobs["default/web"] = job_record(job(web(3, 400, kRolling)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  const std::string bad = running_by_version(st)[1].at(0);
  report(st, bad, false);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  json d1 = only_deployment_of_version(st, 1);
  EXPECT_EQ(d1["Status"], "failed");
  EXPECT_EQ(d1["StatusDescription"],
            "Failed due to unhealthy allocations - rolling back to job version 0");
  const json rec = st.jobs.at("default/web").as_json();
  EXPECT_EQ(rec["Version"], 2);
  EXPECT_EQ(rec["Job"], st.job_versions.at("default/web").at(0).as_json()["Job"]);
  EXPECT_EQ(running_by_version(st)[0].size(), 2u) << "a failed deployment replaces no more";
  // v2 (v0's job again): the v0 allocs are updated in place, the bad one is replaced.
  apply_writes(st, plan_cluster(st, kKeys, kNow + 2'000'000'000LL));
  auto by = running_by_version(st);
  EXPECT_EQ(by[2].size(), 3u);
  EXPECT_EQ(by[1].size(), 0u);
  EXPECT_EQ(st.allocs.at(bad).desired(), "stop");
  for (const auto& id : by[2]) report(st, id, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 3'000'000'000LL));
  EXPECT_EQ(only_deployment_of_version(st, 2)["Status"], "successful");
}

TEST(Deployment, NoHealthyAllocBeforeTheProgressDeadlineFailsTheDeployment) {
  auto st = stable_v0();
  st.jobs["default/web"] = job_record(job(web(3, 400, kRolling)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  apply_writes(st, plan_cluster(st, kKeys, kNow + 301'000'000'000LL));
  json d1 = only_deployment_of_version(st, 1);
  EXPECT_EQ(d1["Status"], "failed");
  EXPECT_EQ(d1["StatusDescription"].get<std::string>().rfind("Failed due to progress deadline", 0),
            0u);
}

TEST(Deployment, APausedDeploymentReplacesNothingAndMissesNoDeadlineUntilResumed) {
  constexpr int64_t kSec = 1'000'000'000LL;
  auto st = stable_v0();
  st.jobs["default/web"] = job_record(job(web(3, 400, kRolling)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  const std::string id = only_deployment_of_version(st, 1)["ID"];
  // `deployment pause` (POST /v1/deployment/pause/:id).
  ASSERT_FALSE(pause_deployment(st.deployments.at(id), true, kNow));
  for (const auto& a : ids_of_version(st, 1)) report(st, a, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1 * kSec));
  EXPECT_EQ(running_by_version(st)[1].size(), 1u) << "paused: nothing more is replaced";
  EXPECT_EQ(st.deployments.at(id)["TaskGroups"]["g"]["HealthyAllocs"], 1) << "still counted";
  // Past the progress deadline (5m after the healthy alloc) while paused: not failed.
  apply_writes(st, plan_cluster(st, kKeys, kNow + 400 * kSec));
  EXPECT_EQ(st.deployments.at(id)["Status"], "paused");
  EXPECT_EQ(st.deployments.at(id)["StatusDescription"], "Deployment is paused");
  // `deployment resume`: the deadline counts from now, and the rolling goes on.
  ASSERT_FALSE(pause_deployment(st.deployments.at(id), false, kNow + 400 * kSec));
  EXPECT_EQ(st.deployments.at(id)["TaskGroups"]["g"]["RequireProgressByNs"],
            kNow + 700 * kSec);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 401 * kSec));
  EXPECT_EQ(running_by_version(st)[1].size(), 2u);
  EXPECT_EQ(st.deployments.at(id)["Status"], "running");
}

TEST(Deployment, APausedDeploymentKeepsItsCanaryBesideTheOldAllocsAndCannotPromoteItself) {
  const char* canary =
      "  update: {max_parallel: 1, canary: 1, auto_promote: true, min_healthy_time: 1s, "
      "healthy_deadline: 1m}\n";
  auto st = stable_v0(canary);
  st.jobs["default/web"] = job_record(job(web(3, 400, canary)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  const std::string c = running_by_version(st)[1].at(0);
  const std::string id = only_deployment_of_version(st, 1)["ID"];
  ASSERT_FALSE(pause_deployment(st.deployments.at(id), true, kNow));
  report(st, c, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  EXPECT_EQ(st.allocs.at(c).desired(), "run") << "the canary shares an old alloc's index, and stays";
  EXPECT_EQ(running_by_version(st)[0].size(), 3u);
  EXPECT_EQ(st.deployments.at(id)["TaskGroups"]["g"]["HealthyAllocs"], 1);
  EXPECT_FALSE(st.deployments.at(id)["TaskGroups"]["g"].value("Promoted", false))
      << "auto_promote waits for the resume, as Nomad's";
}

TEST(Deployment, AFailRequestFailsAPausedDeploymentAndRevertsToTheLastStable) {
  auto st = stable_v0();
  st.jobs["default/web"] = job_record(job(web(3, 400, kRolling)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  const std::string id = only_deployment_of_version(st, 1)["ID"];
  ASSERT_FALSE(pause_deployment(st.deployments.at(id), true, kNow));
  // `deployment fail` (POST /v1/deployment/fail/:id): the leader's next pass decides.
  ASSERT_FALSE(request_deployment_failure(st.deployments.at(id), kNow));
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  json d = st.deployments.at(id);
  EXPECT_EQ(d["Status"], "failed");
  EXPECT_EQ(d["StatusDescription"], "Deployment marked as failed - rolling back to job version 0");
  EXPECT_FALSE(d.contains("FailRequested"));
  const json rec = st.jobs.at("default/web").as_json();
  EXPECT_EQ(rec["Version"], 2);
  EXPECT_EQ(rec["Job"], st.job_versions.at("default/web").at(0).as_json()["Job"]);
  // A finished deployment is neither paused, resumed nor failed again.
  for (bool pause : {true, false}) {
    auto why = pause_deployment(d, pause, kNow);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("is failed: only a running or paused deployment"), std::string::npos)
        << *why;
  }
  EXPECT_TRUE(request_deployment_failure(d, kNow));
}

TEST(Deployment, CanariesRunBesideTheOldAllocsUntilPromotedThenTheRestRolls) {
  const char* canary =
      "  update: {max_parallel: 1, canary: 1, min_healthy_time: 1s, healthy_deadline: 1m, "
      "progress_deadline: 5m}\n";
  auto st = stable_v0(canary);
  st.jobs["default/web"] = job_record(job(web(3, 400, canary)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  auto by = running_by_version(st);
  ASSERT_EQ(by[1].size(), 1u);
  EXPECT_EQ(by[0].size(), 3u) << "a canary replaces nothing";
  const std::string c = by[1][0];
  EXPECT_TRUE(st.allocs.at(c).alloc.value("Canary", false));
  report(st, c, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  json d = only_deployment_of_version(st, 1);
  EXPECT_EQ(d["Status"], "running");
  EXPECT_EQ(d["StatusDescription"], "Deployment is running but requires manual promotion");
  EXPECT_EQ(d["TaskGroups"]["g"]["PlacedCanaries"], json::array({c}));
  apply_writes(st, plan_cluster(st, kKeys, kNow + 600'000'000'000LL));
  EXPECT_EQ(only_deployment_of_version(st, 1)["Status"], "running")
      << "a deployment waiting for promotion is not held to its progress deadline";
  EXPECT_EQ(running_by_version(st)[0].size(), 3u);
  // `job promote`: the old alloc at the canary's index goes, and the rolling goes on.
  st.deployments.at(d["ID"])["TaskGroups"]["g"]["Promoted"] = true;
  apply_writes(st, plan_cluster(st, kKeys, kNow + 601'000'000'000LL));
  by = running_by_version(st);
  EXPECT_EQ(by[1].size(), 2u);
  EXPECT_EQ(by[0].size(), 1u);
  std::set<int> indexes;
  for (const auto& id : by[1]) indexes.insert(st.allocs.at(id).index());
  EXPECT_EQ(indexes.size(), 2u) << "the canary kept its index, the new one took another";
}

TEST(Deployment, AutoPromoteWaitsForHealthyCanaries) {
  const char* canary =
      "  update: {max_parallel: 1, canary: 1, auto_promote: true, min_healthy_time: 1s, "
      "healthy_deadline: 1m}\n";
  auto st = stable_v0(canary);
  st.jobs["default/web"] = job_record(job(web(3, 400, canary)), 1);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  EXPECT_FALSE(only_deployment_of_version(st, 1)["TaskGroups"]["g"].value("Promoted", false));
  report(st, running_by_version(st)[1].at(0), true);
  apply_writes(st, plan_cluster(st, kKeys, kNow + 1'000'000'000LL));
  EXPECT_TRUE(only_deployment_of_version(st, 1)["TaskGroups"]["g"].value("Promoted", false));
}

TEST(Drain, TheMigrateBlocksMaxParallelMovesAllocsOneAtATimeWaitingForHealth) {
  auto st = three_nodes();
  auto j = job(web(6) + "      migrate: {max_parallel: 1, health_check: task_states}\n");
  st.jobs["default/web"] = job_record(j);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  drain(st, "a", kNow);
  auto live_on_a = [&] {
    int n = 0;
    for (const auto& [id, a] : st.allocs) n += a.node_id == "a" && a.desired() == "run";
    return n;
  };
  ASSERT_EQ(live_on_a(), 2);
  auto plan = plan_cluster(st, kKeys, kNow);
  apply_writes(st, plan);
  EXPECT_EQ(live_on_a(), 1) << "max_parallel 1";
  std::string replacement;
  for (const auto& [id, a] : st.allocs)
    if (a.alloc.contains("DesiredTransition")) replacement = a.alloc.value("NextAllocation", "");
  ASSERT_FALSE(replacement.empty()) << "the migrated alloc names its replacement";
  EXPECT_NE(st.allocs.at(replacement).node_id, "a");
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  EXPECT_EQ(live_on_a(), 1) << "its replacement's health is not known yet";
  report(st, replacement, true);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  EXPECT_EQ(live_on_a(), 0);
}

namespace {

int live_on(const ClusterState& st, const std::string& node) {
  int n = 0;
  for (const auto& [id, a] : st.allocs) n += a.node_id == node && a.live();
  return n;
}

}  // namespace

TEST(Drain, PastTheDeadlineEveryAllocLeftMovesWhateverTheMigrateBlockSays) {
  auto st = three_nodes();
  st.jobs["default/web"] =
      job_record(job(web(6) + "      migrate: {max_parallel: 1, health_check: task_states}\n"));
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  ASSERT_EQ(live_on(st, "a"), 2);
  const int64_t hour = 3600LL * 1'000'000'000;
  drain(st, "a", kNow, hour);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  EXPECT_EQ(live_on(st, "a"), 1) << "before the deadline: max_parallel 1";
  apply_writes(st, plan_cluster(st, kKeys, kNow + hour / 2));
  EXPECT_EQ(live_on(st, "a"), 1) << "the replacement's health is not known yet";
  apply_writes(st, plan_cluster(st, kKeys, kNow + hour));
  EXPECT_EQ(live_on(st, "a"), 0) << "the deadline forces the rest off";
  int live = 0;
  for (const auto& [id, a] : st.allocs) live += a.live();
  EXPECT_EQ(live, 6) << "every moved alloc was placed again elsewhere";
}

TEST(Drain, BatchAllocsAreLeftToFinishUntilAForcedDrainMovesThem) {
  auto st = three_nodes();
  std::string batch = web(3);
  batch.replace(batch.find("type: service"), 13, "type: batch");
  st.jobs["default/web"] = job_record(job(batch));
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  ASSERT_EQ(live_on(st, "a"), 1);
  drain(st, "a", kNow);  // no deadline
  auto plan = plan_cluster(st, kKeys, kNow);
  apply_writes(st, plan);
  EXPECT_EQ(live_on(st, "a"), 1) << "a batch alloc is left to finish";
  for (const auto& [k, v] : plan.puts) EXPECT_NE(k, kKeys.node_control("a")) << "not done yet";
  drain(st, "a", kNow, -1);  // -force
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  EXPECT_EQ(live_on(st, "a"), 0);
  int live = 0;
  for (const auto& [id, a] : st.allocs) live += a.live();
  EXPECT_EQ(live, 3);
}

TEST(Drain, SystemAllocsStopLastUnlessIgnoredAndThenTheDrainIsComplete) {
  for (bool ignore : {false, true}) {
    SCOPED_TRACE(ignore ? "ignoring system jobs" : "draining system jobs");
    auto st = three_nodes();
    std::string system = web(1);
    system.replace(system.find("id: web"), 7, "id: sys");
    system.replace(system.find("type: service"), 13, "type: system");
    st.jobs["default/sys"] = job_record(job(system));
    st.jobs["default/web"] = job_record(job(web(3)));
    apply_writes(st, plan_cluster(st, kKeys, kNow));
    ASSERT_EQ(live_on(st, "a"), 2);
    drain(st, "a", kNow, 0, ignore);
    auto sys_on_a = [&] {
      for (const auto& [id, a] : st.allocs)
        if (a.node_id == "a" && a.alloc.value("JobID", "") == "sys") return a.live();
      return false;
    };
    apply_writes(st, plan_cluster(st, kKeys, kNow));
    EXPECT_TRUE(sys_on_a()) << "the service alloc goes first";
    EXPECT_EQ(live_on(st, "a"), 1);
    apply_writes(st, plan_cluster(st, kKeys, kNow));
    EXPECT_EQ(sys_on_a(), ignore);
    apply_writes(st, plan_cluster(st, kKeys, kNow));
    EXPECT_FALSE(st.controls["a"].value("Drain", true)) << "the drain is complete";
    EXPECT_EQ(st.controls["a"]["LastDrain"]["Status"], "complete");
    EXPECT_EQ(st.nodes["a"]["SchedulingEligibility"], "ineligible");
    // Nothing comes back to the ineligible node.
    apply_writes(st, plan_cluster(st, kKeys, kNow));
    EXPECT_EQ(sys_on_a(), ignore);
  }
}

TEST(Scheduler, ScalingAGroupKeepsItsRunningAllocsWhereTheyAre) {
  auto st = three_nodes();
  st.jobs["default/web"] = job_record(job(web(3)));
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  std::set<std::string> before;
  for (const auto& [id, a] : st.allocs) before.insert(id);
  st.jobs["default/web"] = job_record(job(web(5)), 1);
  auto plan = plan_cluster(st, kKeys, kNow);
  apply_writes(st, plan);
  int live = 0;
  for (const auto& [id, a] : st.allocs) {
    if (!a.live()) continue;
    ++live;
    EXPECT_EQ(a.alloc.value("JobVersion", -1), 1) << id;
    EXPECT_EQ((*a.job.parsed())["TaskGroups"][0]["Count"], 5) << "the alloc carries the new version";
  }
  EXPECT_EQ(live, 5);
  for (const auto& id : before) EXPECT_TRUE(st.allocs.at(id).live()) << id << " was replaced";
  // A task's config is not: its allocs are replaced.
  std::string changed = web(5);
  changed.replace(changed.find("/bin/true"), 9, "/bin/false");
  st.jobs["default/web"] = job_record(job(changed), 2);
  apply_writes(st, plan_cluster(st, kKeys, kNow));
  for (const auto& id : before) EXPECT_FALSE(st.allocs.at(id).live()) << id << " was kept";
}
