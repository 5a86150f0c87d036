// A node that stops heartbeating, by its allocs' group `disconnect` block (server/disconnect.hpp,
// docs/cluster.md "Disconnected nodes"): unknown for lost_after and replaced (or not) meanwhile,
// lost after it; when the node is back, the original or its replacement kept as `reconcile`
// says; with stop_on_client_after, the replacement waits for the node to have stopped it.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/disconnect.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {


std::map<std::string, json> allocs_of(const Plan& p) { return plan_allocs(p, kKeys.allocs()); }
void apply(ClusterState& st, const Plan& p) { apply_plan(st, p, kKeys); }

json running(int64_t started_ns = kNow) {
  return {{"ClientStatus", "running"},
          {"ModifyTime", started_ns},
          {"TaskStates", {{"t", {{"State", "running"}, {"StartedAtNs", started_ns}}}}}};
}

// A one-alloc service job on node "a" (of "a" and "b") with `disconnect` as its group's
// block, reported running; `original` names the alloc.
ClusterState placed_on_a(const std::string& disconnect, std::string& original) {
  ClusterState st;
  st.nodes["a"] = node("a");
  auto j = job("job:\n  id: web\n  groups:\n    - name: g\n      disconnect: " + disconnect +
               "\n      tasks:\n        - name: t\n          driver: raw_exec\n"
               "          config: {command: /bin/true}\n");
  st.jobs["default/web"] = record_of(j);
  apply(st, plan_cluster(st, kKeys, kNow));
  original = st.allocs.begin()->first;
  st.allocs.at(original).status = running();
  st.nodes["b"] = node("b");
  return st;
}

// The job's allocs placed on node `n` by the plan.
std::vector<json> placed_on(const Plan& p, const std::string& n, const std::string& except) {
  std::vector<json> out;
  for (const auto& [id, a] : allocs_of(p))
    if (id != except && a["NodeID"] == n) out.push_back(a);
  return out;
}

// placed_on_a's alloc after node "a" went and came back, its replacement (`replacement`)
// running on "b" meanwhile: the state the pass that sees "a" again plans from.
ClusterState replaced_while_away(const std::string& disconnect, std::string& original,
                                 std::string& replacement) {
  auto st = placed_on_a(disconnect, original);
  const json node_a = st.nodes.at("a");
  st.nodes.erase("a");
  auto plan = plan_cluster(st, kKeys, kNow + kSecond);
  apply(st, plan);
  replacement = placed_on(plan, "b", original).at(0)["ID"];
  st.allocs.at(replacement).status = running(kNow + 2 * kSecond);
  st.nodes["a"] = node_a;  // registered again, its allocs' statuses written first
  return st;
}

}  // namespace

TEST(Disconnect, AnAllocOfANodeThatWentIsUnknownReplacedAtOnceThenLostAfterLostAfter) {
  std::string original;
  auto st = placed_on_a("{lost_after: 1m}", original);
  st.nodes.erase("a");
  auto plan = plan_cluster(st, kKeys, kNow + kSecond);
  EXPECT_EQ(plan.unknown, 1);
  EXPECT_EQ(plan.lost, 0);
  auto a = allocs_of(plan).at(original);
  EXPECT_EQ(a["ClientStatus"], "unknown");
  EXPECT_EQ(a["DesiredStatus"], "run");
  EXPECT_EQ(a["ClientDescription"], "alloc is unknown since its node is disconnected");
  ASSERT_EQ(a["AllocStates"].size(), 1u);
  EXPECT_EQ(a["AllocStates"][0]["Value"], "unknown");
  auto replacement = placed_on(plan, "b", original);
  ASSERT_EQ(replacement.size(), 1u) << "replace defaults to true";
  EXPECT_EQ(replacement[0]["PreviousAllocation"], original);
  EXPECT_EQ(a["NextAllocation"], replacement[0]["ID"]);
  apply(st, plan);
  st.allocs.at(replacement[0]["ID"]).status = running();
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 30 * kSecond).empty()) << "within lost_after";
  plan = plan_cluster(st, kKeys, kNow + 62 * kSecond);
  EXPECT_EQ(plan.lost, 1);
  EXPECT_EQ(plan.placed, 0) << "its replacement runs already";
  a = allocs_of(plan).at(original);
  EXPECT_EQ(a["ClientStatus"], "lost");
  EXPECT_EQ(a["DesiredStatus"], "stop");
  EXPECT_EQ(a["AllocStates"].size(), 2u);
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 63 * kSecond).empty());
}

