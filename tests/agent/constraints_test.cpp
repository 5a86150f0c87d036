// Job constraints judged on one node (runner/constraints.hpp): every target Nomad resolves,
// distinct_hosts and distinct_property counted over the allocs the job asks for, node pools,
// and the messages that name the constraint and this node's value.
#include "runner/constraints.hpp"

#include <gtest/gtest.h>

namespace drover::runner {
namespace {

using jobspec::Constraint;
using jobspec::Job;

NodeInfo node() {
  NodeInfo n;
  n.id = "node-uuid";
  n.name = "host1";
  n.datacenter = "dc2";
  n.node_class = "gpu-large";
  n.node_pool = "edge";
  n.attributes = {{"kernel.name", "linux"}, {"cpu.numcores", "8"}, {"driver.raw_exec", "true"}};
  n.meta = {{"rack", "r7"}};
  return n;
}

Job job_with(std::vector<Constraint> job_level, int count = 1,
             std::vector<Constraint> group_level = {}) {
  Job j;
  j.id = "x";
  jobspec::TaskGroup g;
  g.name = "g";
  g.count = count;
  g.placement.constraints = std::move(group_level);
  jobspec::Task t;
  t.name = "t";
  g.tasks.push_back(t);
  j.groups.push_back(g);
  j.placement.constraints = std::move(job_level);
  return j;
}

std::string lines(const std::vector<jobspec::Problem>& ps) {
  std::string out;
  for (const auto& p : ps) out += p.path + ": " + p.message + "\n";
  return out;
}

TEST(NodeConstraints, EveryNomadTargetResolves) {
  const NodeInfo n = node();
  EXPECT_EQ(resolve_target("${node.unique.id}", n), "node-uuid");
  EXPECT_EQ(resolve_target("${node.unique.name}", n), "host1");
  EXPECT_EQ(resolve_target("${node.datacenter}", n), "dc2");
  EXPECT_EQ(resolve_target("${node.class}", n), "gpu-large");
  EXPECT_EQ(resolve_target("${node.pool}", n), "edge");
  EXPECT_EQ(resolve_target("${attr.kernel.name}", n), "linux");
  EXPECT_EQ(resolve_target("${meta.rack}", n), "r7");
  EXPECT_EQ(resolve_target("literal", n), "literal");
  EXPECT_EQ(resolve_target("${attr.nope}", n), std::nullopt);
  EXPECT_EQ(resolve_target("${meta.nope}", n), std::nullopt);
  EXPECT_EQ(resolve_target("${env.HOME}", n), std::nullopt);
}

TEST(NodeConstraints, ConstraintsThatHoldGiveNoProblem) {
  auto ps = placement_problems(job_with({{"${attr.kernel.name}", "=", "linux"},
                                         {"${attr.cpu.numcores}", ">=", "4"},
                                         {"${node.class}", "regexp", "^gpu"},
                                         {"${meta.rack}", "set_contains_any", "r1,r7"},
                                         {"${meta.gpu}", "is_not_set", ""},
                                         {"${node.datacenter}", "!=", "dc1"},
                                         {"${attr.driver.raw_exec}", "=", "true"}}),
                               node());
  EXPECT_TRUE(ps.empty()) << lines(ps);
}

TEST(NodeConstraints, AFailedConstraintNamesItselfAndTheNodesValue) {
  auto ps = placement_problems(job_with({{"${attr.kernel.name}", "=", "windows"},
                                         {"${meta.gpu}", "is_set", ""},
                                         {"${node.class}", "=", "${meta.rack}"}}),
                               node());
  EXPECT_EQ(lines(ps),
            "constraints[0]: constraint \"${attr.kernel.name} = windows\" is not met: this "
            "node's ${attr.kernel.name} is \"linux\"\n"
            "constraints[1]: constraint \"${meta.gpu} is_set\" is not met: this node has no "
            "${meta.gpu}\n"
            "constraints[2]: constraint \"${node.class} = ${meta.rack}\" is not met: this "
            "node's ${node.class} is \"gpu-large\"; this node's ${meta.rack} is \"r7\"\n");
}

TEST(NodeConstraints, DistinctHostsAllowsOneAllocOnOneNode) {
  EXPECT_TRUE(placement_problems(job_with({}, 1, {{"", "distinct_hosts", ""}}), node()).empty());
  auto ps = placement_problems(job_with({}, 3, {{"", "distinct_hosts", ""}}), node());
  EXPECT_EQ(lines(ps),
            "groups[0].constraints[0]: constraint \"distinct_hosts\" is not met: the group asks "
            "for 3 allocs on distinct hosts, and this node is one host\n");
  // "false" turns it off, as in Nomad.
  EXPECT_TRUE(
      placement_problems(job_with({}, 3, {{"", "distinct_hosts", "false"}}), node()).empty());
  // One alloc a scheduler placed: its siblings are elsewhere.
  EXPECT_TRUE(placement_problems(job_with({{"", "distinct_hosts", ""}}, 3), node(), false).empty());
}

TEST(NodeConstraints, DistinctPropertyCountsAllocsPerValue) {
  EXPECT_TRUE(placement_problems(job_with({{"${meta.rack}", "distinct_property", "2"}}, 2), node())
                  .empty());
  auto ps = placement_problems(job_with({{"${meta.rack}", "distinct_property", ""}}, 2), node());
  EXPECT_EQ(lines(ps),
            "constraints[0]: constraint \"distinct_property ${meta.rack}\" is not met: at most 1 "
            "alloc per value of ${meta.rack}, and the job asks for 2, all on this node "
            "(${meta.rack} = \"r7\")\n");
  auto missing =
      placement_problems(job_with({{"${meta.row}", "distinct_property", ""}}, 1), node());
  EXPECT_EQ(lines(missing),
            "constraints[0]: constraint \"distinct_property ${meta.row}\" is not met: this node "
            "has no ${meta.row}\n");
}

TEST(NodeConstraints, NodePoolMustBeTheAgentsUnlessDefaultOrAll) {
  Job j = job_with({});
  for (const char* pool : {"default", "all", "edge"}) {
    j.node_pool = pool;
    EXPECT_TRUE(placement_problems(j, node()).empty()) << pool;
  }
  j.node_pool = "gpu";
  EXPECT_EQ(lines(placement_problems(j, node())),
            "node_pool: the job asks for node pool \"gpu\"; this node is in pool \"edge\"\n");
}

TEST(NodeConstraints, TheNodeIsReadFromItsNodeJson) {
  auto n = node_info_from_json({{"ID", "i"},
                                {"Name", "n"},
                                {"Datacenter", "d"},
                                {"NodeClass", "c"},
                                {"NodePool", "p"},
                                {"Attributes", {{"a", "1"}}},
                                {"Meta", {{"m", "2"}}}});
  EXPECT_EQ(resolve_target("${node.class}", n), "c");
  EXPECT_EQ(resolve_target("${node.pool}", n), "p");
  EXPECT_EQ(resolve_target("${attr.a}", n), "1");
  EXPECT_EQ(resolve_target("${meta.m}", n), "2");
}

}  // namespace
}  // namespace drover::runner
