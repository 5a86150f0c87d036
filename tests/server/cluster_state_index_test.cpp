// The leader's watch-fed state (ClusterStateIndex, server/cluster_view.hpp): keys put and
// erased one by one, as a watch delivers them, must leave the same state as one read of the
// keys that remain; and the allocs of one job version share one Job document.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "fixtures.hpp"
#include "server/cluster_state.hpp"

using drover::server::testing::kKeys;
using drover::server::ClusterState;
using drover::server::ClusterStateIndex;
using drover::server::JobRecord;
using drover::server::Keys;
using drover::server::read_cluster_state;
using drover::upstream::EtcdKv;
using drover::upstream::EtcdRange;
using nlohmann::json;

namespace {


json job_record(const std::string& id, int version, int count) {
  auto j = drover::server::testing::job("job:\n  id: " + id +
                                        "\n  groups:\n    - name: g\n      count: " +
                                        std::to_string(count) +
                                        "\n      tasks:\n        - name: t\n"
                                        "          driver: raw_exec\n          config:\n"
                                        "            command: /bin/true\n");
  return drover::server::testing::record_of(j, version);
}

json alloc_value(const std::string& id, const std::string& node, const json& rec) {
  return {{"ID", id},
          {"Name", rec["ID"].get<std::string>() + ".g[0]"},
          {"Namespace", "default"},
          {"JobID", rec["ID"]},
          {"TaskGroup", "g"},
          {"NodeID", node},
          {"JobVersion", rec["Version"]},
          {"DesiredStatus", "run"},
          {"Metrics", {{"NodesEvaluated", 2}}},
          {"Job", rec["Job"]}};
}

// What a pass and the API read of the state, in comparable form.
json summary(const ClusterState& st) {
  json out = json::object();
  for (const auto& [id, n] : st.nodes) out["nodes"][id] = n;
  for (const auto& [id, a] : st.allocs)
    out["allocs"][id] = {{"node", a.node_id}, {"key", a.key}, {"value", a.value(true)},
                         {"status", a.status}, {"client_status", a.client_status()}};
  for (const auto& [k, v] : st.jobs) out["jobs"][k] = v.as_json();
  for (const auto& [k, vs] : st.job_versions)
    for (const auto& [v, rec] : vs) out["versions"][k][std::to_string(v)] = rec.as_json();
  for (const auto& [k, v] : st.job_modify_index) out["modify_index"][k] = v;
  for (const auto& [k, v] : st.job_key_revision) out["key_revision"][k] = v;
  for (const auto& [k, v] : st.evals) out["evals"][k] = v;
  for (const auto& [k, v] : st.controls) out["controls"][k] = v;
  for (const auto& [id, d] : st.down_nodes)
    out["down_nodes"][id] = {{"record", d.record}, {"revision", d.revision}};
  out["leader"] = st.leader_value;
  return out;
}

// An index fed key by key, each put at a new revision, as the leader's watch feeds it.
struct Watched {
  ClusterStateIndex index{kKeys};
  int64_t rev = 1;
  void put(const std::string& key, const json& value) {
    ++rev;
    index.put(EtcdKv{key, value.dump(), rev, rev});
  }
  // As a register writes a job: its key, then its version's.
  void job(const json& rec) {
    put("/drover/jobs/default/" + rec["ID"].get<std::string>(), rec);
    put("/drover/job_versions/default/" + rec["ID"].get<std::string>() + "/" +
            std::to_string(rec["Version"].get<int>()),
        rec);
  }
};

}  // namespace

