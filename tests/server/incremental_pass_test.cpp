// The leader's pass costs what changed (docs/cluster.md, "Placement"): the watch-fed state
// marks the jobs each change concerns (ClusterState::changes), the pass reconciles those and
// the ones it asked to see again, and what it plans is what a pass over every job plans.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "fixtures.hpp"
#include "server/cluster_state.hpp"
#include "server/scheduler.hpp"

using drover::server::testing::kKeys;
using drover::server::testing::kSecond;
using drover::server::ClusterState;
using drover::server::ClusterStateIndex;
using drover::server::LeaderMemory;
using drover::server::Keys;
using drover::server::Plan;
using drover::upstream::EtcdKv;
using nlohmann::json;

namespace {


json record(const std::string& id, const std::string& type, int memory, int version = 0) {
  return drover::server::testing::record_of(
      drover::server::testing::job("job:\n  id: " + id + "\n  type: " + type +
                                   "\n  groups:\n    - name: g\n      count: 1\n"
                                   "      tasks:\n        - name: t\n"
                                   "          driver: raw_exec\n          config:\n"
                                   "            command: /bin/true\n"
                                   "          resources:\n            memory: " +
                                   std::to_string(memory) + "\n"),
      version);
}

// etcd as the watch delivers it: each put or erase applied to the index at a new revision.
struct Etcd {
  ClusterStateIndex index{kKeys};
  int64_t rev = 1;
  std::map<std::string, int64_t> created;
  void put(const std::string& key, const std::string& value) {
    ++rev;
    auto [it, fresh] = created.try_emplace(key, rev);
    index.put(EtcdKv{key, value, rev, it->second});
    index.state().revision = rev;
  }
  void put(const std::string& key, const json& value) { put(key, value.dump()); }
  void erase(const std::string& key) {
    ++rev;
    created.erase(key);
    index.erase(key);
    index.state().revision = rev;
  }
  void job(const json& rec) {
    const std::string ns = rec["Namespace"], id = rec["ID"];
    put(kKeys.job(ns, id), rec);
    put(kKeys.job_version(ns, id, rec["Version"]), rec);
  }
  // The plan committed: its writes come back through the watch.
  void commit(const Plan& p) {
    for (const auto& [k, v] : p.puts) put(k, v);
  }
  ClusterState& st() { return index.state(); }
  // As the leader's pass sees it after a pass: nothing pending.
  void settle() { st().changes = ClusterState::Changes{false, {}, {}}; }
  std::set<std::string> marked() { return st().changes.jobs; }
};

std::string alloc_of(const ClusterState& st, const std::string& jk) {
  auto ids = st.allocs_by_job.find(jk);
  return ids == st.allocs_by_job.end() || ids->second.empty() ? "" : *ids->second.begin();
}

// What a plan does, comparable between a whole pass and an incremental one (alloc and
// evaluation ids are drawn at random).
json outline(const Plan& p) {
  std::map<std::string, int> writes_per_job;
  for (const auto& jk : p.jobs) writes_per_job[jk]++;
  return {{"placed", p.placed},
          {"stopped", p.stopped},
          {"lost", p.lost},
          {"preempted", p.preempted},
          {"writes", writes_per_job}};
}

// Each node's memory and allocs by job as its live allocs add up: what the kept usage must be.
json usage_of_allocs(const ClusterState& st) {
  json out = json::object();
  for (const auto& [id, a] : st.allocs) {
    if (!a.live() || !st.nodes.count(a.node_id)) continue;
    json& n = out[a.node_id];
    if (!n.is_object()) n = {{"memory", 0}, {"jobs", json::object()}};
    n["memory"] = n["memory"].get<int>() + a.alloc["Resources"].value("MemoryMB", 0);
    json& jobs = n["jobs"];
    jobs[a.job_key()] = (jobs.contains(a.job_key()) ? jobs[a.job_key()].get<int>() : 0) + 1;
  }
  return out;
}

json kept_usage(const LeaderMemory& memory) {
  json out = json::object();
  for (const auto& [node, u] : memory.usage) {
    if (u.residents.empty()) continue;
    out[node] = {{"memory", u.memory_mb}, {"jobs", json::object()}};
    for (const auto& [jk, n] : u.per_job) out[node]["jobs"][jk] = n;
  }
  return out;
}

// The leader's pass on the view, checked against a pass over every job of a copy, and
// committed whole as the leader does (plan_committer.hpp).
Plan pass(Etcd& etcd, LeaderMemory& memory, int64_t now) {
  ClusterState copy = etcd.st();
  const Plan whole = drover::server::plan_cluster(copy, kKeys, now);
  Plan inc = drover::server::plan_cluster_in_place(etcd.st(), kKeys, now, memory);
  EXPECT_EQ(outline(inc), outline(whole)) << "an incremental pass plans what a whole one does";
  EXPECT_EQ(kept_usage(memory), usage_of_allocs(etcd.st()))
      << "the usage kept from pass to pass is what the allocs add up to";
  etcd.commit(inc);
  return inc;
}

}  // namespace

