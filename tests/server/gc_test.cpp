// What the servers' garbage collection takes and leaves (server/gc.hpp): what an operator
// sees as jobs, evaluations and allocs vanishing from `job status` and etcd.
#include "server/gc.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace drover::server;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kHour = 3600LL * 1000 * 1000 * 1000;
constexpr int64_t kNow = 100 * kHour;
const Keys keys{"/drover"};

json record(const std::string& id, const std::string& type, int64_t submitted, bool stop = false,
            json extra = json::object()) {
  json job = {{"ID", id}, {"Type", type}};
  job.update(extra);
  return {{"ID", id}, {"Namespace", "default"}, {"Version", 0}, {"Stop", stop},
          {"SubmitTime", submitted}, {"Job", job}};
}

void add_job(ClusterState& st, const json& rec) {
  const std::string jk = "default/" + rec.value("ID", "");
  st.jobs[jk] = rec;
  st.job_versions[jk][0] = rec;
}

void add_alloc(ClusterState& st, const std::string& id, const std::string& job,
               const std::string& client_status, int64_t at, const std::string& desired = "run",
               const std::string& eval = "", json extra = json::object()) {
  AllocView a;
  a.id = id;
  a.node_id = "n1";
  a.key = keys.alloc("n1", id);
  a.alloc = {{"ID", id},          {"Namespace", "default"}, {"JobID", job},
             {"TaskGroup", "g"},  {"DesiredStatus", desired}, {"EvalID", eval},
             {"CreateTime", at},  {"ModifyTime", at}};
  a.alloc.update(extra);
  if (!client_status.empty()) a.status = {{"ClientStatus", client_status}, {"ModifyTime", at}};
  st.allocs[id] = a;
}

void add_eval(ClusterState& st, const std::string& id, const std::string& job,
              const std::string& status, int64_t at) {
  st.evals[id] = {{"ID", id}, {"Namespace", "default"}, {"JobID", job}, {"Status", status},
                  {"CreateTime", at}, {"ModifyTime", at}};
}

bool has(const Garbage& g, const std::string& key) {
  return std::find(g.keys.begin(), g.keys.end(), key) != g.keys.end();
}

}  // namespace

TEST(Gc, ADeadJobOlderThanTheJobThresholdGoesWholeWithItsAllocsAndEvaluations) {
  ClusterState st;
  add_job(st, record("done", "batch", kNow - 6 * kHour));
  add_alloc(st, "a1", "done", "complete", kNow - 5 * kHour, "run", "e1");
  add_eval(st, "e1", "done", "complete", kNow - 5 * kHour);
  st.periodic_launches["default/done"] = json::object();
  st.stop_requests.insert("a1");  // an operator stopped it once
  auto g = find_garbage(st, keys, kNow, GcThresholds{});
  EXPECT_TRUE(has(g, keys.alloc_stop("a1"))) << "the stop request goes with its alloc";
  EXPECT_TRUE(has(g, keys.job("default", "done")));
  EXPECT_TRUE(has(g, keys.job_version("default", "done", 0)));
  EXPECT_TRUE(has(g, keys.periodic_launch("default", "done")));
  EXPECT_TRUE(has(g, keys.alloc("n1", "a1")));
  EXPECT_TRUE(has(g, keys.status() + "n1/a1")) << "the node's status key goes with its alloc";
  EXPECT_TRUE(has(g, keys.eval("e1")));
  EXPECT_EQ(g.jobs, 1);
  EXPECT_EQ(g.allocs, 1);
  EXPECT_EQ(g.evals, 1);
  // The job's keys go first: its allocs gone before it would make the leader run it again.
  EXPECT_EQ(g.keys.front().rfind(keys.job_versions_all(), 0) == 0 ||
                g.keys.front().rfind(keys.jobs(), 0) == 0,
            true)
      << g.keys.front();
  EXPECT_EQ(g.keys.back(), keys.status() + "n1/a1");
}

TEST(Gc, AYoungDeadJobStaysUntilForced) {
  ClusterState st;
  add_job(st, record("done", "batch", kNow - 6 * kHour));
  add_alloc(st, "a1", "done", "complete", kNow - 1 * kHour, "run", "e1");
  add_eval(st, "e1", "done", "complete", kNow - 1 * kHour);
  EXPECT_TRUE(find_garbage(st, keys, kNow, GcThresholds{}).keys.empty())
      << "a batch job's evaluation stays 24 h, the job 4 h after its last change";
  auto forced = find_garbage(st, keys, kNow, GcThresholds::none());
  EXPECT_TRUE(has(forced, keys.job("default", "done")));
  EXPECT_EQ(forced.allocs, 1);
}

