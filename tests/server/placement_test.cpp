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
    auto pick = choose_node(j, 0, ptrs(nodes), usage, ask, RankOptions{}, m);
    ASSERT_TRUE(pick);
    usage[pick->node_id].add("default/web", "g", ask_to_json(ask, *pick));
    per_node[pick->node_id]++;
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

namespace {

// A node with GPUs as the nvidia plugin reports them: `healthy` of `instances` healthy.
json gpu_node(const std::string& id, const std::string& model, int instances, int healthy,
              int memory_gib = 80) {
  json n = node(id);
  json inst = json::array();
  for (int i = 0; i < instances; ++i)
    inst.push_back({{"ID", "GPU-" + id + std::to_string(i)}, {"Healthy", i < healthy}});
  n["NodeResources"]["Devices"] = json::array(
      {{{"Vendor", "nvidia"},
        {"Type", "gpu"},
        {"Name", model},
        {"Attributes", {{"memory", {{"Value", memory_gib}, {"Unit", "GiB"}}}}},
        {"Instances", inst}}});
  return n;
}

std::string gpu_job(int count, const std::string& devices) {
  return "job:\n  id: train\n  type: batch\n  groups:\n    - name: g\n      count: " +
         std::to_string(count) +
         "\n      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
         "            command: /bin/true\n          resources:\n            memory: 100\n"
         "            devices: " + devices + "\n";
}

// Places `count` allocs one by one as a plan does, each holding what its Resources say.
std::map<std::string, int> place_all(const drover::jobspec::Job& j, const std::vector<json>& nodes,
                                     PlacementMetrics& last) {
  std::map<std::string, NodeUsage> usage;
  std::map<std::string, int> per_node;
  Ask ask = ask_of(j.groups[0]);
  for (int i = 0; i < j.groups[0].count; ++i) {
    last = PlacementMetrics{};
    auto c = choose_node(j, 0, ptrs(nodes), usage, ask, RankOptions{}, last);
    if (!c) break;
    usage[c->node_id].add("default/train", "g", ask_to_json(ask, *c));
    per_node[c->node_id]++;
  }
  return per_node;
}

}  // namespace

TEST(Placement, GpuAllocsGoWhereTheGpusAreAndNeverMoreThanTheHealthyOnes) {
  // a: no GPUs; b: 3 H100s of which 2 healthy; c: 2 A100s.
  std::vector<json> nodes = {node("a"), gpu_node("b", "H100", 3, 2), gpu_node("c", "A100", 2, 2)};
  auto j = job(gpu_job(5, "[{name: nvidia/gpu, count: 1}]"));
  PlacementMetrics last;
  auto per_node = place_all(j, nodes, last);
  EXPECT_EQ(per_node, (std::map<std::string, int>{{"b", 2}, {"c", 2}}));
  // The fifth finds none: a has no GPU at all, b and c have theirs in use.
  EXPECT_EQ(last.constraint_filtered["missing devices"], 1);
  EXPECT_EQ(last.dimension_exhausted["devices"], 2);
}

TEST(Placement, ADeviceRequestIsMetByOneModelWithItsConstraints) {
  std::vector<json> nodes = {gpu_node("b", "H100", 2, 2, 80), gpu_node("c", "A100", 4, 4, 40)};
  // Two per alloc, at least 60 GiB each: only b's H100s; one alloc fits there.
  auto j = job(gpu_job(2,
                       "[{name: nvidia/gpu, count: 2, constraints: [{attribute: "
                       "\"${device.attr.memory}\", operator: \">=\", value: \"60 GiB\"}]}]"));
  PlacementMetrics last;
  EXPECT_EQ(place_all(j, nodes, last), (std::map<std::string, int>{{"b", 1}}));
  // By model name.
  auto a100 = job(gpu_job(3, "[{name: nvidia/gpu/A100, count: 1}]"));
  EXPECT_EQ(place_all(a100, nodes, last), (std::map<std::string, int>{{"c", 3}}));
}

