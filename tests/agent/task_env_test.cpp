#include <gtest/gtest.h>

#include "runner/task_env.hpp"

using namespace drover;

TEST(TaskEnv, RuntimeVarsMetaAndInterpolation) {
  jobspec::Job job;
  job.id = "web";
  job.namespace_name = "prod";
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
  EXPECT_EQ(v.at("NOMAD_NAMESPACE"), "prod");  // the job's
  EXPECT_EQ(v.at("URL"), "http://box:2/${unknown.thing}");
  auto cfg = env.interpolate(nlohmann::json{{"args", {"${NOMAD_TASK_NAME}", 3}}});
  EXPECT_EQ(cfg["args"][0], "t");
  EXPECT_EQ(cfg["args"][1], 3);
  EXPECT_EQ(v.count("HOME"), 0u);
}

TEST(TaskEnv, PortVariablesFollowNomadsRulesAndInterpolate) {
  jobspec::Job job;
  job.id = "web";
  jobspec::TaskGroup group;
  group.name = "g";
  jobspec::Task task;
  task.name = "t";
  task.env["LISTEN"] = "${NOMAD_ADDR_http}";
  std::vector<state::AllocatedNetwork> nets(3);
  nets[0].ports = {{"http", 24000, 0, "10.0.0.5", "", false},
                   {"my-app", 24001, 8080, "10.0.0.5", "", false}};
  nets[1].task = "t";  // this task's older task-level port
  nets[1].ports = {{"db", 6379, 0, "10.0.0.5", "", true}};
  nets[2].task = "other";  // another task's: seen under its task name only
  nets[2].ports = {{"metrics", 24002, 0, "10.0.0.5", "", false}};
  runner::TaskEnvInput in{&job, &group, &task, "0123456789ab-cd", "web.g[0]", 0,
                          "/d/alloc", "/d/t/local", "/d/t/secrets", nullptr, &nets};
  runner::TaskEnv env(in);
  const auto& v = env.vars();
  EXPECT_EQ(v.at("NOMAD_PORT_http"), "24000");
  EXPECT_EQ(v.at("NOMAD_HOST_PORT_http"), "24000");
  EXPECT_EQ(v.at("NOMAD_IP_http"), "10.0.0.5");
  EXPECT_EQ(v.at("NOMAD_ADDR_http"), "10.0.0.5:24000");
  EXPECT_EQ(v.at("NOMAD_HOST_IP_http"), "10.0.0.5");
  EXPECT_EQ(v.at("NOMAD_HOST_ADDR_http"), "10.0.0.5:24000");
  EXPECT_EQ(v.at("NOMAD_ALLOC_PORT_http"), "24000");
  // `to` is the port inside the task; the host side stays the allocated one. Only Nomad's
  // cleaned prefixes turn '-' into '_'.
  EXPECT_EQ(v.at("NOMAD_PORT_my_app"), "8080");
  EXPECT_EQ(v.at("NOMAD_ALLOC_PORT_my-app"), "8080");
  EXPECT_EQ(v.at("NOMAD_HOST_PORT_my_app"), "24001");
  EXPECT_EQ(v.at("NOMAD_HOST_ADDR_my-app"), "10.0.0.5:24001");
  EXPECT_EQ(v.count("NOMAD_PORT_my-app"), 0u);
  EXPECT_EQ(v.at("NOMAD_ADDR_db"), "10.0.0.5:6379");
  EXPECT_EQ(v.at("NOMAD_ADDR_other_metrics"), "10.0.0.5:24002");
  EXPECT_EQ(v.count("NOMAD_PORT_metrics"), 0u);
  EXPECT_EQ(v.at("LISTEN"), "10.0.0.5:24000");
  auto cfg = env.interpolate(nlohmann::json{{"args", {"-p", "${NOMAD_PORT_http}"}}});
  EXPECT_EQ(cfg["args"][1], "24000");
}

// What hooks interpolate (artifact sources, template paths, volume_mount destinations): the
// start request's env first (a hook's NOMAD_TOKEN, the job's own variables by name), then the
// node's attributes and meta.
TEST(TaskEnv, HooksInterpolateTheStartEnvFirstThenTheNode) {
  jobspec::Job job;
  job.id = "web";
  jobspec::TaskGroup group;
  group.name = "g";
  jobspec::Task task;
  task.name = "t";
  runner::NodeInfo node{"node-id", "n1", "dc7", {{"cpu.arch", "amd64"}}, {{"rack", "r1"}}};
  runner::TaskEnvInput in{&job, &group, &task, "0123456789ab-cd", "web.g[0]", 0,
                          "/d/alloc", "/d/t/local", "/d/t/secrets", &node};
  runner::TaskEnv env(in);
  const std::map<std::string, std::string> start_env{{"NOMAD_TOKEN", "tok"}, {"VERSION", "1.2"}};
  EXPECT_EQ(env.interpolate("https://x/app-${VERSION}-${attr.cpu.arch}?r=${meta.rack}&t=${NOMAD_TOKEN}",
                            start_env),
            "https://x/app-1.2-amd64?r=r1&t=tok");
  // Without it, only the runtime variables and the node's.
  EXPECT_EQ(env.interpolate(std::string("${VERSION}/${NOMAD_JOB_ID}")), "${VERSION}/web");
}
