// Sticky dynamic host volumes in the leader's placement (docs/volumes.md): an alloc records
// the volume IDs it was placed with (HostVolumeIDs) and its replacement goes only where those
// volumes are, waiting for their node when it is gone; without sticky, anywhere the name is.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {


json with_volume(json node, const std::string& id) {
  node["HostVolumes"] = {{"data", {{"Name", "data"}, {"Path", "/v/" + id}, {"ReadOnly", false},
                                   {"ID", id}}}};
  return node;
}

std::map<std::string, json> allocs_of(const Plan& p) { return plan_allocs(p, kKeys.allocs()); }
void apply(ClusterState& st, const Plan& p) { apply_plan(st, p, kKeys); }

std::string volume_job(bool sticky) {
  return std::string("job:\n  id: db\n  groups:\n    - name: g\n      volumes:\n        data: "
                     "{type: host, source: data, sticky: ") +
         (sticky ? "true" : "false") +
         "}\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config: {command: /bin/true}\n";
}

// Places the job on one of nodes a and b (each with its own "data" volume), then takes that
// node away; returns the plan after, and the node it first went to.
Plan replaced_after_its_node_went(bool sticky, ClusterState& st, std::string& first) {
  st.nodes["a"] = with_volume(node("a"), "vol-a");
  st.nodes["b"] = with_volume(node("b"), "vol-b");
  st.jobs["default/db"] = record_of(job(volume_job(sticky)));
  auto plan = plan_cluster(st, kKeys, kNow);
  apply(st, plan);
  const json a = st.allocs.begin()->second.alloc;
  first = a["NodeID"];
  if (sticky) EXPECT_EQ(a["HostVolumeIDs"], json::array({"vol-" + first}));
  else EXPECT_FALSE(a.contains("HostVolumeIDs"));
  st.allocs.begin()->second.status = {{"ClientStatus", "running"}};
  const json gone = st.nodes.at(first);
  st.nodes.erase(first);
  plan = plan_cluster(st, kKeys, kNow + 1'000'000'000LL);
  st.nodes[first] = gone;  // for the caller to bring back
  return plan;
}

}  // namespace

TEST(StickyVolumes, TheReplacementWaitsForTheNodeWithItsVolume) {
  ClusterState st;
  std::string first;
  auto plan = replaced_after_its_node_went(true, st, first);
  EXPECT_EQ(plan.lost, 1);
  EXPECT_EQ(plan.placed, 0) << "the other node's volume is another volume";
  apply(st, plan);
  plan = plan_cluster(st, kKeys, kNow + 2'000'000'000LL);
  ASSERT_EQ(plan.placed, 1) << "its node is back";
  for (const auto& [id, a] : allocs_of(plan))
    if (a.value("DesiredStatus", "") == "run" && a.contains("PreviousAllocation")) {
      EXPECT_EQ(a["NodeID"], first);
      EXPECT_EQ(a["HostVolumeIDs"], json::array({"vol-" + first}));
    }
}

TEST(StickyVolumes, WithoutStickyTheReplacementGoesWhereverTheNameIs) {
  ClusterState st;
  std::string first;
  auto plan = replaced_after_its_node_went(false, st, first);
  EXPECT_EQ(plan.placed, 1);
  for (const auto& [id, a] : allocs_of(plan))
    if (a.value("DesiredStatus", "") == "run") {
      EXPECT_NE(a["NodeID"], first);
    }
}