TEST(ClusterStateIndex, ChangesAppliedOneByOneLeaveTheStateOneReadOfWhatRemainsGives) {
  using drover::server::testing::node;
  const json web0 = job_record("web", 0, 1), web1 = job_record("web", 1, 2),
             api0 = job_record("api", 0, 1);
  // Each change as a watch brings it: a put (with its revisions) or an erase.
  struct Change {
    bool erase;
    EtcdKv kv;
  };
  int64_t rev = 1;
  std::map<std::string, EtcdKv> etcd;  // what etcd holds after each change
  std::vector<Change> changes;
  auto put = [&](const std::string& key, const json& value) {
    ++rev;
    auto it = etcd.find(key);
    EtcdKv kv{key, value.dump(), rev, it == etcd.end() ? rev : it->second.create_revision};
    etcd[key] = kv;
    changes.push_back({false, kv});
  };
  auto erase = [&](const std::string& key) {
    ++rev;
    etcd.erase(key);
    changes.push_back({true, {key, "", rev, 0}});
  };
  put("/drover/leader", json{{"Name", "s1"}});
  put("/drover/nodes/n1", node("n1"));
  put("/drover/nodes/n2", node("n2"));
  // The agents' records of them (keys.hpp node_record), and of a node down since before.
  put("/drover/node_records/n1", node("n1"));
  put("/drover/node_records/n2", node("n2"));
  json n3 = node("n3");
  n3["Status"] = "down";
  put("/drover/node_records/n3", n3);
  put("/drover/jobs/default/web", web0);
  put("/drover/job_versions/default/web/0", web0);
  put("/drover/jobs/default/api", api0);
  put("/drover/job_versions/default/api/0", api0);
  // A status that comes before its alloc, and one after.
  put("/drover/status/n1/a1", json{{"ClientStatus", "running"}});
  put("/drover/allocs/n1/a1", alloc_value("a1", "n1", web0));
  put("/drover/allocs/n2/a2", alloc_value("a2", "n2", api0));
  put("/drover/status/n2/a2", json{{"ClientStatus", "failed"}});
  put("/drover/evals/e1", json{{"ID", "e1"}, {"JobID", "web"}, {"Status", "pending"}});
  // A new version, a drain on a node, a node gone, a purged job and its alloc's status gone.
  put("/drover/jobs/default/web", web1);
  put("/drover/job_versions/default/web/1", web1);
  put("/drover/allocs/n1/a3", alloc_value("a3", "n1", web1));
  put("/drover/node_controls/n1",
      json{{"Eligibility", "ineligible"}, {"Drain", true}, {"Deadline", 0}, {"StartedAt", 5}});
  erase("/drover/nodes/n2");
  erase("/drover/jobs/default/api");
  erase("/drover/job_versions/default/api/0");
  erase("/drover/status/n2/a2");
  put("/drover/evals/e1", json{{"ID", "e1"}, {"JobID", "web"}, {"Status", "complete"}});

  ClusterStateIndex index(kKeys);
  for (const auto& c : changes) {
    if (c.erase)
      index.erase(c.kv.key);
    else
      index.put(c.kv);
  }
  EtcdRange range;
  range.revision = rev;
  for (const auto& [k, kv] : etcd) range.kvs.push_back(kv);
  const ClusterState once = read_cluster_state(range, kKeys);
  EXPECT_EQ(summary(index.state()), summary(once));
  // Spot checks of what the comparison covers.
  const auto& st = index.state();
  EXPECT_FALSE(st.nodes.count("n2")) << "its key lapsed";
  ASSERT_TRUE(st.down_nodes.count("n2")) << "known still, by its record";
  EXPECT_EQ(st.down_nodes.at("n2").revision, etcd.at("/drover/node_records/n2").mod_revision);
  EXPECT_EQ(st.down_nodes.at("n2").record.value("Name", ""), "node-n2");
  EXPECT_EQ(st.down_nodes.at("n3").record.value("Status", ""), "down");
  EXPECT_FALSE(st.down_nodes.count("n1")) << "live";
  EXPECT_EQ(st.nodes.at("n1").value("SchedulingEligibility", ""), "ineligible");
  EXPECT_TRUE(st.nodes.at("n1").value("Drain", false));
  EXPECT_EQ(st.allocs.at("a1").client_status(), "running");
  EXPECT_EQ(st.allocs.at("a2").client_status(), "pending") << "its status key is gone";
  EXPECT_FALSE(st.jobs.count("default/api"));
  EXPECT_FALSE(st.job_versions.count("default/api"));
  EXPECT_EQ(st.job_key_revision.at("default/web"), etcd.at("/drover/jobs/default/web").mod_revision);
  EXPECT_EQ(st.job_modify_index.at("default/web"),
            etcd.at("/drover/job_versions/default/web/1").create_revision);
}

TEST(ClusterStateIndex, TheAllocsOfOneJobVersionShareOneJobAndTheirKeysKeepIt) {
  const json rec = job_record("web", 0, 3);
  EtcdRange range;
  range.revision = 9;
  for (const char* id : {"a1", "a2", "a3"})
    range.kvs.push_back({std::string("/drover/allocs/n1/") + id,
                         alloc_value(id, "n1", rec).dump(), 5, 5});
  const ClusterState st = read_cluster_state(range, kKeys);
  ASSERT_EQ(st.allocs.size(), 3u);
  EXPECT_TRUE(st.allocs.at("a1").job);
  EXPECT_TRUE(st.allocs.at("a1").job.shares(st.allocs.at("a2").job)) << "one text";
  EXPECT_TRUE(st.allocs.at("a1").job.shares(st.allocs.at("a3").job));
  EXPECT_EQ(*st.allocs.at("a1").job.parsed(), rec["Job"]);
  EXPECT_FALSE(st.allocs.at("a1").alloc.contains("Job"));
  EXPECT_FALSE(st.allocs.at("a1").alloc.contains("Metrics"));
  // Written back, an alloc's value is what its agent reads: the whole job, and the metrics.
  const json back = json::parse(st.allocs.at("a2").text());
  EXPECT_EQ(back, alloc_value("a2", "n1", rec));
}

