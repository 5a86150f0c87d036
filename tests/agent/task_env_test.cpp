#include <gtest/gtest.h>

#include "runner/task_env.hpp"

using namespace drover;

TEST(TaskEnv, RuntimeVarsMetaAndInterpolation) {
  jobspec::Job job;
  job.id = "web";
  job.meta["team"] = "infra";
  jobspec::TaskGroup group;
  group.name = "g";
  jobspec::Task task;
  task.name = "t";
  task.resources.memory_mb = 256;
  task.env["URL"] = "http://${attr.unique.hostname}:${NOMAD_ALLOC_INDEX}/${unknown.thing}";
  runner::NodeInfo node{"node-id", "n1", "dc7", {{"unique.hostname", "box"}}, {}};
  runner::TaskEnvInput in{&job, &group, &task, "0123456789ab-cd", "web.g[2]", 2,
                          "/d/alloc", "/d/t/local", "/d/t/secrets", &node};
  runner::TaskEnv env(in);
  const auto& v = env.vars();
  EXPECT_EQ(v.at("NOMAD_JOB_ID"), "web");
  EXPECT_EQ(v.at("NOMAD_SHORT_ALLOC_ID"), "01234567");
  EXPECT_EQ(v.at("NOMAD_ALLOC_NAME"), "web.g[2]");
  EXPECT_EQ(v.at("NOMAD_MEMORY_LIMIT"), "256");
  EXPECT_EQ(v.at("NOMAD_DC"), "dc7");
  EXPECT_EQ(v.at("NOMAD_META_team"), "infra");
  EXPECT_EQ(v.at("URL"), "http://box:2/${unknown.thing}");
  auto cfg = env.interpolate(nlohmann::json{{"args", {"${NOMAD_TASK_NAME}", 3}}});
  EXPECT_EQ(cfg["args"][0], "t");
  EXPECT_EQ(cfg["args"][1], 3);
  EXPECT_EQ(v.count("HOME"), 0u);
}
