// Ranking beyond bin-packing (server/placement.hpp, affinity_score.hpp, spread_score.hpp):
// where a user's affinity and spread blocks and the cluster's scheduler algorithm send allocs,
// and the scores kept for `alloc status -verbose`.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "runner/constraints.hpp"
#include "server/affinity_score.hpp"
#include "server/placement.hpp"
#include "server/scheduler.hpp"
#include "server/spread_score.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {

json racked(const std::string& id, const std::string& rack) {
  json n = node(id);
  n["Meta"] = {{"rack", rack}};
  return n;
}

std::vector<const json*> ptrs(const std::vector<json>& nodes) {
  std::vector<const json*> out;
  for (const auto& n : nodes) out.push_back(&n);
  return out;
}

// Plans the job alone on `nodes` and counts its allocs per rack.
std::map<std::string, int> per_rack(const std::vector<json>& nodes, const drover::jobspec::Job& j) {
  ClusterState st;
  for (const auto& n : nodes) st.nodes[n["ID"]] = n;
  st.jobs["default/" + j.id] = record_of(j);
  auto plan = plan_cluster(st, Keys{"/drover"}, 1);
  std::map<std::string, int> out;
  for (const auto& [k, v] : plan.puts)
    if (k.rfind("/drover/allocs/", 0) == 0)
      out[st.nodes.at(json::parse(v)["NodeID"].get<std::string>())["Meta"]["rack"]]++;
  return out;
}

const std::string kRackAffinity =
    "  affinities:\n    - attribute: ${meta.rack}\n      value: r2\n      weight: WEIGHT\n";

std::string with_weight(std::string s, int w) {
  s.replace(s.find("WEIGHT"), 6, std::to_string(w));
  return s;
}

}  // namespace

TEST(Ranking, AnAffinityDrawsTheAllocToTheNodeThatMatches) {
  auto j = job(web(1, 300, with_weight(kRackAffinity, 100)));
  std::vector<json> nodes = {racked("a", "r1"), racked("b", "r2")};
  PlacementMetrics m;
  EXPECT_EQ(pick_node(j, 0, ptrs(nodes), {}, ask_of(j.groups[0]), m), "b");
  EXPECT_DOUBLE_EQ(m.scores["b"].scores["node-affinity"], 1.0);
  EXPECT_DOUBLE_EQ(m.scores["a"].scores["node-affinity"], 0.0);
  EXPECT_GT(m.scores["b"].norm, m.scores["a"].norm);
}

TEST(Ranking, ANegativeAffinityKeepsTheAllocAwayFromTheNodeThatMatches) {
  // Without it, the tie goes to the lower node id.
  auto j = job(web(1, 300,
                   "  affinities:\n    - attribute: ${meta.rack}\n      value: r1\n"
                   "      weight: -100\n"));
  std::vector<json> nodes = {racked("a", "r1"), racked("b", "r2")};
  PlacementMetrics m;
  EXPECT_EQ(pick_node(j, 0, ptrs(nodes), {}, ask_of(j.groups[0]), m), "b");
  EXPECT_DOUBLE_EQ(m.scores["a"].scores["node-affinity"], -1.0);
}

TEST(Ranking, AffinityScoreIsMatchingWeightsOverAllWeightsWithTaskAffinitiesCounted) {
  auto j = job(
      "job:\n  id: w\n  affinities:\n    - attribute: ${meta.rack}\n      value: r1\n"
      "      weight: 50\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config: {command: /bin/true}\n"
      "          affinities:\n            - attribute: ${attr.kernel.name}\n"
      "              operator: regexp\n              value: '^win'\n              weight: 50\n");
  auto affinities = affinities_of(j, 0);
  ASSERT_EQ(affinities.size(), 2u);
  auto info = drover::runner::node_info_from_json(racked("a", "r1"));
  EXPECT_DOUBLE_EQ(*node_affinity_score(affinities, info), 0.5);
  info.meta["rack"] = "r9";
  EXPECT_FALSE(node_affinity_score(affinities, info)) << "nothing matches: no score at all";
}

TEST(Ranking, SpreadTargetsShareTheGroupByPercent) {
  auto j = job(web(4, 300,
                   "  spreads:\n    - attribute: ${meta.rack}\n      weight: 100\n"
                   "      targets:\n        - {value: r1, percent: 75}\n"
                   "        - {value: r2, percent: 25}\n"));
  auto counts = per_rack({racked("a", "r1"), racked("b", "r2")}, j);
  EXPECT_EQ(counts["r1"], 3);
  EXPECT_EQ(counts["r2"], 1);
}

TEST(Ranking, ASpreadWithoutTargetsEvensTheGroupOverTheAttributesValues) {
  // Two nodes in r1 and one in r2: anti-affinity alone puts 3 of 4 in r1.
  std::vector<json> nodes = {racked("a", "r1"), racked("b", "r1"), racked("c", "r2")};
  EXPECT_EQ(per_rack(nodes, job(web(4)))["r1"], 3);
  auto counts = per_rack(
      nodes, job(web(4, 300, "  spreads:\n    - attribute: ${meta.rack}\n      weight: 100\n")));
  EXPECT_EQ(counts["r1"], 2);
  EXPECT_EQ(counts["r2"], 2);
}