// A job's record and its current version's record hold one Job text (job_doc.hpp); each
// keeps it when the other moves on or goes.
TEST(ClusterStateIndex, AJobRecordAndItsVersionsRecordShareOneJobTextAndEachKeepsIt) {
  const json web0 = job_record("web", 0, 1), web1 = job_record("web", 1, 2);
  Watched w;
  const auto& st = w.index.state();
  auto version = [&](int v) -> const JobRecord& { return st.job_versions.at("default/web").at(v); };
  w.job(web0);
  EXPECT_EQ(st.jobs.at("default/web").as_json(), web0);
  EXPECT_TRUE(version(0).job.shares(st.jobs.at("default/web").job)) << "held once";
  // A new version: version 0 keeps its Job, version 1 shares the record's.
  w.job(web1);
  EXPECT_EQ(version(0).as_json(), web0) << "whole, for auto_revert";
  EXPECT_TRUE(version(1).job.shares(st.jobs.at("default/web").job));
  EXPECT_FALSE(version(0).job.shares(version(1).job));
  // The job record rewritten at the same version (marked stable): still shared, nothing lost.
  json stable = web1;
  stable["Stable"] = true;
  w.job(stable);
  EXPECT_TRUE(version(1).job.shares(st.jobs.at("default/web").job));
  EXPECT_EQ(st.jobs.at("default/web").as_json(), stable);
  EXPECT_EQ(json::parse(st.jobs.at("default/web").text()), stable) << "its text, whole";
  // Purged: its versions keep their Jobs until their own keys go.
  w.index.erase("/drover/jobs/default/web");
  EXPECT_EQ(version(1).as_json(), stable);
  // In a whole read the version keys come before the job key ("job_versions/" < "jobs/").
  EtcdRange range;
  range.revision = 9;
  range.kvs.push_back({"/drover/job_versions/default/web/0", web0.dump(), 3, 3});
  range.kvs.push_back({"/drover/job_versions/default/web/1", web1.dump(), 5, 5});
  range.kvs.push_back({"/drover/jobs/default/web", web1.dump(), 5, 2});
  const ClusterState once = read_cluster_state(range, kKeys);
  EXPECT_EQ(once.job_versions.at("default/web").at(0).as_json(), web0);
  EXPECT_TRUE(once.job_versions.at("default/web").at(1).job.shares(once.jobs.at("default/web").job));
  EXPECT_EQ(once.jobs.at("default/web").as_json(), web1);
}

// An alloc key as the leader writes it (AllocView::text: the Job last): a Job that is the
// state's for that version, byte for byte, is not parsed but shared; one that differs, or a
// Job not last, is read whole and kept as the alloc's own.
TEST(ClusterStateIndex, AnAllocWrittenWithItsJobLastFindsItInTheStateOnlyWhenItIsTheSame) {
  const json web0 = job_record("web", 0, 1);
  Watched w;
  const auto& st = w.index.state();
  w.job(web0);
  auto job_last = [](json alloc, const json& job) {
    alloc.erase("Job");
    std::string text = alloc.dump();
    text.pop_back();
    return text + ",\"Job\":" + job.dump() + "}";
  };
  auto put_text = [&](const std::string& key, const std::string& text) {
    ++w.rev;
    w.index.put(EtcdKv{key, text, w.rev, w.rev});
  };
  put_text("/drover/allocs/n1/a1", job_last(alloc_value("a1", "n1", web0), web0["Job"]));
  EXPECT_TRUE(st.allocs.at("a1").job.shares(st.jobs.at("default/web").job));
  EXPECT_EQ(json::parse(st.allocs.at("a1").text()), alloc_value("a1", "n1", web0));

  json other = web0["Job"];
  other["Priority"] = 90;
  put_text("/drover/allocs/n1/a2", job_last(alloc_value("a2", "n1", web0), other));
  EXPECT_FALSE(st.allocs.at("a2").job.shares(st.jobs.at("default/web").job));
  EXPECT_EQ(*st.allocs.at("a2").job.parsed(), other);

  // A member named Job deeper in the Job (here in its Meta) does not fool the cut.
  json tricky = web0["Job"];
  tricky["Meta"] = {{"A", "x"}, {"Job", "}"}};
  put_text("/drover/allocs/n1/a3", job_last(alloc_value("a3", "n1", web0), tricky));
  EXPECT_FALSE(st.allocs.at("a3").job.shares(st.jobs.at("default/web").job));
  EXPECT_EQ(*st.allocs.at("a3").job.parsed(), tricky);
  EXPECT_EQ(st.allocs.at("a3").alloc.value("JobID", ""), "web");
}