TEST(Disconnect, WithReplaceFalseTheIndexWaitsForTheNodeUntilItIsLost) {
  std::string original;
  auto st = placed_on_a("{lost_after: 1m, replace: false}", original);
  st.nodes.erase("a");
  auto plan = plan_cluster(st, kKeys, kNow + kSecond);
  EXPECT_EQ(plan.unknown, 1);
  EXPECT_EQ(plan.placed, 0);
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 59 * kSecond).empty());
  plan = plan_cluster(st, kKeys, kNow + 62 * kSecond);
  EXPECT_EQ(plan.lost, 1);
  auto replacement = placed_on(plan, "b", original);
  ASSERT_EQ(replacement.size(), 1u) << "lost: replaced now";
  EXPECT_EQ(replacement[0]["PreviousAllocation"], original);
}

TEST(Disconnect, BackBeforeLostAfterTheOriginalIsKeptAndItsReplacementStopped) {
  std::string original, rid;
  auto st = replaced_while_away("{lost_after: 1h, reconcile: keep_original}", original, rid);
  auto plan = plan_cluster(st, kKeys, kNow + 10 * kSecond);
  auto allocs = allocs_of(plan);
  ASSERT_TRUE(allocs.count(rid));
  EXPECT_EQ(allocs.at(rid)["DesiredStatus"], "stop");
  EXPECT_EQ(allocs.at(rid)["DesiredDescription"],
            "alloc not needed due to disconnected client reconnect");
  const json& o = allocs.at(original);
  EXPECT_EQ(o["DesiredStatus"], "run");
  EXPECT_FALSE(o.contains("ClientStatus")) << "its node's report counts again";
  EXPECT_FALSE(o.contains("NextAllocation")) << "a later failure is rescheduled";
  EXPECT_EQ(plan.placed, 0);
  apply(st, plan);
  EXPECT_EQ(st.allocs.at(original).client_status(), "running");
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 11 * kSecond).empty());
}

TEST(Disconnect, KeepReplacementStopsTheOriginalWhenItsNodeIsBack) {
  std::string original, rid;
  auto st = replaced_while_away("{lost_after: 1h, reconcile: keep_replacement}", original, rid);
  auto plan = plan_cluster(st, kKeys, kNow + 10 * kSecond);
  auto allocs = allocs_of(plan);
  EXPECT_EQ(allocs.at(original)["DesiredStatus"], "stop");
  EXPECT_FALSE(allocs.count(rid)) << "the replacement is left as it is";
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 11 * kSecond).empty());
}

TEST(Disconnect, AnOriginalThatDiedWhileAwayGivesWayToItsReplacementUnderBestScore) {
  std::string original, rid;
  auto st = replaced_while_away("{lost_after: 1h}", original, rid);
  // The original failed while away; the replacement scored better.
  st.allocs.at(original).status = {{"ClientStatus", "failed"}, {"ModifyTime", kNow + 3 * kSecond}};
  st.allocs.at(original).metrics =
      std::make_shared<const std::string>(R"({"ScoreMetaData": [{"NodeID": "a", "NormScore": 0.2}]})");
  st.allocs.at(rid).metrics =
      std::make_shared<const std::string>(R"({"ScoreMetaData": [{"NodeID": "b", "NormScore": 0.6}]})");
  auto plan = plan_cluster(st, kKeys, kNow + 10 * kSecond);
  auto allocs = allocs_of(plan);
  EXPECT_EQ(allocs.at(original)["DesiredStatus"], "stop");
  EXPECT_FALSE(allocs.count(rid));
  EXPECT_EQ(plan.placed, 0);
}

