// Feasibility and ranking of nodes for one alloc (server/placement.hpp): what a user sees as
// where the scheduler puts things and why a job is blocked.
#include "server/placement.hpp"

#include <gtest/gtest.h>

#include "fixtures.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {

std::vector<const json*> ptrs(const std::vector<json>& nodes) {
  std::vector<const json*> out;
  for (const auto& n : nodes) out.push_back(&n);
  return out;
}

}  // namespace

TEST(Placement, ANodeWithoutTheDriverIsFilteredAsMissingDrivers) {
  auto j = job(web(1));
  json n = node("a");
  n["Drivers"]["raw_exec"]["Healthy"] = false;
  auto why = check_node(j, 0, n, {}, ask_of(j.groups[0]));
  EXPECT_EQ(why.constraint, "missing drivers");
}

TEST(Placement, AConstraintTheNodeFailsIsNamedAsNomadNamesIt) {
  auto j = job(
      web(1, 300, "  constraints:\n    - attribute: ${attr.kernel.name}\n      value: windows\n"));
  auto why = check_node(j, 0, node("a"), {}, ask_of(j.groups[0]));
  EXPECT_EQ(why.constraint, "${attr.kernel.name} = windows");
}

TEST(Placement, ANodeOutsideTheJobsDatacentersIsFiltered) {
  auto j = job(web(1, 300, "  datacenters: [dc2]\n"));
  EXPECT_EQ(check_node(j, 0, node("a"), {}, ask_of(j.groups[0])).constraint, "datacenter");
  EXPECT_FALSE(check_node(j, 0, node("b", 4000, 4096, "dc2"), {}, ask_of(j.groups[0])).any());
}

TEST(Placement, MemoryAlreadyPlacedExhaustsTheNode) {
  auto j = job(web(1, 1000));
  NodeUsage used;
  used.add("default/other", "g", {{"Cpu", 100}, {"MemoryMB", 3500}});
  auto why = check_node(j, 0, node("a"), used, ask_of(j.groups[0]));
  EXPECT_EQ(why.dimension, "memory");
  EXPECT_FALSE(check_node(j, 0, node("b"), {}, ask_of(j.groups[0])).any());
}

TEST(Placement, AStaticPortInUseOnTheNodeExhaustsIt) {
  auto j = job(
      "job:\n  id: p\n  groups:\n    - name: g\n      network:\n        ports:\n          http:\n"
      "            static: 8080\n      tasks:\n        - name: t\n          driver: "
      "raw_exec\n          config: {command: /bin/true}\n");
  NodeUsage used;
  used.add("default/other", "g", {{"Cpu", 100}, {"MemoryMB", 100}, {"StaticPorts", {8080}}});
  EXPECT_EQ(check_node(j, 0, node("a"), used, ask_of(j.groups[0])).dimension,
            "network: reserved port collision");
}

TEST(Placement, BinPackingPrefersTheFullerNode) {
  auto j = job(web(1));
  Ask ask = ask_of(j.groups[0]);
  NodeUsage busy;
  busy.add("default/other", "g", {{"Cpu", 2000}, {"MemoryMB", 2000}});
  EXPECT_GT(binpack_score(node("a"), busy, ask), binpack_score(node("b"), {}, ask));
  std::vector<json> nodes = {node("a"), node("b")};
  std::map<std::string, NodeUsage> usage = {{"b", busy}};
  PlacementMetrics m;
  EXPECT_EQ(pick_node(j, 0, ptrs(nodes), usage, ask, m), "b");
  EXPECT_EQ(m.scores.size(), 2u);
}

TEST(Placement, JobAntiAffinitySpreadsAJobsAllocsOverEqualNodes) {
  auto j = job(web(3));
  Ask ask = ask_of(j.groups[0]);
  std::vector<json> nodes = {node("a"), node("b"), node("c")};
  std::map<std::string, NodeUsage> usage;
  std::map<std::string, int> per_node;
  for (int i = 0; i < 3; ++i) {
    PlacementMetrics m;
    auto pick = pick_node(j, 0, ptrs(nodes), usage, ask, m);
    ASSERT_TRUE(pick);
    usage[*pick].add("default/web", "g", ask_to_json(ask));
    per_node[*pick]++;
  }
  EXPECT_EQ(per_node.size(), 3u) << "one alloc on each node";
}

TEST(Placement, AntiAffinityIsNomadsPenalty) {
  EXPECT_FALSE(anti_affinity_score(0, 3));
  EXPECT_DOUBLE_EQ(*anti_affinity_score(1, 4), -0.5);
}

TEST(Placement, NoNodeFitsAndTheMetricsSayWhyPerNode) {
  auto j = job(web(1, 5000));
  std::vector<json> nodes = {node("a"), node("b")};
  nodes[1]["Drivers"] = json::object();
  PlacementMetrics m;
  EXPECT_FALSE(pick_node(j, 0, ptrs(nodes), {}, ask_of(j.groups[0]), m));
  EXPECT_EQ(m.evaluated, 2);
  EXPECT_EQ(m.dimension_exhausted["memory"], 1);
  EXPECT_EQ(m.constraint_filtered["missing drivers"], 1);
  EXPECT_EQ(
      m.summary(),
      "constraint \"missing drivers\" filtered 1 node; dimension \"memory\" exhausted on 1 node");
}