TEST(ClusterStateIndex, AnAllocsJobIsItsVersionsAsTheStateHoldsItAndStaysWhenTheRecordsGo) {
  const json web0 = job_record("web", 0, 1), web1 = job_record("web", 1, 1);
  Watched w;
  const auto& st = w.index.state();
  w.job(web0);
  w.put("/drover/allocs/n1/a1", alloc_value("a1", "n1", web0));
  const auto& a1 = st.allocs.at("a1");
  EXPECT_TRUE(a1.job.shares(st.jobs.at("default/web").job)) << "no copy of its own";
  EXPECT_EQ(*a1.job.parsed(), web0["Job"]);
  EXPECT_EQ(json::parse(a1.text()), alloc_value("a1", "n1", web0)) << "written back whole";
  // A new version: a1 (version 0) finds its Job in version 0's record now.
  w.job(web1);
  w.put("/drover/allocs/n1/a2", alloc_value("a2", "n1", web1));
  EXPECT_EQ(*st.allocs.at("a1").job.parsed(), web0["Job"]);
  EXPECT_EQ(*st.allocs.at("a2").job.parsed(), web1["Job"]);
  // The job key rewritten by hand under the same version with another spec: a2 keeps the Job
  // it was placed with.
  json edited = web1;
  edited["Job"]["Priority"] = 90;
  w.put("/drover/jobs/default/web", edited);
  EXPECT_EQ(*st.allocs.at("a2").job.parsed(), web1["Job"]);
  // Purged, and version 0's key collected, while the allocs are still there: each keeps its
  // Job.
  w.index.erase("/drover/jobs/default/web");
  w.index.erase("/drover/job_versions/default/web/0");
  w.index.erase("/drover/job_versions/default/web/1");
  EXPECT_EQ(*st.allocs.at("a1").job.parsed(), web0["Job"]);
  EXPECT_EQ(*st.allocs.at("a2").job.parsed(), web1["Job"]);
  EXPECT_EQ(json::parse(st.allocs.at("a2").text()), alloc_value("a2", "n1", web1));
  // A whole read (alloc keys come before job keys): shared all the same.
  EtcdRange range;
  range.revision = 9;
  range.kvs.push_back({"/drover/allocs/n1/a1", alloc_value("a1", "n1", web0).dump(), 4, 4});
  range.kvs.push_back({"/drover/job_versions/default/web/0", web0.dump(), 3, 3});
  range.kvs.push_back({"/drover/jobs/default/web", web0.dump(), 3, 3});
  const ClusterState once = read_cluster_state(range, kKeys);
  EXPECT_TRUE(once.allocs.at("a1").job.shares(once.jobs.at("default/web").job));
  EXPECT_EQ(*once.allocs.at("a1").job.parsed(), web0["Job"]);
}

// A status is held once, by its alloc: it stays with the alloc when the alloc key is written
// again, waits when the alloc key goes (its status key may outlive it) and comes back with it,
// and goes when the status key does.
TEST(ClusterStateIndex, AnAllocsStatusStaysWithItWhenItsKeyIsWrittenAgainOrGoesAndComesBack) {
  Watched w;
  const json web0 = job_record("web", 0, 1);
  w.job(web0);
  w.put("/drover/allocs/n1/a1", alloc_value("a1", "n1", web0));
  w.put("/drover/status/n1/a1", json{{"ClientStatus", "running"}});
  auto status = [&] { return w.index.state().allocs.at("a1").status; };
  EXPECT_EQ(status().value("ClientStatus", ""), "running");
  json again = alloc_value("a1", "n1", web0);
  again["DesiredStatus"] = "stop";
  w.put("/drover/allocs/n1/a1", again);
  EXPECT_EQ(status().value("ClientStatus", ""), "running") << "written again, it keeps it";
  EXPECT_EQ(w.index.state().allocs.at("a1").client_status(), "running");
  w.index.erase("/drover/allocs/n1/a1");
  EXPECT_EQ(w.index.state().allocs.count("a1"), 0u);
  w.put("/drover/allocs/n1/a1", alloc_value("a1", "n1", web0));
  EXPECT_EQ(status().value("ClientStatus", ""), "running") << "its status key is still there";
  w.index.erase("/drover/status/n1/a1");
  EXPECT_TRUE(status().is_null());
  w.put("/drover/allocs/n1/a1", again);
  EXPECT_TRUE(status().is_null()) << "a status gone stays gone";
}
