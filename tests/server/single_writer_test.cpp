// A host volume asked for with access_mode single-node-single-writer takes one writing alloc at
// a time on its node (docs/volumes.md, "Access modes"), as Nomad's hostVolumeIsAvailable: a
// second writer waits, blocked with the reason, until the first is stopped; readers share it.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "server/scheduler.hpp"

using namespace drover::server;
using namespace drover::server::testing;
using nlohmann::json;

namespace {


std::string volume_job(const std::string& id, int count, bool read_only) {
  return "job:\n  id: " + id + "\n  groups:\n    - name: g\n      count: " +
         std::to_string(count) +
         "\n      volumes:\n        data: {type: host, source: data, access_mode: "
         "single-node-single-writer, read_only: " +
         (read_only ? "true" : "false") +
         "}\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config: {command: /bin/true}\n          resources: {cpu: 100, memory: 64}\n";
}

ClusterState one_node_with_the_volume() {
  ClusterState st;
  json n = node("a");
  n["HostVolumes"] = {{"data",
                       {{"Name", "data"},
                        {"Path", "/v/data"},
                        {"ReadOnly", false},
                        {"ID", "vol-a"},
                        {"Capabilities", {{{"AccessMode", "single-node-single-writer"},
                                           {"AttachmentMode", "file-system"}}}}}}};
  st.nodes["a"] = n;
  return st;
}

json blocked_eval(const Plan& p, const std::string& job) {
  for (const auto& [k, v] : p.puts)
    if (k.rfind(kKeys.evals(), 0) == 0) {
      auto e = json::parse(v);
      if (e.value("JobID", "") == job && e.value("Status", "") == "blocked") return e;
    }
  return nullptr;
}

}  // namespace

TEST(SingleWriter, ASecondWriterWaitsBlockedWhileReadersShareTheVolume) {
  auto st = one_node_with_the_volume();
  st.jobs["default/writers"] = record_of(job(volume_job("writers", 2, false)));
  auto plan = plan_cluster(st, kKeys, kNow);
  EXPECT_EQ(plan.placed, 1) << "one writer at a time";
  const json e = blocked_eval(plan, "writers");
  ASSERT_TRUE(e.is_object());
  EXPECT_NE(e.value("StatusDescription", "").find("host volume \"data\" has its single writer"),
            std::string::npos)
      << e.dump();
  for (const auto& [id, a] : plan_allocs(plan, kKeys.allocs()))
    EXPECT_EQ(a["Resources"]["SingleWriterVolumes"], json::array({"data"}));
  apply_plan(st, plan, kKeys);

  // Readers of the same volume are placed beside the writer.
  st.jobs["default/readers"] = record_of(job(volume_job("readers", 2, true)));
  plan = plan_cluster(st, kKeys, kNow + 1);
  int readers = 0;
  for (const auto& [id, a] : plan_allocs(plan, kKeys.allocs()))
    if (a.value("JobID", "") == "readers") {
      ++readers;
      EXPECT_FALSE(a["Resources"].contains("SingleWriterVolumes"));
    }
  EXPECT_EQ(readers, 2);
}

TEST(SingleWriter, TheNextWriterIsPlacedOnceTheFirstIsStopped) {
  auto st = one_node_with_the_volume();
  st.jobs["default/first"] = record_of(job(volume_job("first", 1, false)));
  auto plan = plan_cluster(st, kKeys, kNow);
  ASSERT_EQ(plan.placed, 1);
  apply_plan(st, plan, kKeys);
  st.allocs.begin()->second.status = {{"ClientStatus", "running"}};
  st.jobs["default/second"] = record_of(job(volume_job("second", 1, false)));
  plan = plan_cluster(st, kKeys, kNow + 1);
  EXPECT_EQ(plan.placed, 0);
  apply_plan(st, plan, kKeys);

  // The first job stopped: the second is placed in the same pass as the stop.
  json stopped = record_of(job(volume_job("first", 1, false)));
  stopped["Stop"] = true;
  st.jobs["default/first"] = stopped;
  plan = plan_cluster(st, kKeys, kNow + 2);
  int placed = 0;
  for (const auto& [id, a] : plan_allocs(plan, kKeys.allocs()))
    if (a.value("JobID", "") == "second" && a.value("DesiredStatus", "run") == "run") ++placed;
  EXPECT_EQ(placed, 1);
}
