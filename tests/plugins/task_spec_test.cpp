// The task contract between the agent and every driver (drover/sdk/task_spec.hpp): what the
// agent writes reads back the same, and a malformed task is refused naming its key before a
// driver sees it, the same way for every driver.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drover/sdk/task_spec.hpp"

using drover::sdk::task_spec_from_json;
using drover::sdk::TaskSpec;
using ::testing::HasSubstr;
using json = nlohmann::json;

namespace {

TaskSpec full_spec() {
  TaskSpec t;
  t.alloc_id = "a1";
  t.job_id = "web";
  t.group_name = "g";
  t.task_name = "server";
  t.user = "nobody";
  t.config = {{"command", "/bin/echo"}, {"args", {"hi"}}};
  t.env = {{"NOMAD_TASK_NAME", "server"}, {"EMPTY", ""}};
  t.alloc_dir = "/var/lib/drover/alloc/a1";
  t.task_dir = "/var/lib/drover/alloc/a1/server";
  t.stdout_path = "/x/server.stdout.0";
  t.stderr_path = "/x/server.stderr.0";
  t.resources = {500, 256, 512, 1, 64};
  t.cpuset = "0-1";
  t.kill_signal = "SIGINT";
  t.kill_timeout = std::chrono::milliseconds(2500);
  t.monitor_path = "/usr/lib/drover/drover-monitor";
  t.state_dir = "/var/lib/drover/tasks/a1/server";
  t.log_config = {3, 5, false};
  t.cgroup = drover::sdk::TaskCgroup{2, {"/sys/fs/cgroup/drover/a1.server/cgroup.procs"}, "drover/a1.server",
                                     "/drover/a1.server"};
  t.devices = {{"/dev/nvidia0", "/dev/nvidia0", "rw"}};
  t.mounts = {{"/usr/lib/libnvidia-ml.so.1", "/usr/lib/libnvidia-ml.so.1", true}};
  t.device_ids = {"GPU-1"};
  t.network_namespace = "/run/drover/netns/a1";
  t.network_labels = {{"docker_sandbox_container_id", "0123abcd"}};
  return t;
}

std::string refusal(const json& j) {
  try {
    task_spec_from_json(j);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST(TaskSpec, WhatTheAgentWritesEveryDriverReadsBackTheSame) {
  // The SDK stays C++17 for out-of-tree plugins: no defaulted ==, so compare what is written.
  TaskSpec t = full_spec();
  EXPECT_EQ(to_json(task_spec_from_json(to_json(t))), to_json(t));
  // Through text too, as it crosses the plugin ABI.
  TaskSpec back = task_spec_from_json(json::parse(to_json(t).dump()));
  EXPECT_EQ(to_json(back), to_json(t));
  EXPECT_EQ(back.kill_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(back.env.at("EMPTY"), "");
  ASSERT_TRUE(back.cgroup.has_value());
  EXPECT_EQ(back.cgroup->procs_files.size(), 1u);
  EXPECT_EQ(back.devices.at(0).permissions, "rw");
  EXPECT_TRUE(back.mounts.at(0).read_only);
  EXPECT_EQ(back.resources.memory_max_mb, 512);
  EXPECT_EQ(back.network_labels.at("docker_sandbox_container_id"), "0123abcd");
}

TEST(TaskSpec, MissingKeysTakeTheDocumentedDefaults) {
  TaskSpec t = task_spec_from_json(json::object());
  EXPECT_EQ(t.kill_signal, "SIGTERM");
  EXPECT_EQ(t.kill_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(t.log_config.max_files, 10);
  EXPECT_EQ(t.log_config.max_file_size_mb, 10);
  EXPECT_FALSE(t.cgroup.has_value());
  EXPECT_TRUE(t.config.is_object());
  // An empty KillSignal means the default too, not "no signal".
  EXPECT_EQ(task_spec_from_json({{"KillSignal", ""}}).kill_signal, "SIGTERM");
}

TEST(TaskSpec, KeysANewerAgentAddsAreIgnored) {
  EXPECT_EQ(task_spec_from_json({{"TaskName", "t"}, {"SomethingNew", {1, 2}}}).task_name, "t");
}

TEST(TaskSpec, LogRotationBelowOneFileIsRefusedNamingTheKey) {
  // raw_exec used to refuse MaxFiles 0 while exec silently raised it to 1.
  EXPECT_EQ(refusal({{"LogConfig", {{"MaxFiles", 0}}}}), "task LogConfig.MaxFiles: must be at least 1");
  EXPECT_EQ(refusal({{"LogConfig", {{"MaxFileSizeMB", -3}}}}),
            "task LogConfig.MaxFileSizeMB: must be at least 1");
}

TEST(TaskSpec, WrongTypesAreRefusedNamingTheKey) {
  EXPECT_EQ(refusal(json::array()), "task: must be a JSON object");
  EXPECT_EQ(refusal({{"LogConfig", 5}}), "task LogConfig: must be a JSON object");
  EXPECT_EQ(refusal({{"TaskDir", 7}}), "task TaskDir: must be a string");
  EXPECT_EQ(refusal({{"Config", "echo"}}), "task Config: must be an object");
  EXPECT_EQ(refusal({{"Resources", {{"MemoryMB", "300"}}}}), "task Resources.MemoryMB: must be an integer");
  EXPECT_EQ(refusal({{"Resources", {{"CPU", -1}}}}), "task Resources.CPU: must be at least 0");
  EXPECT_EQ(refusal({{"KillTimeoutMs", 1.5}}), "task KillTimeoutMs: must be an integer");
  EXPECT_EQ(refusal({{"Cgroup", {{"Version", 3}}}}), "task Cgroup.Version: must be 1 or 2");
  EXPECT_EQ(refusal({{"Cgroup", {{"ProcsFiles", {"a", 1}}}}}), "task Cgroup.ProcsFiles: must be a list of strings");
  EXPECT_EQ(refusal({{"Devices", {{{"HostPath", 1}}}}}), "task Devices[0].HostPath: must be a string");
  EXPECT_EQ(refusal({{"Mounts", {{{"ReadOnly", "yes"}}}}}), "task Mounts[0].ReadOnly: must be true or false");
  EXPECT_EQ(refusal({{"NetworkLabels", {{"id", 7}}}}), "task NetworkLabels.id: must be a string");
}

TEST(TaskSpec, EnvNamesAndValuesAProcessCannotCarryAreRefused) {
  EXPECT_THAT(refusal({{"Env", {{"A=B", "x"}}}}), HasSubstr("task Env: bad variable name \"A=B\""));
  EXPECT_THAT(refusal({{"Env", {{"", "x"}}}}), HasSubstr("task Env: bad variable name"));
  EXPECT_EQ(refusal({{"Env", {{"A", 1}}}}), "task Env.A: must be a string");
  EXPECT_EQ(refusal({{"Env", {{"A", std::string("x\0y", 3)}}}}), "task Env.A: must not contain NUL");
  EXPECT_EQ(refusal({{"TaskDir", std::string("/a\0b", 4)}}), "task TaskDir: must not contain NUL");
}

TEST(TaskSpec, RequiredNamesTheMissingField) {
  TaskSpec t;
  try {
    drover::sdk::required(t.state_dir, "StateDir");
    FAIL() << "accepted an empty StateDir";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "task StateDir: required");
  }
}
