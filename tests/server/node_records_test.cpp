// Down nodes (server/node_records.hpp, docs/cluster.md "Down nodes"): a node whose lease lapsed
// stays listed, `down` or `disconnected` as Nomad shows it, is marked down by the leader only
// while it stays away, and is purged only while it is down.
#include "server/node_records.hpp"

#include <gtest/gtest.h>

#include "agent_process.hpp"
#include "cluster_processes.hpp"
#include "fixtures.hpp"

using drover::server::testing::kKeys;
using drover::server::testing::kSecond;
using namespace drover::server;
using drover::testing::EtcdProcess;
using drover::upstream::EtcdKv;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

namespace fx = drover::server::testing;

ClusterState with_nodes() {
  ClusterState st;
  st.nodes["b-live"] = fx::node("b-live");
  st.down_nodes["a-down"] = DownNode{fx::node("a-down"), 7};
  st.down_nodes["c-down"] = DownNode{fx::node("c-down"), 9};
  return st;
}

void add_alloc(ClusterState& st, const std::string& id, const std::string& node,
               const std::string& mark) {
  AllocView a;
  a.id = id;
  a.node_id = node;
  a.alloc = {{"ID", id}, {"JobID", "web"}, {"TaskGroup", "g"}, {"DesiredStatus", "run"}};
  if (!mark.empty()) a.alloc["ClientStatus"] = mark;
  a.status = {{"ClientStatus", "running"}};
  st.allocs[id] = a;
}

}  // namespace

TEST(NodeRecords, EveryNodeIsListedInIdOrderTheDownOnesWithTheirStatus) {
  auto st = with_nodes();
  add_alloc(st, "a1", "c-down", "unknown");  // within its group's lost_after
  auto all = all_nodes(st);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].value("ID", ""), "a-down");
  EXPECT_EQ(all[0].value("Status", ""), "down");
  EXPECT_EQ(all[1].value("ID", ""), "b-live");
  EXPECT_EQ(all[1].value("Status", ""), "ready");
  EXPECT_EQ(all[2].value("ID", ""), "c-down");
  EXPECT_EQ(all[2].value("Status", ""), "disconnected") << "an alloc of it is unknown";
  EXPECT_TRUE(node_json(st, "nope").is_null());
}

TEST(NodeRecords, ADownNodeShowsTheOperatorsEligibilityAsALiveOneDoes) {
  auto st = with_nodes();
  st.controls["a-down"] = {{"Eligibility", "ineligible"}, {"Drain", false}};
  auto n = node_json(st, "a-down");
  EXPECT_EQ(n.value("SchedulingEligibility", ""), "ineligible");
  EXPECT_EQ(n.value("Name", ""), "node-a-down") << "the node as it last registered";
}

TEST(NodeRecords, AnIdPrefixResolvesAmongLiveAndDownNodesAlike) {
  auto st = with_nodes();
  EXPECT_EQ(resolve_node(st, "a").value(), "a-down");
  EXPECT_EQ(resolve_node(st, "b").value(), "b-live");
  st.nodes["a-live"] = fx::node("a-live");
  auto both = resolve_node(st, "a-");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.code(), drover::Errc::Ambiguous);
  EXPECT_NE(both.message().find("matches 2"), std::string::npos) << both.message();
  EXPECT_EQ(resolve_node(st, "z").code(), drover::Errc::NotFound);
}

TEST(NodeRecords, OnlyADownNodeNotYetMarkedIsMarkedWithTheTimeInSeconds) {
  auto st = with_nodes();
  st.down_nodes["c-down"].record["Status"] = "down";
  auto marks = down_marks(st, kKeys, 1000 * kSecond + 5);
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].node_id, "a-down");
  EXPECT_EQ(marks[0].key, "/drover/node_records/a-down");
  EXPECT_EQ(marks[0].revision, 7) << "written only over the record as read";
  auto v = json::parse(marks[0].value);
  EXPECT_EQ(v.value("Status", ""), "down");
  EXPECT_EQ(v.value("StatusUpdatedAt", int64_t{0}), 1000);
  EXPECT_FALSE(v.value("StatusDescription", "").empty());
  EXPECT_EQ(v.value("Name", ""), "node-a-down");
}

