// A job's submitted source through the real agent and CLI (docs/ui.md): `job run file.hcl`
// keeps the file with its -var values, GET /v1/job/:id/submission gives them back, a YAML
// job and a purged one have none. `job start` runs a stopped job again.
#include <gtest/gtest.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;

TEST(Submission, JobRunOfAnHclFileKeepsItsTextAndVariablesForTheJobPage) {
  auto agent = AgentProcess::start();
  const std::string hcl = R"(variable "message" {
  type = string
}

job "sourced" {
  type = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/echo"
        args    = [var.message]
      }
    }
  }
}
)";
  auto dir = drover::testing::make_temp_dir("drover-submission");
  drover::testing::write_file(dir + "/sourced.hcl", hcl);
  auto run = agent->cli({"job", "run", "-detach", "-var", "message=hi", dir + "/sourced.hcl"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto sub = agent->get("/v1/job/sourced/submission");
  ASSERT_EQ(sub.status, 200) << sub.body;
  EXPECT_EQ(sub.json().value("Source", ""), hcl);
  EXPECT_EQ(sub.json().value("Format", ""), "hcl2");
  EXPECT_EQ(sub.json()["VariableFlags"], json({{"message", "hi"}}));
  EXPECT_EQ(sub.json().value("JobID", ""), "sourced");

  agent->submit("job:\n  id: plain\n  type: batch\n  groups:\n    - name: g\n"
                            "      tasks:\n        - name: t\n          driver: raw_exec\n"
                            "          config: {command: /bin/true}\n");
  EXPECT_EQ(agent->get("/v1/job/plain/submission").status, 404) << "YAML keeps no source";
  EXPECT_EQ(agent->del("/v1/job/sourced?purge=true").status, 200);
  EXPECT_EQ(agent->get("/v1/job/sourced/submission").status, 404);
}

TEST(JobStart, AStoppedJobRunsAgainOnAnAgentAndARunningOneIsRefused) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: again\n  type: service\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
      "          config: {command: /bin/sleep, args: [\"300\"]}\n");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  auto refused = agent->cli({"job", "start", "again"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("job \"again\" has not been stopped"), std::string::npos)
      << refused.err;
  ASSERT_EQ(agent->cli({"job", "stop", "again"}).exit_code, 0);
  agent->wait_client_status(ids[0], "complete");
  auto started = agent->cli({"job", "start", "again"});
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  EXPECT_NE(started.out.find("==> Job \"again\" submitted"), std::string::npos) << started.out;
  EXPECT_FALSE(agent->get("/v1/job/again").json().value("Stop", true));
  std::string fresh;
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        for (const auto& a : agent->get("/v1/job/again/allocations").json())
          if (a.value("ID", "") != ids[0] && a.value("ClientStatus", "") == "running")
            fresh = a.value("ID", "");
        return !fresh.empty();
      },
      std::chrono::seconds(20)))
      << agent->get("/v1/job/again/allocations").body;
  agent->del("/v1/job/again?purge=true");
  auto gone = agent->cli({"job", "start", "again"});
  EXPECT_EQ(gone.exit_code, 1);
}