TEST(Gc, ARunningJobLosesOnlyWhatItNoLongerNeeds) {
  ClusterState st;
  add_job(st, record("web", "service", kNow - 50 * kHour));
  // Version 0's alloc, stopped by an update two hours ago; its replacement runs.
  add_alloc(st, "old", "web", "complete", kNow - 2 * kHour, "stop", "e0");
  add_alloc(st, "new", "web", "running", kNow - 2 * kHour, "run", "e1");
  add_eval(st, "e0", "web", "complete", kNow - 3 * kHour);
  add_eval(st, "e1", "web", "complete", kNow - 2 * kHour);  // the running alloc's: kept
  add_eval(st, "e2", "web", "complete", kNow - 10 * 60 * 1000000000LL);  // too young
  // A failed alloc not yet replaced may still be rescheduled: kept; a replaced one goes.
  add_alloc(st, "failed", "web", "failed", kNow - 2 * kHour);
  add_alloc(st, "replaced", "web", "failed", kNow - 2 * kHour, "run", "", {{"NextAllocation", "new"}});
  st.deployments["d0"] = {{"ID", "d0"}, {"Namespace", "default"}, {"JobID", "web"},
                          {"Status", "successful"}, {"CreateTime", kNow - 9 * kHour},
                          {"ModifyTime", kNow - 8 * kHour}};
  st.deployments["d1"] = {{"ID", "d1"}, {"Namespace", "default"}, {"JobID", "web"},
                          {"Status", "successful"}, {"CreateTime", kNow - 3 * kHour},
                          {"ModifyTime", kNow - 2 * kHour}};
  auto g = find_garbage(st, keys, kNow, GcThresholds{});
  EXPECT_FALSE(has(g, keys.job("default", "web")));
  EXPECT_TRUE(has(g, keys.alloc("n1", "old")));
  EXPECT_TRUE(has(g, keys.alloc("n1", "replaced")));
  EXPECT_FALSE(has(g, keys.alloc("n1", "new")));
  EXPECT_FALSE(has(g, keys.alloc("n1", "failed")));
  EXPECT_TRUE(has(g, keys.eval("e0")));
  EXPECT_FALSE(has(g, keys.eval("e1")));
  EXPECT_FALSE(has(g, keys.eval("e2")));
  EXPECT_TRUE(has(g, keys.deployment("d0")));
  EXPECT_FALSE(has(g, keys.deployment("d1"))) << "the job's latest deployment stays";
}

TEST(Gc, AStoppedJobWaitingOnAnEvaluationOrStillRunningStays) {
  ClusterState st;
  add_job(st, record("stopping", "service", kNow - 50 * kHour, /*stop=*/true));
  add_alloc(st, "a1", "stopping", "running", kNow - 5 * kHour, "stop");
  add_job(st, record("blocked", "service", kNow - 50 * kHour, /*stop=*/true));
  add_eval(st, "e1", "blocked", "blocked", kNow - 50 * kHour);
  auto g = find_garbage(st, keys, kNow, GcThresholds::none());
  EXPECT_FALSE(has(g, keys.job("default", "stopping")));
  EXPECT_FALSE(has(g, keys.alloc("n1", "a1")));
  EXPECT_FALSE(has(g, keys.job("default", "blocked")));
}

TEST(Gc, APeriodicParentStaysAndAPurgedJobsRestGoes) {
  ClusterState st;
  add_job(st, record("nightly", "batch", kNow - 50 * kHour, false, {{"Periodic", {{"Spec", "0 3 * * *"}}}}));
  add_eval(st, "e1", "nightly", "complete", kNow - 50 * kHour);
  // purged: its key gone, its versions and finished alloc left behind
  st.job_versions["default/gone"][0] = record("gone", "service", kNow - 50 * kHour);
  st.job_versions["default/gone"][1] = record("gone", "service", kNow - 40 * kHour);
  add_alloc(st, "a9", "gone", "complete", kNow - 30 * kHour, "stop");
  auto g = find_garbage(st, keys, kNow, GcThresholds{});
  EXPECT_FALSE(has(g, keys.job("default", "nightly")));
  EXPECT_TRUE(has(g, keys.eval("e1"))) << "its old evaluations go, as any running job's";
  EXPECT_TRUE(has(g, keys.job_version("default", "gone", 0)));
  EXPECT_TRUE(has(g, keys.job_version("default", "gone", 1)));
  EXPECT_TRUE(has(g, keys.alloc("n1", "a9")));
  EXPECT_EQ(g.jobs, 0) << "no job key was left to delete";
}

// Nomad's node GC: a node down longer than node_gc_threshold with nothing on it left to run.
TEST(Gc, ANodeDownLongerThanTheNodeThresholdWithNothingToRunGoesWithItsControl) {
  ClusterState st;
  auto down = [&](const std::string& id, int64_t since_ns, const std::string& status = "down") {
    st.down_nodes[id] = DownNode{
        {{"ID", id}, {"Status", status}, {"StatusUpdatedAt", since_ns / 1'000'000'000}}, 3};
  };
  down("n1", kNow - 25 * kHour);        // its alloc lost: terminal
  down("young", kNow - 2 * kHour);      // down for less than 24h
  down("busy", kNow - 30 * kHour);      // an alloc on it is unknown (within lost_after)
  down("unmarked", 0, "ready");         // the leader has not marked it down yet
  st.controls["n1"] = {{"Eligibility", "ineligible"}};
  add_job(st, record("web", "service", kNow - 50 * kHour));
  add_alloc(st, "a1", "web", "running", kNow - 25 * kHour, "stop", "",
            {{"ClientStatus", "lost"}});
  add_alloc(st, "a2", "web", "running", kNow - 25 * kHour, "run", "",
            {{"ClientStatus", "unknown"}});
  st.allocs["a2"].node_id = "busy";
  auto g = find_garbage(st, keys, kNow, GcThresholds{});
  EXPECT_TRUE(has(g, keys.node_record("n1")));
  EXPECT_TRUE(has(g, keys.node_control("n1"))) << "the operator's say on it goes with it";
  EXPECT_FALSE(has(g, keys.node_record("young")));
  EXPECT_FALSE(has(g, keys.node_record("busy")));
  EXPECT_FALSE(has(g, keys.node_record("unmarked")));
  EXPECT_EQ(g.nodes, 1);
  // `system gc`: whatever its age, but still not one with an alloc to run.
  g = find_garbage(st, keys, kNow, GcThresholds::none());
  EXPECT_TRUE(has(g, keys.node_record("young")));
  EXPECT_FALSE(has(g, keys.node_record("busy")));
  EXPECT_EQ(g.nodes, 2);
}