// Against a real etcd, as the agent writes a node (its key on a lease, its record beside it)
// and the leader reads the cluster.
class NodeRecordsEtcd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
    ASSERT_TRUE(etcd_.start());
    drover::upstream::EtcdConfig cfg;
    cfg.endpoints = {etcd_.endpoint()};
    cfg.request_timeout = 2000ms;
    client_ = std::make_unique<drover::upstream::EtcdClient>(cfg);
    ASSERT_TRUE(client_->put(kKeys.leader(), "me"));
  }
  int64_t register_node(const std::string& id) {
    auto lease = client_->lease_grant(30s);
    EXPECT_TRUE(lease) << lease.message();
    EXPECT_TRUE(client_->put(kKeys.nodes() + id, fx::node(id).dump(), lease.value()));
    EXPECT_TRUE(client_->put(kKeys.node_record(id), fx::node(id).dump()));
    return lease.value();
  }
  ClusterState read() {
    auto r = client_->range_prefix(kKeys.all());
    EXPECT_TRUE(r) << r.message();
    return read_cluster_state(r.value(), kKeys);
  }
  EtcdProcess etcd_;
  std::unique_ptr<drover::upstream::EtcdClient> client_;
};

TEST_F(NodeRecordsEtcd, ALapsedNodeIsMarkedDownAndAMarkMadeBeforeItCameBackIsRefused) {
  const auto lease = register_node("n1");
  EXPECT_TRUE(read().down_nodes.empty()) << "live";
  ASSERT_TRUE(client_->lease_revoke(lease));  // as a lapse: the key goes with its lease
  auto st = read();
  ASSERT_EQ(st.down_nodes.count("n1"), 1u);
  EXPECT_EQ(st.nodes.count("n1"), 0u);
  const auto marks = down_marks(st, kKeys, 50 * kSecond);

  // Not the leader: nothing written.
  auto n = write_down_marks(*client_, kKeys, st, "someone-else", marks);
  ASSERT_TRUE(n) << n.message();
  EXPECT_EQ(n.value(), 0);
  n = write_down_marks(*client_, kKeys, st, "me", marks);
  ASSERT_TRUE(n) << n.message();
  EXPECT_EQ(n.value(), 1);
  st = read();
  EXPECT_EQ(st.down_nodes.at("n1").record.value("Status", ""), "down");
  EXPECT_EQ(node_json(st, "n1").value("StatusUpdatedAt", int64_t{0}), 50);
  EXPECT_TRUE(down_marks(st, kKeys, 60 * kSecond).empty()) << "marked once";

  // Back (its agent registers again) before a mark read earlier is written: the mark is void.
  register_node("n1");
  n = write_down_marks(*client_, kKeys, st, "me", down_marks(st, kKeys, 70 * kSecond));
  ASSERT_TRUE(n);
  EXPECT_EQ(n.value(), 0);
  st = read();
  EXPECT_TRUE(st.down_nodes.empty());
  EXPECT_EQ(node_json(st, "n1").value("Status", ""), "ready");
}

TEST_F(NodeRecordsEtcd, APurgeForgetsADownNodeAndItsControlButNotOneThatCameBack) {
  auto lease = register_node("n1");
  ASSERT_TRUE(client_->put(kKeys.node_control("n1"), R"({"Eligibility":"ineligible"})"));
  ASSERT_TRUE(client_->lease_revoke(lease));
  auto st = read();
  const int64_t rev = st.down_nodes.at("n1").revision;
  // Came back after the read: the purge is refused with a conflict, and the node stays.
  lease = register_node("n1");
  auto refused = purge_down_node(*client_, kKeys, "n1", rev);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.code(), drover::Errc::Conflict);
  EXPECT_EQ(read().nodes.count("n1"), 1u);

  ASSERT_TRUE(client_->lease_revoke(lease));
  st = read();
  auto done = purge_down_node(*client_, kKeys, "n1", st.down_nodes.at("n1").revision);
  ASSERT_TRUE(done) << done.message();
  st = read();
  EXPECT_TRUE(st.down_nodes.empty());
  EXPECT_EQ(st.controls.count("n1"), 0u);
  EXPECT_EQ(resolve_node(st, "n1").code(), drover::Errc::NotFound);
}