TEST(IncrementalPass, EachChangeMarksTheJobsItConcerns) {
  using drover::server::testing::node;
  Etcd etcd;
  EXPECT_TRUE(etcd.st().changes.all) << "a whole read: every job";
  etcd.put("/drover/nodes/n1", node("n1"));
  etcd.put("/drover/nodes/n2", node("n2"));
  const json web = record("web", "service", 100), api = record("api", "batch", 100),
             sys = record("sys", "system", 100);
  etcd.job(web);
  etcd.job(api);
  etcd.job(sys);
  json a1 = {{"ID", "a1"}, {"Namespace", "default"}, {"JobID", "web"}, {"TaskGroup", "g"},
             {"NodeID", "n1"}, {"Name", "web.g[0]"}, {"DesiredStatus", "run"}};
  json a2 = {{"ID", "a2"}, {"Namespace", "default"}, {"JobID", "api"}, {"TaskGroup", "g"},
             {"NodeID", "n2"}, {"Name", "api.g[0]"}, {"DesiredStatus", "run"}};
  etcd.put("/drover/allocs/n1/a1", a1);
  etcd.put("/drover/allocs/n2/a2", a2);
  EXPECT_TRUE(etcd.marked().empty()) << "nothing kept while everything is to be looked at";

  etcd.settle();
  etcd.put("/drover/status/n1/a1", json{{"ClientStatus", "running"}});
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/web"}) << "its alloc's status";

  etcd.settle();
  etcd.put("/drover/evals/e1", json{{"ID", "e1"}, {"JobID", "api"}, {"Status", "pending"}});
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/api"}) << "an evaluation";
  etcd.settle();
  etcd.erase("/drover/evals/e1");
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/api"}) << "an evaluation gone";

  etcd.settle();
  etcd.put("/drover/deployments/d1", json{{"ID", "d1"}, {"JobID", "web"}, {"Status", "running"}});
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/web"}) << "a deployment";

  etcd.settle();
  etcd.put(kKeys.job_version("default", "web", 1), record("web", "service", 200, 1));
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/web"}) << "a version";

  etcd.settle();
  etcd.put("/drover/allocs/n1/a1", a1);
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/web"}) << "its alloc rewritten";

  etcd.settle();
  etcd.erase("/drover/nodes/n2");
  EXPECT_EQ(etcd.marked(), (std::set<std::string>{"default/api", "default/sys"}))
      << "a node gone: the jobs of its allocs, and every system job";
  EXPECT_EQ(etcd.st().changes.nodes, std::set<std::string>{"n2"});

  etcd.settle();
  etcd.put("/drover/nodes/n3", node("n3"));
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/sys"}) << "a node joins";

  etcd.settle();
  etcd.put("/drover/node_controls/n1", json{{"Eligibility", "ineligible"}, {"Drain", true}});
  EXPECT_EQ(etcd.marked(), (std::set<std::string>{"default/web", "default/sys"}))
      << "a node drained";

  etcd.settle();
  etcd.erase(kKeys.job("default", "api"));
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/api"}) << "a job purged";

  etcd.settle();
  etcd.put(kKeys.periodic_launch("default", "web"), json{{"Launch", 1}, {"Until", 1}});
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/web"}) << "a periodic launch";

  etcd.settle();
  etcd.put("/drover/servers/s1", json{{"Name", "s1"}});
  EXPECT_TRUE(etcd.marked().empty()) << "a server member concerns no job";
  etcd.put("/drover/scheduler_config", json{{"SchedulerAlgorithm", "spread"}});
  EXPECT_TRUE(etcd.st().changes.all) << "the scheduler's configuration concerns every job";
}