// A device request's affinities (Nomad's device affinity): among the groups that could meet
// it, the one they score highest is taken, and the node with it ranks higher by Nomad's
// "devices" score (matched weight over all weight).
TEST(Placement, ADeviceAffinityDrawsTheAllocToTheGroupItPrefersAndScoresAsDevices) {
  std::vector<json> nodes = {gpu_node("b", "H100", 2, 2, 80), gpu_node("c", "A100", 2, 2, 40)};
  // Without one, b and c tie and the lower id wins.
  auto plain = job(gpu_job(1, "[{name: nvidia/gpu, count: 1}]"));
  PlacementMetrics m;
  auto c = choose_node(plain, 0, ptrs(nodes), {}, ask_of(plain.groups[0]), RankOptions{}, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "b");
  EXPECT_FALSE(m.scores.at("b").scores.count("devices")) << "no device affinity, no score";
  // Preferring less than 60 GiB of memory: c's A100s.
  auto small = job(gpu_job(1,
                           "[{name: nvidia/gpu, count: 1, affinities: [{attribute: "
                           "\"${device.attr.memory}\", operator: \"<\", value: \"60 GiB\", "
                           "weight: 80}]}]"));
  m = PlacementMetrics{};
  c = choose_node(small, 0, ptrs(nodes), {}, ask_of(small.groups[0]), RankOptions{}, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->node_id, "c");
  EXPECT_DOUBLE_EQ(m.scores.at("c").scores.at("devices"), 1.0);
  EXPECT_DOUBLE_EQ(m.scores.at("b").scores.at("devices"), 0.0);
  // Avoiding a model (a negative weight) on a node that has both: the other group is taken.
  json both = gpu_node("d", "H100", 2, 2, 80);
  json a100 = gpu_node("x", "A100", 2, 2, 40)["NodeResources"]["Devices"][0];
  both["NodeResources"]["Devices"].push_back(a100);
  auto avoid = job(gpu_job(1,
                           "[{name: nvidia/gpu, count: 1, affinities: [{attribute: "
                           "\"${device.model}\", value: H100, weight: -50}]}]"));
  std::vector<json> one = {both};
  m = PlacementMetrics{};
  c = choose_node(avoid, 0, ptrs(one), {}, ask_of(avoid.groups[0]), RankOptions{}, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(ask_to_json(ask_of(avoid.groups[0]), *c)["Devices"], (json{{"nvidia/gpu/A100", 1}}));
  EXPECT_DOUBLE_EQ(m.scores.at("d").scores.at("devices"), 0.0) << "-50 avoided: 0 of 50";
  // With the A100s taken, the H100s still serve: an affinity prefers, it never refuses.
  std::map<std::string, NodeUsage> usage;
  usage["d"].add("default/other", "g", json{{"Devices", {{"nvidia/gpu/A100", 2}}}});
  m = PlacementMetrics{};
  c = choose_node(avoid, 0, ptrs(one), usage, ask_of(avoid.groups[0]), RankOptions{}, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(ask_to_json(ask_of(avoid.groups[0]), *c)["Devices"], (json{{"nvidia/gpu/H100", 1}}));
  EXPECT_DOUBLE_EQ(m.scores.at("d").scores.at("devices"), -1.0);
}

TEST(Placement, ThePlacedAllocSaysWhichDeviceGroupItHolds) {
  std::vector<json> nodes = {gpu_node("b", "H100", 2, 2)};
  auto j = job(gpu_job(1, "[{name: gpu, count: 2}]"));
  PlacementMetrics m;
  auto c = choose_node(j, 0, ptrs(nodes), {}, ask_of(j.groups[0]), RankOptions{}, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(ask_to_json(ask_of(j.groups[0]), *c)["Devices"], (json{{"nvidia/gpu/H100", 2}}));
  // Stopped (taken off the node's usage), its GPUs are free again.
  NodeUsage u;
  u.add(Resident{"a1", "default/train", "g"}, ask_to_json(ask_of(j.groups[0]), *c));
  EXPECT_EQ(u.devices["nvidia/gpu/H100"], 2);
  u.remove("a1");
  EXPECT_TRUE(u.devices.empty());
}

TEST(Placement, ReservedCoresAreCountedAndTakeTheirShareOfTheCpu) {
  json n = node("a", 4000);
  n["Attributes"]["cpu.numcores"] = "4";
  n["NodeResources"]["Cpu"]["ReservableCpuCores"] = {0, 1, 2, 3};
  std::vector<json> nodes = {n};
  auto cores = [](int c) {
    return "job:\n  id: pin\n  type: service\n  groups:\n    - name: g\n      count: 3\n"
           "      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
           "            command: /bin/true\n          resources:\n            cores: " +
           std::to_string(c) + "\n            memory: 100\n";
  };
  PlacementMetrics last;
  // Two of three allocs of 2 cores fit on 4 cores; the third is exhausted on cores.
  auto j = job(cores(2));
  EXPECT_EQ(place_all(j, nodes, last), (std::map<std::string, int>{{"a", 2}}));
  EXPECT_EQ(last.dimension_exhausted["cores"], 1);
  // A core is 1000 MHz here: 1 core plus 3500 MHz of another alloc's does not fit.
  NodeUsage busy;
  busy.add("default/other", "g", json{{"Cpu", 3500}, {"MemoryMB", 0}});
  PlacementMetrics m;
  auto one = job(cores(1));
  EXPECT_FALSE(choose_node(one, 0, ptrs(nodes), {{"a", busy}}, ask_of(one.groups[0]), RankOptions{}, m));
  EXPECT_EQ(m.dimension_exhausted["cpu"], 1);
  // More cores than the node has at all: never.
  auto big = job(cores(8));
  EXPECT_FALSE(choose_node(big, 0, ptrs(nodes), {}, ask_of(big.groups[0]), RankOptions{}, m));
  EXPECT_EQ(m.constraint_filtered["cores"], 1);
}

TEST(Placement, AHigherPriorityJobPreemptsGpusAndPortsHeldByLowerOnes) {
  std::vector<json> nodes = {gpu_node("b", "H100", 2, 2)};
  NodeUsage used;
  auto holding = [](const std::string& id, int priority) {
    Resident r{id, "default/" + id, "g"};
    r.priority = priority;
    return r;
  };
  used.add(holding("low", 30), json{{"Cpu", 100}, {"MemoryMB", 100}, {"Devices", {{"nvidia/gpu/H100", 1}}}, {"StaticPorts", {8080}}});
  used.add(holding("near", 75), json{{"Cpu", 100}, {"MemoryMB", 100}, {"Devices", {{"nvidia/gpu/H100", 1}}}});
  RankOptions preempt;
  preempt.preempt = true;
  auto at = [](int priority, const std::string& yaml) {
    auto j = job(yaml);
    j.priority = priority;
    return j;
  };
  PlacementMetrics m;
  // One GPU at priority 80: the alloc at 30 goes; the one at 75 is within 10 and stays.
  auto one = at(80, gpu_job(1, "[{name: nvidia/gpu, count: 1}]"));
  auto c = choose_node(one, 0, ptrs(nodes), {{"b", used}}, ask_of(one.groups[0]), preempt, m);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->preempted, std::vector<std::string>{"low"});
  EXPECT_EQ(m.scores.at("b").scores.count("preemption"), 1u);
  // Two GPUs: only one can be freed, so none is.
  auto two = at(80, gpu_job(1, "[{name: nvidia/gpu, count: 2}]"));
  EXPECT_FALSE(choose_node(two, 0, ptrs(nodes), {{"b", used}}, ask_of(two.groups[0]), preempt, m));
  // Without preemption on for the job's type, nothing is evicted.
  EXPECT_FALSE(choose_node(one, 0, ptrs(nodes), {{"b", used}}, ask_of(one.groups[0]), RankOptions{}, m));
  // A static port: its holder at 30 goes for a job at 50.
  auto web = at(50, "job:\n  id: web\n  groups:\n    - name: g\n      network:\n        ports:\n"
                    "          http: {static: 8080}\n      tasks:\n        - name: t\n"
                    "          driver: raw_exec\n          config: {command: /bin/true}\n"
                    "          resources: {memory: 100}\n");
  auto p = choose_node(web, 0, ptrs(nodes), {{"b", used}}, ask_of(web.groups[0]), preempt, m);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->preempted, std::vector<std::string>{"low"});
}

TEST(Placement, ANodeWhoseDynamicPortRangeIsUsedUpTakesNoMoreAllocsWithDynamicPorts) {
  json n = node("a");
  n["NodeResources"]["MinDynamicPort"] = 20000;
  n["NodeResources"]["MaxDynamicPort"] = 20002;  // three ports
  std::vector<json> nodes = {n};
  auto j = job("job:\n  id: web\n  groups:\n    - name: g\n      count: 3\n      network:\n"
               "        ports:\n          http: {}\n          admin: {}\n      tasks:\n"
               "        - name: t\n          driver: raw_exec\n          config: {command: /bin/true}\n"
               "          resources: {memory: 100}\n");
  Ask ask = ask_of(j.groups[0]);
  EXPECT_EQ(ask.dynamic_ports, 2);
  std::map<std::string, NodeUsage> usage;
  PlacementMetrics m;
  auto first = choose_node(j, 0, ptrs(nodes), usage, ask, RankOptions{}, m);
  ASSERT_TRUE(first);
  usage["a"].add("default/web", "g", ask_to_json(ask, *first));
  EXPECT_EQ(usage["a"].dynamic_ports, 2);
  EXPECT_FALSE(choose_node(j, 0, ptrs(nodes), usage, ask, RankOptions{}, m));
  EXPECT_EQ(m.dimension_exhausted["network: dynamic port selection failed"], 1);
}

// A group in mode cni/<name> goes only to a node whose fingerprint lists that CNI network
// (docs/networking.md, "CNI networks"; Nomad's "missing network").
TEST(Placement, ACniGroupGoesOnlyToANodeThatHasTheNetwork) {
  auto in_mode = [](const std::string& mode) {
    return job("job:\n  id: c\n  groups:\n    - name: g\n      network: {mode: " + mode +
               "}\n      tasks:\n        - name: t\n          driver: raw_exec\n"
               "          config: {command: /bin/true}\n");
  };
  auto j = in_mode("cni/overlay");
  const Ask ask = ask_of(j.groups[0]);
  EXPECT_EQ(ask.network_mode, "cni/overlay");
  json without = node("a");
  without["NodeResources"]["Networks"] = {{{"Mode", "host"}}, {{"Mode", "cni/other"}}};
  EXPECT_EQ(check_node(j, 0, without, {}, ask).constraint, "missing network");
  json with = node("b");
  with["NodeResources"]["Networks"] = {{{"Mode", "host"}}, {{"Mode", "cni/overlay"}}};
  EXPECT_FALSE(check_node(j, 0, with, {}, ask).any());
  // A bridge group asks nothing of the node's networks.
  auto b = in_mode("bridge");
  EXPECT_FALSE(check_node(b, 0, without, {}, ask_of(b.groups[0])).any());
}

// A task whose cores must be on one NUMA node goes only to a node with a NUMA node that has
// that many reservable cores (docs/cgroups.md, "NUMA"); the agent picks which.
TEST(Placement, RequiredNumaCoresNeedANumaNodeThatLargeOfReservableCores) {
  auto j = job(
      "job:\n  id: n\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config: {command: /bin/true}\n"
      "          resources: {cores: 3, numa: {affinity: require}}\n");
  const Ask ask = ask_of(j.groups[0]);
  EXPECT_EQ(ask.numa_cores, 3);
  auto with_numa = [](json n, const std::vector<int>& reservable) {
    n["NodeResources"]["Cpu"]["ReservableCpuCores"] = reservable;
    n["Attributes"]["numa.node.count"] = "2";
    n["Attributes"]["numa.node0.cores"] = "0-3";
    n["Attributes"]["numa.node1.cores"] = "4-7";
    return n;
  };
  // Core 0 kept back by the operator: node 0 has 3 reservable, enough.
  EXPECT_FALSE(check_node(j, 0, with_numa(node("a"), {1, 2, 3, 4, 5}), {}, ask).any());
  // Two reservable on each NUMA node: 4 cores in all, but never 3 on one.
  EXPECT_EQ(check_node(j, 0, with_numa(node("b"), {2, 3, 6, 7}), {}, ask).constraint,
            "numa: cores on one NUMA node");
}