TEST(Disconnect, TheReconnectingPickerFollowsNomadsRules) {
  auto j = job("job:\n  id: web\n  groups:\n    - name: g\n"
               "      disconnect: {lost_after: 1h, reconcile: longest_running}\n"
               "      tasks:\n        - name: t\n          driver: raw_exec\n"
               "          config: {command: /bin/true}\n");
  auto g = j.groups.at(0);
  AllocView o, r;
  o.alloc = {{"JobVersion", 0}};
  r.alloc = {{"JobVersion", 0}};
  o.status = running(kNow);
  r.status = running(kNow + kSecond);
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &o) << "longest running: the original started first";
  o.status = running(kNow + 2 * kSecond);
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &r) << "it restarted since";
  r.alloc["JobVersion"] = 1;
  g.disconnect->reconcile = "keep_original";
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &r) << "a replacement of a newer version is kept";
  r.alloc["JobVersion"] = 0;
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &o);
  g.disconnect->reconcile = "best_score";
  r.metrics = std::make_shared<const std::string>(R"({"ScoreMetaData": [{"NormScore": 0.9}]})");
  r.status = {{"ClientStatus", "pending"}};
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &o) << "never a running original for a pending one";
  r.status = running();
  EXPECT_EQ(&keep_on_reconnect(g, o, r), &r) << "better scored (the original has none)";
}

TEST(Disconnect, StopOnClientAfterHoldsTheReplacementUntilTheNodeHasStoppedTheOriginal) {
  std::string original;
  auto st = placed_on_a("{stop_on_client_after: 30s}", original);
  st.nodes.erase("a");
  auto plan = plan_cluster(st, kKeys, kNow + kSecond);
  EXPECT_EQ(plan.lost, 1);
  EXPECT_EQ(plan.placed, 0);
  json followup;
  for (const auto& [k, v] : plan.puts)
    if (k.rfind(kKeys.evals(), 0) == 0 && json::parse(v).value("WaitUntil", int64_t{0}) != 0)
      followup = json::parse(v);
  ASSERT_TRUE(followup.is_object()) << "a follow-up evaluation waits for the node";
  // Lost at kNow+1s, then 30s, then the kill timeout (Nomad's default of 5s at least).
  EXPECT_EQ(followup["WaitUntil"], kNow + kSecond + 35 * kSecond);
  EXPECT_EQ(allocs_of(plan).at(original)["FollowupEvalID"], followup["ID"]);
  apply(st, plan);
  EXPECT_TRUE(plan_cluster(st, kKeys, kNow + 20 * kSecond).empty());
  plan = plan_cluster(st, kKeys, kNow + 37 * kSecond);
  auto replacement = placed_on(plan, "b", original);
  ASSERT_EQ(replacement.size(), 1u);
  EXPECT_EQ(replacement[0]["PreviousAllocation"], original);
}

TEST(Disconnect, WithoutTheBlockANodeThatWentLosesItsAllocsAtOnce) {
  std::string original;
  ClusterState st;
  st.nodes["a"] = node("a");
  st.jobs["default/web"] = record_of(job(web(1)));
  apply(st, plan_cluster(st, kKeys, kNow));
  original = st.allocs.begin()->first;
  st.nodes["b"] = node("b");
  st.nodes.erase("a");
  auto plan = plan_cluster(st, kKeys, kNow + kSecond);
  EXPECT_EQ(plan.lost, 1);
  EXPECT_EQ(plan.unknown, 0);
  EXPECT_EQ(allocs_of(plan).at(original)["AllocStates"][0]["Value"], "lost");
  EXPECT_EQ(placed_on(plan, "b", original).size(), 1u);
}
