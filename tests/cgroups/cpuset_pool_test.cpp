// The node's pool of reservable cores: disjoint reservations, refusal, release, persistence.
#include "drover/cgroups/cpuset_pool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

using ::testing::HasSubstr;

TEST(CpusetPool, FormatsAndParsesCpuLists) {
  EXPECT_EQ(format_cpus({3, 0, 1}), "0-1,3");
  EXPECT_EQ(format_cpus({0, 1, 2, 5, 6, 8}), "0-2,5-6,8");
  EXPECT_EQ(format_cpus({}), "");
  EXPECT_EQ(*parse_cpus("0-1,3\n"), (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(*parse_cpus(""), (std::vector<int>{}));
  EXPECT_FALSE(parse_cpus("0-x").ok());
  EXPECT_FALSE(parse_cpus("3-1").ok());
}

TEST(CpusetPool, ReservationsAreDisjointAndShortageIsRefusedWithCounts) {
  CpusetPool pool({0, 1});
  auto a = pool.reserve("a1.web", 1);
  auto b = pool.reserve("a2.web", 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  auto c = pool.reserve("a3.web", 1);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.message(), HasSubstr("asked for 1, 0 free"));
  EXPECT_TRUE(pool.free().empty());
}

TEST(CpusetPool, ReleaseReturnsCoresToThePool) {
  CpusetPool pool({0, 1, 2});
  ASSERT_TRUE(pool.reserve("a1.web", 2).ok());
  auto refused = pool.reserve("a2.web", 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("asked for 2, 1 free (2)"));
  pool.release("a1.web");
  EXPECT_EQ(*pool.reserve("a2.web", 2), (std::vector<int>{0, 1}));
}

TEST(CpusetPool, AskingAgainGivesTheSameCores) {
  CpusetPool pool({0, 1, 2, 3});
  auto first = pool.reserve("a1.web", 2);
  auto again = pool.reserve("a1.web", 2);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(pool.free(), (std::vector<int>{2, 3}));
}

TEST(CpusetPool, ReservationsSurviveARestartThroughJson) {
  CpusetPool pool({0, 1, 2, 3});
  ASSERT_TRUE(pool.reserve("a1.web", 1).ok());
  ASSERT_TRUE(pool.reserve("a2.db", 2).ok());
  auto saved = nlohmann::json::parse(pool.to_json().dump());
  CpusetPool after({0, 1, 2, 3});
  ASSERT_TRUE(after.from_json(saved).ok());
  EXPECT_EQ(after.reserved_by("a1.web"), (std::vector<int>{0}));
  EXPECT_EQ(after.reserved_by("a2.db"), (std::vector<int>{1, 2}));
  EXPECT_EQ(after.free(), (std::vector<int>{3}));
  auto more = after.reserve("a3.x", 2);
  EXPECT_FALSE(more.ok()) << "restored reservations are still held";
}

TEST(CpusetPool, CorruptSavedStateIsRefusedAndChangesNothing) {
  CpusetPool pool({0, 1});
  ASSERT_TRUE(pool.reserve("a1.web", 1).ok());
  auto twice = nlohmann::json::parse(R"({"reservations":{"x":[0],"y":[0]}})");
  auto st = pool.from_json(twice);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("core 0 twice"));
  auto foreign = nlohmann::json::parse(R"({"reservations":{"x":[7]}})");
  EXPECT_THAT(pool.from_json(foreign).message(), HasSubstr("core 7"));
  EXPECT_EQ(pool.reserved_by("a1.web"), (std::vector<int>{0}));
}

TEST(CpusetPool, TasksReservingAtOnceNeverShareACore) {
  // Found in the v2 guest: two tasks of one core each started together were both given core
  // 0, and a third task was let in. Many rounds of racing reservers, each must get its own.
  for (int round = 0; round < 200; ++round) {
    CpusetPool pool({0, 1, 2, 3});
    std::vector<std::vector<int>> got(6);
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
      threads.emplace_back([&, i] {
        auto r = pool.reserve("a" + std::to_string(i) + ".t", 1);
        if (r) got[i] = r.value();
      });
    for (auto& t : threads) t.join();
    std::set<int> held;
    int granted = 0;
    for (const auto& cs : got) {
      granted += cs.empty() ? 0 : 1;
      for (int c : cs) ASSERT_TRUE(held.insert(c).second) << "core " << c << " given twice";
    }
    ASSERT_EQ(granted, 4) << "four cores, six askers: four get one each, two are refused";
    ASSERT_TRUE(pool.free().empty());
  }
}

TEST(CpusetPool, HostPoolIsOnlineCpusMinusReserved) {
  fake::TempDir t;
  fake::put(t.path() / "online", "0-3\n");
  auto pool = CpusetPool::from_host("0", t.path() / "online");
  ASSERT_TRUE(pool.ok()) << pool.message();
  EXPECT_EQ(pool->cores(), (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(CpusetPool::from_host("zero", t.path() / "online").ok());
}

// NUMA (docs/cgroups.md, "NUMA"): the host's nodes from sysfs, and Nomad's three affinities:
// none bin-packs onto the node with the fewest free, prefer and require take one node that
// holds them all (the fullest that does), require refuses rather than span nodes.
TEST(CpusetPool, NumaNodesAreReadFromSysfsAndKeptOutOfReservedCores) {
  fake::TempDir t;
  fake::put(t.path() / "online", "0-7\n");
  fake::put(t.path() / "node" / "node0" / "cpulist", "0-3\n");
  fake::put(t.path() / "node" / "node1" / "cpulist", "4-7\n");
  fake::put(t.path() / "node" / "possible", "0-1\n");
  auto nodes = read_numa_nodes(t.path() / "node");
  EXPECT_EQ(nodes, (std::map<int, std::vector<int>>{{0, {0, 1, 2, 3}}, {1, {4, 5, 6, 7}}}));
  EXPECT_TRUE(read_numa_nodes(t.path() / "nowhere").empty());
  auto pool = CpusetPool::from_host("0", t.path() / "online", t.path() / "node");
  ASSERT_TRUE(pool.ok()) << pool.message();
  EXPECT_EQ(pool->free_per_node(), (std::map<int, int>{{0, 3}, {1, 4}}));
}

TEST(CpusetPool, NumaAffinityPlacesCoresAsNomadDoes) {
  CpusetPool pool({0, 1, 2, 3, 4, 5, 6, 7});
  pool.set_numa_nodes({{0, {0, 1, 2, 3}}, {1, {4, 5, 6, 7}}});
  // require: all on one node; the fullest node that holds them.
  ASSERT_EQ(*pool.reserve("a.t", 3, NumaAffinity::Require), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(*pool.reserve("b.t", 2, NumaAffinity::Require), (std::vector<int>{4, 5}));
  // Node 0 has 1 free, node 1 has 2: three on one node cannot be had, and nothing is taken.
  auto refused = pool.reserve("c.t", 3, NumaAffinity::Require);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("no NUMA node has 3 free cores for c.t (numa affinity "
                                           "require): the most free on one node is 2 (node 1), "
                                           "3 free in all"));
  EXPECT_EQ(pool.free(), (std::vector<int>{3, 6, 7}));
  // prefer: spans nodes when it must, the one with the most free first.
  EXPECT_EQ(*pool.reserve("c.t", 3, NumaAffinity::Prefer), (std::vector<int>{3, 6, 7}));
  pool.release("a.t");
  pool.release("c.t");
  // Free now: node 0 all four, node 1 {6, 7}. prefer takes the fullest node that holds 2.
  EXPECT_EQ(*pool.reserve("d.t", 2, NumaAffinity::Prefer), (std::vector<int>{6, 7}));
  EXPECT_EQ(*pool.reserve("e.t", 1, NumaAffinity::None), (std::vector<int>{0}));
  pool.release("d.t");
  // none bin-packs: node 1 has 2 free, node 0 has 3, so node 1's lowest.
  EXPECT_EQ(*pool.reserve("f.t", 1), (std::vector<int>{6}));
  EXPECT_EQ(numa_affinity_from_string("require"), NumaAffinity::Require);
  EXPECT_EQ(numa_affinity_from_string(""), NumaAffinity::None);
  EXPECT_FALSE(numa_affinity_from_string("always").has_value());
}

// What submit weighs (docs/cgroups.md, "NUMA"): the asks placed as reserve() would place
// them, the biggest first, beside what is held; nothing is reserved by asking.
TEST(CpusetPool, CanReserveAllPlacesTheAsksWithoutReservingThem) {
  CpusetPool pool({0, 1, 2, 3, 4, 5, 6, 7});
  pool.set_numa_nodes({{0, {0, 1, 2, 3}}, {1, {4, 5, 6, 7}}});
  ASSERT_TRUE(pool.reserve("held", 3, NumaAffinity::Require).ok());  // node 0 keeps one
  using A = CpusetPool::Ask;
  EXPECT_TRUE(pool.can_reserve_all({{"a", 1, NumaAffinity::Require}, {"b", 4, NumaAffinity::Require}}).ok());
  auto st = pool.can_reserve_all({{"a", 2, NumaAffinity::Require}, {"b", 3, NumaAffinity::Require}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "no NUMA node has 2 free cores for a (numa affinity require): the most free on one "
            "node is 1 (node 1), 2 free in all, with b's 3 placed first");
  // A none ask takes cores too: 4 none + 2 require do not fit in 5.
  EXPECT_FALSE(pool.can_reserve_all({A{"n", 4}, A{"r", 2, NumaAffinity::Require}}).ok());
  EXPECT_EQ(pool.free().size(), 5u);
}

// `numa { devices }`: the node filter keeps a require on the nodes its devices are on, and
// says so when the cores alone would have fit; prefer falls back to any node.
TEST(CpusetPool, ANodeFilterKeepsTheCoresWhereTheDevicesAre) {
  CpusetPool pool({0, 1, 2, 3, 4, 5, 6, 7});
  pool.set_numa_nodes({{0, {0, 1, 2, 3}}, {1, {4, 5, 6, 7}}});
  auto on_node_1 = [](int node) { return node == 1; };
  auto r = pool.reserve("gpu", 2, NumaAffinity::Require, on_node_1);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(format_cpus(*r), "4-5");
  auto nowhere = [](int) { return false; };
  auto refused = pool.reserve("other", 2, NumaAffinity::Require, nowhere);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(),
            "no NUMA node has 2 free cores for other beside its devices (numa affinity require): "
            "nodes 0, 1 have the cores but not the free devices");
  auto preferred = pool.reserve("pref", 2, NumaAffinity::Prefer, nowhere);
  ASSERT_TRUE(preferred.ok()) << preferred.message();
  EXPECT_EQ(pool.nodes_of(*preferred).size(), 1u);
  EXPECT_EQ(pool.nodes_of({3, 4}), (std::vector<int>{0, 1}));
}

}  // namespace
}  // namespace drover::cgroups
