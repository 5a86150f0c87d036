// etcd changes as the server's events (server/cluster_events.hpp): what a user following
// /v1/event/stream sees for each kind of key, with the etcd revision as the index.
#include "server/cluster_events.hpp"

#include <gtest/gtest.h>

using drover::server::cluster_event;
using drover::server::Keys;
using drover::upstream::EtcdWatchEvent;
using nlohmann::json;

namespace {

const Keys keys{"/drover"};

EtcdWatchEvent put(const std::string& key, const json& value, int64_t rev, int64_t created = 0) {
  EtcdWatchEvent e;
  e.kv = {key, value.dump(), rev, created ? created : rev};
  return e;
}

json payload(const drover::api::Event& e) { return json::parse(e.payload->text()); }

}  // namespace

TEST(ClusterEvents, AJobPutIsRegisteredAndAStoppedOrPurgedJobDeregistered) {
  auto reg = cluster_event(keys, put("/drover/jobs/default/web", {{"Job", {{"ID", "web"}}}}, 41));
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->topic, "job");
  EXPECT_EQ(reg->type, "JobRegistered");
  EXPECT_EQ(reg->key, "web");
  EXPECT_EQ(reg->index, 41u);
  EXPECT_EQ(payload(*reg)["Job"]["ID"], "web");
  auto stopped = cluster_event(
      keys, put("/drover/jobs/default/web", {{"Job", {{"ID", "web"}}}, {"Stop", true}}, 42));
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->type, "JobDeregistered");
  EtcdWatchEvent purge;
  purge.deleted = true;
  purge.kv = {"/drover/jobs/batch/nightly/periodic-1", "", 43, 0};
  auto purged = cluster_event(keys, purge);
  ASSERT_TRUE(purged);
  EXPECT_EQ(purged->type, "JobDeregistered");
  EXPECT_EQ(payload(*purged)["Job"]["Namespace"], "batch");
  EXPECT_EQ(payload(*purged)["Job"]["ID"], "nightly/periodic-1");
  // Each carries its namespace, what a client token's stream is filtered by.
  EXPECT_EQ(reg->ns, "default");
  EXPECT_EQ(purged->ns, "batch");
}

TEST(ClusterEvents, APlacementAndTheNodesReportAreAllocEventsWithItsClientStatus) {
  auto placed = cluster_event(
      keys, put("/drover/allocs/n1/a1", {{"JobID", "web"}, {"DesiredStatus", "run"}}, 50));
  ASSERT_TRUE(placed);
  EXPECT_EQ(placed->topic, "alloc");
  EXPECT_EQ(placed->type, "PlanResult");
  EXPECT_EQ(payload(*placed)["Allocation"]["NodeID"], "n1");
  auto running =
      cluster_event(keys, put("/drover/status/n1/a1", {{"ClientStatus", "running"}}, 51));
  ASSERT_TRUE(running);
  EXPECT_EQ(running->type, "AllocationUpdated");
  EXPECT_EQ(running->key, "a1");
  EXPECT_EQ(payload(*running)["Allocation"]["ClientStatus"], "running");
  // The placement says its namespace; the node's report does not (the stream looks it up).
  EXPECT_EQ(placed->ns, "default");
  EXPECT_EQ(running->ns, "");
  auto team = cluster_event(
      keys, put("/drover/allocs/n1/a2", {{"JobID", "w"}, {"Namespace", "team-a"}}, 52));
  ASSERT_TRUE(team);
  EXPECT_EQ(team->ns, "team-a");
}

TEST(ClusterEvents, ANodeKeyComingIsRegistrationAndGoingIsDown) {
  auto up = cluster_event(keys, put("/drover/nodes/n1", {{"Name", "box"}}, 60));
  ASSERT_TRUE(up);
  EXPECT_EQ(up->type, "NodeRegistration");
  auto updated = cluster_event(keys, put("/drover/nodes/n1", {{"Name", "box"}}, 61, 60));
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->type, "NodeEvent");
  EtcdWatchEvent gone;
  gone.deleted = true;
  gone.kv = {"/drover/nodes/n1", "", 62, 0};
  auto down = cluster_event(keys, gone);
  ASSERT_TRUE(down);
  EXPECT_EQ(down->type, "NodeDeregistration");
  EXPECT_EQ(payload(*down)["Node"]["Status"], "down");
}

TEST(ClusterEvents, EvaluationsAreEventsAndTheServersOwnKeysAreNot) {
  auto eval = cluster_event(keys, put("/drover/evals/e1", {{"Status", "complete"}}, 70));
  ASSERT_TRUE(eval);
  EXPECT_EQ(eval->topic, "eval");
  EXPECT_EQ(eval->type, "EvaluationUpdated");
  EXPECT_FALSE(cluster_event(keys, put("/drover/leader", {{"Name", "s1"}}, 71)));
  EXPECT_FALSE(cluster_event(keys, put("/drover/servers/s1", {{"Name", "s1"}}, 72)));
  EXPECT_FALSE(cluster_event(keys, put("/drover/acl/tokens/x", {{"Name", "t"}}, 73)));
}
