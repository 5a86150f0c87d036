// The pure parts of launching children: what a periodic or dispatched child is, and the rules
// a dispatch request is checked against (jobspec/periodic_schedule.hpp, runner/dispatch.hpp).
#include <gtest/gtest.h>

#include "runner/dispatch.hpp"
#include "runner/periodic_launcher.hpp"

namespace drover::runner {
namespace {

jobspec::Job parent() {
  jobspec::Job j;
  j.id = j.name = "report";
  j.type = jobspec::JobType::Batch;
  j.meta = {{"format", "text"}, {"team", "ops"}};
  j.periodic = jobspec::Periodic{{"@daily"}, true, "UTC", true};
  j.parameterized = jobspec::Parameterized{"optional", {"customer"}, {"format"}};
  return j;
}

TEST(LaunchedChildren, APeriodicChildIsTheParentsCopyThatRuns) {
  auto p = parent();
  p.parameterized.reset();
  auto c = jobspec::periodic_child(p, 1700000000);
  EXPECT_EQ(c.id, "report/periodic-1700000000");
  EXPECT_EQ(c.name, c.id);
  EXPECT_EQ(c.parent_id, "report");
  EXPECT_FALSE(c.periodic);
  EXPECT_FALSE(jobspec::launches_children(c));
  EXPECT_EQ(c.groups, p.groups);
}

TEST(LaunchedChildren, ADispatchedChildCarriesPayloadAndMergedMeta) {
  auto c = dispatch_child(parent(), "bytes", {{"customer", "acme"}, {"format", "csv"}}, 1700000000,
                          "0a1b2c3d");
  EXPECT_EQ(c.id, "report/dispatch-1700000000-0a1b2c3d");
  EXPECT_EQ(c.parent_id, "report");
  EXPECT_TRUE(c.dispatched);
  EXPECT_EQ(c.payload, "bytes");
  EXPECT_EQ(c.meta, (std::map<std::string, std::string>{
                        {"customer", "acme"}, {"format", "csv"}, {"team", "ops"}}));
  // Periodic and parameterized: the dispatched child launches on the schedule (Nomad's rule).
  EXPECT_TRUE(c.periodic);
  EXPECT_TRUE(jobspec::launches_children(c));
  auto plain = parent();
  plain.periodic.reset();
  EXPECT_FALSE(jobspec::launches_children(dispatch_child(plain, "", {}, 1, "00000000")));
}

TEST(DispatchRules, EveryProblemIsNamed) {
  jobspec::Parameterized required{"required", {"customer", "region"}, {"format"}};
  auto p = dispatch_problems(required, "", {{"format", "csv"}, {"colour", "red"}});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], "Payload: is required (parameterized.payload is \"required\")");
  EXPECT_EQ(p[1], "Meta.customer: is required (parameterized.meta_required)");
  EXPECT_EQ(p[2], "Meta.region: is required (parameterized.meta_required)");
  EXPECT_EQ(p[3],
            "Meta.colour: this job does not take it (meta_required: [customer, region], "
            "meta_optional: [format])");
  jobspec::Parameterized forbidden{"forbidden", {}, {}};
  EXPECT_EQ(dispatch_problems(forbidden, "x", {}),
            std::vector<std::string>{
                "Payload: this job takes no payload (parameterized.payload is \"forbidden\")"});
  EXPECT_TRUE(dispatch_problems(forbidden, "", {}).empty());
  jobspec::Parameterized optional;
  EXPECT_TRUE(dispatch_problems(optional, std::string(kMaxDispatchPayloadBytes, 'x'), {}).empty());
  auto big = dispatch_problems(optional, std::string(kMaxDispatchPayloadBytes + 1, 'x'), {});
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0], "Payload: is 16385 bytes; the limit is 16384 (16 KiB, as in Nomad)");
}

}  // namespace
}  // namespace drover::runner
