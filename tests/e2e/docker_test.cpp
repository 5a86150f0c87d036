// docker tasks through the agent: the real docker.so, a real dockerd (the docker fixture
// starts one when none answers) and a local busybox image.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using nlohmann::json;

namespace {

std::string job(const std::string& id, const std::string& type, const std::string& args,
                const std::string& resources = "{memory: 64}") {
  return "job:\n  id: " + id + "\n  type: " + type +
         "\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n      tasks:\n"
         "        - name: t\n          driver: docker\n          kill_timeout: 2s\n"
         "          env: {GREETING: hello}\n          resources: " + resources + "\n"
         "          config:\n            image: drover-test/busybox:latest\n"
         "            network_mode: none\n            command: sh\n            args: " + args + "\n";
}

}  // namespace

TEST(DockerTasks, BatchContainerRunsWithEnvAndLogsAndItsExitCode) {
  auto agent = AgentProcess::start();
  auto ok = agent->submit(job("dok", "batch", "[\"-c\", \"echo $GREETING from $NOMAD_TASK_NAME\"]"));
  ASSERT_EQ(ok.size(), 1u);
  agent->wait_client_status(ok[0], "complete", std::chrono::seconds(60));
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + ok[0] + "?task=t").body, "hello from t\n");
  auto bad = agent->submit(job("dbad", "batch", "[\"-c\", \"exit 5\"]"));
  auto a = agent->wait_client_status(bad[0], "failed", std::chrono::seconds(60));
  bool saw = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"]) saw |= e["Type"] == "Terminated" && e["ExitCode"] == 5;
  EXPECT_TRUE(saw) << a.dump(2);
}

TEST(DockerTasks, ContainerSitsInsideTheTasksCgroupWithItsMemoryLimit) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("dmem", "service", "[\"-c\", \"sleep 1000\"]", "{memory: 48}"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running", std::chrono::seconds(60));
  auto dir = "/sys/fs/cgroup/memory/" + agent->cgroup_parent() + "/" + ids[0] + ".t";
  std::ifstream limit(dir + "/memory.limit_in_bytes");
  long long bytes = 0;
  limit >> bytes;
  EXPECT_EQ(bytes, 48LL << 20);
  bool nested = false;
  for (const auto& e : std::filesystem::directory_iterator(dir)) nested |= e.is_directory();
  EXPECT_TRUE(nested) << "the container's cgroup is not inside the task's";
  ASSERT_EQ(agent->del("/v1/job/dmem").status, 200);
  agent->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(DockerTasks, OomKillIsReported) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("doom", "batch", "[\"-c\", \"head -c 200m /dev/zero | tail\"]", "{memory: 32}"));
  auto a = agent->wait_client_status(ids[0], "failed", std::chrono::seconds(60));
  bool oom = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    oom |= e["Type"] == "Terminated" && e["Details"].value("oom_killed", "") == "true";
  EXPECT_TRUE(oom) << a.dump(2);
}

TEST(DockerTasks, PrivilegedIsRefusedBeforeAnythingRuns) {
  auto agent = AgentProcess::start();
  auto text = job("dpriv", "batch", "[\"-c\", \"true\"]");
  text += "            privileged: true\n";
  auto r = agent->post("/v1/jobs", text);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("allow_privileged"), std::string::npos) << r.body;
}

TEST(DockerTasks, RunningContainerSurvivesAnAgentKillAndIsNotRestarted) {
  auto dir = make_temp_dir("drover-docker");
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(job("dkeep", "service", "[\"-c\", \"i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done\"]"));
    id = ids[0];
    agent->wait_client_status(id, "running", std::chrono::seconds(60));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    agent->kill(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto agent = AgentProcess::start({.data_dir = dir});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto a = agent->alloc(id);
  EXPECT_EQ(a["ClientStatus"], "running") << a.dump(2);
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 0);
  // Every number once, in order: no gap across the agent's absence, no repeat.
  auto out = agent->get("/v1/client/fs/logs/" + id + "?task=t").body;
  std::istringstream in(out);
  int expect = 0;
  for (std::string line; std::getline(in, line); ++expect) ASSERT_EQ(line, std::to_string(expect)) << out;
  EXPECT_GT(expect, 10);
}