TEST(Ranking, ASpreadPenalisesANodeWithoutTheAttributeOrWithAValueNoTargetWants) {
  auto j = job(web(2, 300,
                   "  spreads:\n    - attribute: ${meta.rack}\n      weight: 100\n"
                   "      targets:\n        - {value: r1, percent: 100}\n"));
  auto spreads = spreads_of(j, 0);
  json bare = node("x");
  EXPECT_DOUBLE_EQ(*spread_score(spreads, drover::runner::node_info_from_json(bare)), -1.0);
  EXPECT_DOUBLE_EQ(*spread_score(spreads, drover::runner::node_info_from_json(racked("y", "r2"))),
                   -1.0);
  EXPECT_DOUBLE_EQ(*spread_score(spreads, drover::runner::node_info_from_json(racked("z", "r1"))),
                   0.5);
}

TEST(Ranking, TheSpreadAlgorithmPrefersTheEmptierNode) {
  auto j = job(web(1));
  Ask ask = ask_of(j.groups[0]);
  NodeUsage busy;
  busy.add("default/other", "g", {{"Cpu", 2000}, {"MemoryMB", 2000}});
  std::map<std::string, NodeUsage> usage = {{"a", busy}};
  std::vector<json> nodes = {node("a"), node("b")};
  EXPECT_LT(binpack_score(node("a"), busy, ask, "spread"),
            binpack_score(node("b"), {}, ask, "spread"));
  RankOptions spread;
  spread.algorithm = "spread";
  PlacementMetrics m;
  EXPECT_EQ(choose_node(j, 0, ptrs(nodes), usage, ask, spread, m)->node_id, "b");
  PlacementMetrics m2;
  EXPECT_EQ(choose_node(j, 0, ptrs(nodes), usage, ask, RankOptions{}, m2)->node_id, "a");
}

TEST(Ranking, ScoreMetaDataKeepsTheTopFiveNodesInNomadsShapeBestFirst) {
  auto j = job(web(1));
  std::vector<json> nodes;
  std::map<std::string, NodeUsage> usage;
  for (int i = 0; i < 7; ++i) {
    std::string id = "n" + std::to_string(i);
    nodes.push_back(node(id));
    usage[id].add("default/other", "g", {{"Cpu", 100 * i}, {"MemoryMB", 300 * i}});
  }
  PlacementMetrics m;
  EXPECT_EQ(pick_node(j, 0, ptrs(nodes), usage, ask_of(j.groups[0]), m), "n6");
  json meta = m.to_json()["ScoreMetaData"];
  ASSERT_EQ(meta.size(), 5u);
  EXPECT_EQ(meta[0]["NodeID"], "n6");
  EXPECT_EQ(meta[4]["NodeID"], "n2");
  for (const char* k : {"binpack", "job-anti-affinity", "node-affinity"})
    EXPECT_TRUE(meta[0]["Scores"].contains(k)) << k;
  EXPECT_GE(meta[0]["NormScore"].get<double>(), meta[1]["NormScore"].get<double>());
}

TEST(Ranking, AnAllocStoppedInThePlanFreesItsNodeForItsReplacement) {
  // One node with room for one 3000 MB alloc: a new version's replacement takes the room the
  // old one leaves in the same plan, with no anti-affinity against it (Nomad's proposed allocs).
  ClusterState st;
  st.nodes["a"] = node("a");
  auto v0 = job(web(1, 3000));
  st.jobs["default/web"] = record_of(v0);
  const Keys keys{"/drover"};
  apply_allocs(st, plan_cluster(st, keys, 1), keys.allocs(), {{"ClientStatus", "running"}});
  ASSERT_EQ(st.allocs.size(), 1u);
  auto v1 = v0;
  v1.groups[0].tasks[0].config["args"] = json::array({"changed"});
  st.jobs["default/web"] = record_of(v1, 1);
  auto plan = plan_cluster(st, keys, 2);
  EXPECT_EQ(plan.stopped, 1);
  ASSERT_EQ(plan.placed, 1);
  for (const auto& [k, v] : plan.puts) {
    auto j = json::parse(v);
    if (k.rfind(keys.allocs(), 0) == 0 && j["DesiredStatus"] == "run") {
      EXPECT_EQ(j["Metrics"]["ScoreMetaData"][0]["Scores"]["job-anti-affinity"], 0.0);
    }
  }
}