TEST(IncrementalPass, PlansWhatAWholePassPlansAndLooksAgainOnlyAtJobsThatMayNeedIt) {
  using drover::server::testing::node;
  Etcd etcd;
  LeaderMemory memory;
  int64_t now = kSecond;
  etcd.put("/drover/nodes/n1", node("n1", 4000, 1000));
  etcd.put("/drover/nodes/n2", node("n2", 4000, 1000));
  etcd.job(record("web", "service", 600));
  etcd.job(record("api", "service", 600));
  // The first pass (a whole read) places both, one per node.
  auto p = pass(etcd, memory, now);
  EXPECT_EQ(p.placed, 2);
  EXPECT_FALSE(etcd.st().changes.all);
  // Their writes come back: looked at once more, then nothing is left to do.
  p = pass(etcd, memory, now += kSecond);
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(etcd.marked().empty()) << "both satisfied: the next pass looks at neither";

  // A third job finds no room: blocked, and looked at again every pass.
  etcd.job(record("big", "service", 600));
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.placed, 0);
  p = pass(etcd, memory, now += kSecond);
  EXPECT_TRUE(p.empty()) << "a blocked evaluation with the same reasons is not written again";
  EXPECT_EQ(etcd.marked(), std::set<std::string>{"default/big"});

  // web is purged: its alloc stops, which frees the room big waits for.
  etcd.erase(kKeys.job("default", "web"));
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.stopped, 1);
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.placed, 1) << "big takes the room";
  p = pass(etcd, memory, now += kSecond);
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(etcd.marked().empty());

  // A node goes: api's alloc there is lost and placed again on the other node, if room.
  const std::string api_alloc = alloc_of(etcd.st(), "default/api");
  ASSERT_FALSE(api_alloc.empty());
  const std::string api_node = etcd.st().allocs.at(api_alloc).node_id;
  etcd.erase("/drover/nodes/" + api_node);
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.lost, 1);
  p = pass(etcd, memory, now += kSecond);
  EXPECT_TRUE(p.empty());
  // It comes back: api, blocked meanwhile, is placed there.
  etcd.put("/drover/nodes/" + api_node, node(api_node, 4000, 1000));
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.placed, 1);

  // A failed alloc of a batch job waits out its reschedule delay: nothing changes meanwhile,
  // yet the pass after the delay replaces it.
  etcd.erase(kKeys.job("default", "big"));
  p = pass(etcd, memory, now += kSecond);
  EXPECT_EQ(p.stopped, 1);
  etcd.job(record("once", "batch", 100));
  p = pass(etcd, memory, now += kSecond);
  ASSERT_EQ(p.placed, 1);
  const std::string once = alloc_of(etcd.st(), "default/once");
  ASSERT_FALSE(once.empty());
  etcd.put("/drover/status/" + etcd.st().allocs.at(once).node_id + "/" + once,
           json{{"ClientStatus", "failed"}, {"ModifyTime", now}});
  p = pass(etcd, memory, now += kSecond);  // the follow-up evaluation
  for (int i = 0; i < 3; ++i) {
    p = pass(etcd, memory, now += kSecond);
    EXPECT_EQ(p.placed, 0) << "within the delay";
    }
  p = pass(etcd, memory, now += 60 * kSecond);
  EXPECT_EQ(p.placed, 1) << "the delay ran out with nothing else changing";
}

// A pass's new allocs hold no copy of their Job: they share the job record's text
// (job_doc.hpp), as the view's allocs of that version do, and what they write to etcd carries
// it whole.
TEST(IncrementalPass, PlannedAllocsFindTheirJobInTheStateAndWriteItWhole) {
  using drover::server::testing::node;
  Etcd etcd;
  etcd.put("/drover/nodes/n1", node("n1"));
  const json web = record("web", "service", 100);
  etcd.job(web);
  LeaderMemory memory;
  Plan p = drover::server::plan_cluster_in_place(etcd.st(), kKeys, 1000 * kSecond, memory);
  ASSERT_EQ(p.placed, 1);
  const auto& st = etcd.st();
  ASSERT_EQ(st.allocs.size(), 1u);
  const auto& a = st.allocs.begin()->second;
  EXPECT_TRUE(a.job.shares(st.jobs.at("default/web").job));
  EXPECT_FALSE(a.alloc.contains("Job"));
  bool written = false;
  for (const auto& [k, v] : p.puts)
    if (k.find("/allocs/") != std::string::npos) {
      written = true;
      EXPECT_EQ(json::parse(v).at("Job"), web.at("Job"));
    }
  EXPECT_TRUE(written);
}

// The leader keeps a job's parsed spec while the job is in flux and lets it go once every alloc
// has reported, so that 10,000 settled jobs do not hold 10,000 specs; a later change of the
// job is planned from the job parsed again, as a whole pass plans it (`pass` checks that).
TEST(IncrementalPass, ASettledJobsSpecIsLetGoAndItsNextChangeIsPlannedAsBefore) {
  using drover::server::testing::node;
  Etcd etcd;
  etcd.put("/drover/nodes/n1", node("n1"));
  etcd.job(record("web", "service", 100));
  LeaderMemory memory;
  Plan first = pass(etcd, memory, 1000 * kSecond);
  ASSERT_EQ(first.placed, 1);
  EXPECT_EQ(memory.specs.by_job.count("default/web"), 1u) << "its alloc has not reported yet";
  const std::string a = alloc_of(etcd.st(), "default/web");
  etcd.put("/drover/status/n1/" + a, json{{"ID", a}, {"ClientStatus", "running"}});
  pass(etcd, memory, 1001 * kSecond);
  EXPECT_EQ(memory.specs.by_job.count("default/web"), 0u) << "settled: its spec is let go";
  // A new version with more memory replaces the alloc: planned from the job parsed again.
  etcd.job(record("web", "service", 200, 1));
  Plan next = pass(etcd, memory, 1002 * kSecond);
  EXPECT_EQ(next.placed, 1);
  EXPECT_EQ(next.stopped, 1);
  EXPECT_EQ(memory.specs.by_job.count("default/web"), 1u) << "in flux again";
}
