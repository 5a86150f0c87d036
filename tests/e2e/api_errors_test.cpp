// Bad input gets a clear error naming the field, nothing runs, and the agent keeps answering.
#include <gtest/gtest.h>
#include <signal.h>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::write_file;

namespace {

std::string job_with_driver(const std::string& driver, const std::string& memory = "64") {
  return "job:\n  id: j\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
         "        - name: t\n          driver: " + driver + "\n          resources: {memory: " +
         memory + "}\n          config: {command: /bin/true}\n";
}

}  // namespace

TEST(ApiErrors, InvalidJobIsRefusedWithEveryProblemAndNothingRuns) {
  auto agent = AgentProcess::start();
  std::string job =
      "job:\n  id: bad\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          resources: {memory: 5}\n"
      "          config: {command: /bin/true}\n"
      "        - name: t\n          driver: raw_exec\n          config: {command: /bin/true}\n";
  auto r = agent->post("/v1/jobs", job);
  ASSERT_EQ(r.status, 400) << r.body;
  auto j = r.json();
  std::string all = j.dump();
  EXPECT_NE(all.find("groups[0].tasks[0].resources.memory"), std::string::npos) << all;
  EXPECT_NE(all.find("must be at least 10"), std::string::npos) << all;
  EXPECT_NE(all.find("duplicate"), std::string::npos) << all;
  EXPECT_TRUE(agent->get("/v1/allocations").json().empty());
  EXPECT_EQ(agent->get("/v1/job/bad").status, 404);
}

TEST(ApiErrors, UnknownDriverIsRefusedListingTheLoadedDrivers) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", job_with_driver("warp"));
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown driver"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("raw_exec"), std::string::npos) << r.body;
}

TEST(ApiErrors, BadDriverConfigIsRefusedNamingTheKey) {
  auto agent = AgentProcess::start();
  std::string job =
      "job:\n  id: j\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          config: {args: [\"x\"]}\n";
  auto r = agent->post("/v1/jobs", job);
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("groups[0].tasks[0].config.command"), std::string::npos) << r.body;
}

TEST(ApiErrors, RawExecIsRefusedWhenNotEnabled) {
  auto agent = AgentProcess::start({.dev = false});
  auto r = agent->post("/v1/jobs", job_with_driver("raw_exec"));
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("raw_exec"), std::string::npos);
  EXPECT_NE(r.body.find("enabled"), std::string::npos) << r.body;
  auto node = agent->get("/v1/node").json();
  EXPECT_FALSE(node["Drivers"]["raw_exec"]["Healthy"].get<bool>());
  EXPECT_FALSE(node["Attributes"].contains("driver.raw_exec"));
}

TEST(ApiErrors, MalformedYamlReportsLineAndColumn) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", "job:\n  id: x\n  groups: [\n");
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("line"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("column"), std::string::npos) << r.body;
}

TEST(ApiErrors, OversizedBodyGets413AndTheAgentKeepsAnswering) {
  auto agent = AgentProcess::start();
  auto r = agent->post("/v1/jobs", std::string(2 << 20, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(ApiErrors, UnknownIdsGet404WithAReason) {
  auto agent = AgentProcess::start();
  auto a = agent->get("/v1/allocation/ffffffff");
  EXPECT_EQ(a.status, 404);
  EXPECT_NE(a.json().value("error", "").find("not found"), std::string::npos);
  EXPECT_EQ(agent->get("/v1/job/nope").status, 404);
  EXPECT_EQ(agent->del("/v1/job/nope").status, 404);
  EXPECT_EQ(agent->get("/v1/nonsense").status, 404);
  EXPECT_EQ(agent->get("/v1/client/fs/logs/ffffffff?task=t").status, 404);
}

TEST(ApiErrors, LogsOnlyForTasksOfTheAlloc) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job_with_driver("raw_exec"));
  ASSERT_EQ(ids.size(), 1u);
  auto r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=../../../etc");
  EXPECT_EQ(r.status, 404);
  r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t&type=passwd");
  EXPECT_EQ(r.status, 400);
}

TEST(ApiErrors, SecondAgentOnTheSameDataDirRefusesNamingTheHolder) {
  auto dir = make_temp_dir("drover-lock");
  auto first = AgentProcess::start({.data_dir = dir});
  auto second = drover::testing::run_drover(
      {"agent", "-dev", "-data-dir", dir, "-port", std::to_string(first->port() + 1)},
      first->address());
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("in use by another drover agent (pid " + std::to_string(first->pid())),
            std::string::npos)
      << second.err;
  EXPECT_EQ(first->get("/v1/agent/health").status, 200);
}

TEST(ApiErrors, TasksDoNotInheritTheAgentsSecrets) {
  setenv("NOMAD_TOKEN", "agent-secret", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "agent-secret", 1);
  auto agent = AgentProcess::start();
  unsetenv("NOMAD_TOKEN");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  std::string job =
      "job:\n  id: env\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          config: {command: /usr/bin/env}\n";
  auto ids = agent->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  auto out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  EXPECT_EQ(out.find("agent-secret"), std::string::npos) << out;
  EXPECT_NE(out.find("NOMAD_ALLOC_ID="), std::string::npos) << out;
}

// Each kind of error has one status (api/json_reply.hpp, http_status): a task that is not
// running is a conflict, an unknown task is not found, an unknown signal is a bad request.
TEST(ApiErrors, ActionsOnTasksAnswerTheStatusOfTheErrorsKind) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: done\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          resources: {memory: 32}\n"
      "          config: {command: /bin/true}\n");
  agent->wait_client_status(ids[0], "complete");
  const std::string base = "/v1/client/allocation/" + ids[0];
  auto restart = agent->post(base + "/restart", R"({"TaskName": "t"})", "application/json");
  EXPECT_EQ(restart.status, 409) << restart.body;
  EXPECT_NE(restart.body.find("not running"), std::string::npos) << restart.body;
  auto unknown = agent->post(base + "/restart", R"({"TaskName": "nope"})", "application/json");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto sig = agent->post(base + "/signal", R"({"Task": "t", "Signal": "SIGFOO"})", "application/json");
  EXPECT_EQ(sig.status, 400) << sig.body;
  EXPECT_NE(sig.body.find("Signal"), std::string::npos) << sig.body;
}