TEST(Ranking, AFailedAllocIsRescheduledAwayFromTheNodeItFailedOn) {
  // Two equal nodes: the first placement goes to "a" (the tie-break); the replacement of its
  // failed alloc goes to "b", "a" carrying Nomad's node-reschedule-penalty.
  ClusterState st;
  st.nodes["a"] = node("a");
  st.nodes["b"] = node("b");
  st.jobs["default/web"] = record_of(job(web(1)));
  const Keys keys{"/drover"};
  constexpr int64_t kSecond = 1'000'000'000LL;
  auto take = [&](const Plan& plan) {
    apply_allocs(st, plan, keys.allocs());
    json placed;  // the alloc the plan placed (or moved on)
    for (const auto& [k, v] : plan.puts) {
      if (k.rfind(keys.allocs(), 0) != 0) continue;
      auto a = json::parse(v);
      if (!a.contains("NextAllocation") && a["DesiredStatus"] == "run") placed = a;
    }
    for (const auto& [k, v] : plan.puts)
      if (k.rfind(keys.evals(), 0) == 0) st.evals[json::parse(v)["ID"]] = json::parse(v);
    return placed;
  };
  json first = take(plan_cluster(st, keys, kSecond));
  ASSERT_EQ(first["NodeID"], "a");
  st.allocs.at(first["ID"]).status = {{"ClientStatus", "failed"}, {"ModifyTime", kSecond}};
  take(plan_cluster(st, keys, 2 * kSecond));  // the follow-up evaluation, waiting 30 s
  json again = take(plan_cluster(st, keys, 40 * kSecond));
  ASSERT_EQ(again["PreviousAllocation"], first["ID"]) << again.dump(2);
  EXPECT_EQ(again["NodeID"], "b");
  for (const auto& m : again["Metrics"]["ScoreMetaData"])
    EXPECT_EQ(m["Scores"]["node-reschedule-penalty"], m["NodeID"] == "a" ? -1.0 : 0.0);
}

TEST(Ranking, ALargeClusterRanksLog2OfItsNodesButAtLeastSixteenAndASmallOneWhole) {
  EXPECT_EQ(candidate_limit(3, false), kRankedAtLeast);
  EXPECT_EQ(candidate_limit(1000, false), kRankedAtLeast);  // ceil(log2 1000) = 10
  EXPECT_EQ(candidate_limit(1u << 20, false), 20u);
  EXPECT_EQ(candidate_limit(1000, true), 0u) << "affinities and spreads weigh every node";
  EXPECT_EQ(rotation_start("default/web.g[0]"), rotation_start("default/web.g[0]"))
      << "every server starts the rotation at the same node";
  EXPECT_NE(rotation_start("default/web.g[0]"), rotation_start("default/web.g[1]"));
}

TEST(Ranking, ALimitedPlacementRanksThatManyFeasibleNodesFromItsStartAndPassesOverTheFull) {
  // 40 nodes, n00..n39; n02 and n03 full. From n00 with a limit of 4: n00, n01, n04 and n05
  // are ranked (the full ones do not count), and the fullest of them wins, not a fuller node
  // further on.
  auto j = job(web(1));
  std::vector<json> nodes;
  std::map<std::string, NodeUsage> usage;
  for (int i = 0; i < 40; ++i) {
    const std::string id = (i < 10 ? "n0" : "n") + std::to_string(i);
    nodes.push_back(node(id));
    usage[id].add("default/other", "g", {{"Cpu", i == 2 || i == 3 ? 4000 : 50 * i}, {"MemoryMB", 10}});
  }
  RankOptions options;
  options.limit = 4;
  options.start = 0;
  PlacementMetrics m;
  auto c = choose_node(j, 0, ptrs(nodes), usage, ask_of(j.groups[0]), options, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "n05");
  EXPECT_EQ(m.evaluated, 6);
  EXPECT_EQ(m.exhausted, 2);
  // From n38 the rotation wraps round: n38, n39, n00, n01.
  options.start = 38;
  PlacementMetrics again;
  c = choose_node(j, 0, ptrs(nodes), usage, ask_of(j.groups[0]), options, again);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "n39");
  EXPECT_EQ(again.evaluated, 4);
}

TEST(Ranking, ALimitedPlacementSetsAsideUpToThreeNodesScoringZeroOrLessForLaterOnes) {
  // Nomad's limit iterator: a node already running the group (job anti-affinity makes its
  // score negative) is passed over for the next ones; only when the sweep runs out does it
  // count. A job of count 2 with one alloc on n00: from n00 with a limit of 1, n01 is chosen.
  auto j = job(web(2));
  std::vector<json> nodes = {node("n00"), node("n01")};
  std::map<std::string, NodeUsage> usage;
  usage["n00"].add("default/web", "g", {{"Cpu", 3000}, {"MemoryMB", 10}});
  RankOptions options;
  options.limit = 1;
  PlacementMetrics m;
  auto c = choose_node(j, 0, ptrs(nodes), usage, ask_of(j.groups[0]), options, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "n01") << "n00 is fuller, but runs the group already";
  // With n01 full, the set-aside n00 is all there is, and takes it.
  usage["n01"].add("default/other", "g", {{"Cpu", 4000}, {"MemoryMB", 10}});
  PlacementMetrics again;
  c = choose_node(j, 0, ptrs(nodes), usage, ask_of(j.groups[0]), options, again);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "n00");
}
