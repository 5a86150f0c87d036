// One job runs end to end: submit through the API and CLI, tasks run through the raw_exec
// plugin, status, events and logs are read back, and survive an agent restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::write_file;
using nlohmann::json;

namespace {

std::string batch_job(const std::string& id, const std::string& command, const std::string& args,
                      const std::string& extra = "") {
  return "job:\n  id: " + id +
         "\n  type: batch\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n"
         "      tasks:\n        - name: t\n          driver: raw_exec\n          config:\n"
         "            command: " + command + "\n            args: " + args + "\n" + extra;
}

std::string service_job(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: web\n      tasks:\n        - name: server\n"
         "          driver: raw_exec\n          kill_timeout: 2s\n          config:\n"
         "            command: /bin/sh\n"
         "            args: [\"-c\", \"echo up; while true; do sleep 0.1; done\"]\n";
}

const json& task_state(const json& alloc, const std::string& task) {
  return alloc["TaskStates"][task];
}

bool has_event(const json& state, const std::string& type) {
  for (const auto& e : state["Events"])
    if (e["Type"] == type) return true;
  return false;
}

}  // namespace

TEST(Foundation, BatchJobCompletesAndItsStdoutIsReadableThroughTheCli) {
  auto agent = AgentProcess::start();
  auto job = make_temp_dir("job") + "/hello.yaml";
  write_file(job, batch_job("hello", "/bin/echo", "[\"hello from drover\"]"));
  auto run = agent->cli({"job", "run", job});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto allocs = agent->get("/v1/job/hello/allocations").json();
  ASSERT_EQ(allocs.size(), 1u);
  std::string id = allocs[0]["ID"];
  auto a = agent->wait_client_status(id, "complete");
  EXPECT_EQ(task_state(a, "t")["State"], "dead");
  EXPECT_FALSE(task_state(a, "t")["Failed"].get<bool>());
  EXPECT_TRUE(has_event(task_state(a, "t"), "Started"));
  EXPECT_TRUE(has_event(task_state(a, "t"), "Terminated"));
  // An 8-character prefix is enough, as with Nomad's CLI.
  auto logs = agent->cli({"alloc", "logs", id.substr(0, 8), "t"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "hello from drover\n");
  auto status = agent->cli({"alloc", "status", id.substr(0, 8)});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("complete"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Terminated"), std::string::npos) << status.out;
  // Nomad's `status ID`: whatever the id (or a prefix) names, here a job and an alloc.
  auto of_job = agent->cli({"status", "hel"});
  EXPECT_NE(of_job.out.find("ID          = hello"), std::string::npos) << of_job.out << of_job.err;
  auto of_alloc = agent->cli({"status", id.substr(0, 8)});
  EXPECT_NE(of_alloc.out.find("ID                 = " + id), std::string::npos) << of_alloc.out;
  EXPECT_NE(of_alloc.out.find("Terminated"), std::string::npos) << of_alloc.out;
  auto none = agent->cli({"status", "zzzz"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("No job, allocation, node"), std::string::npos) << none.err;
}

// `agent-info` (Nomad's): the node, its allocs and the process, from the agent's own
// /v1/agent/self; `ui -show-url` points at the alloc's page.
TEST(Foundation, AgentInfoShowsTheNodeItsAllocsAndTheProcess) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(batch_job("info", "/bin/true", "[]"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  const std::string node_id = agent->get("/v1/node").json().value("ID", "");
  auto info = agent->cli({"agent-info"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const std::string& line : std::vector<std::string>{"client\n", "  node_id = " + node_id + "\n", "  num_allocations = 1\n",
                                  "  num_live_allocations = 0\n", "nomad\n", "  server = false\n",
                                  "runtime\n", "  kernel.name = linux\n"})
    EXPECT_NE(info.out.find(line), std::string::npos) << "want " << line << " in:\n" << info.out;
  auto self = agent->get("/v1/agent/self").json();
  EXPECT_EQ(self["config"]["Server"]["Enabled"], false);
  EXPECT_EQ(self["config"]["Client"]["Enabled"], true);
  EXPECT_GT(std::stoll(self["stats"]["runtime"].value("threads", "0")), 1) << self.dump(2);
  EXPECT_GT(std::stoll(self["stats"]["runtime"].value("rss_bytes", "0")), 1 << 20) << self.dump(2);
  auto ui = agent->cli({"ui", "-show-url", ids[0].substr(0, 8)});
  EXPECT_EQ(ui.out, "URL for web UI: " + agent->address() + "/ui/#/alloc/" + ids[0] + "\n") << ui.err;
}

TEST(Foundation, FailingCommandGivesFailedAllocWithExitCodeInEvents) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(batch_job("fails", "/bin/sh", "[\"-c\", \"echo oops >&2; exit 3\"]"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "failed");
  auto& t = task_state(a, "t");
  EXPECT_TRUE(t["Failed"].get<bool>());
  bool saw_exit_3 = false;
  for (const auto& e : t["Events"])
    if (e["Type"] == "Terminated" && e["ExitCode"] == 3) saw_exit_3 = true;
  EXPECT_TRUE(saw_exit_3) << a.dump(2);
  EXPECT_TRUE(has_event(t, "Not Restarting")) << a.dump(2);
  auto err = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t&type=stderr");
  EXPECT_EQ(err.body, "oops\n");
}

TEST(Foundation, ServiceJobRunsUntilJobStop) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(service_job("web"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(agent->alloc(ids[0])["ClientStatus"], "running");
  EXPECT_EQ(agent->get("/v1/job/web").json()["Status"], "running");
  auto stop = agent->cli({"job", "stop", "web"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(a["DesiredStatus"], "stop");
  EXPECT_TRUE(has_event(task_state(a, "server"), "Killing"));
  EXPECT_TRUE(has_event(task_state(a, "server"), "Killed"));
  EXPECT_EQ(agent->get("/v1/job/web").json()["Status"], "dead");
}

TEST(Foundation, CountGivesThatManyAllocsEachWithItsIndex) {
  auto agent = AgentProcess::start();
  std::string job =
      "job:\n  id: many\n  type: batch\n  groups:\n    - name: g\n      count: 3\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          config:\n"
      "            command: /bin/sh\n            args: [\"-c\", \"echo $NOMAD_ALLOC_INDEX\"]\n";
  auto ids = agent->submit(job);
  ASSERT_EQ(ids.size(), 3u);
  std::set<std::string> seen;
  for (const auto& id : ids) {
    agent->wait_client_status(id, "complete");
    seen.insert(agent->get("/v1/client/fs/logs/" + id + "?task=t").body);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"0\n", "1\n", "2\n"}));
}

TEST(Foundation, AllocListCanLeaveOutTaskStatesAsNomadsDoes) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(batch_job("list", "/bin/true", "[]"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  auto full = agent->get("/v1/allocations").json();
  ASSERT_EQ(full.size(), 1u);
  EXPECT_TRUE(has_event(task_state(full[0], "t"), "Terminated")) << full.dump();
  auto lean = agent->get("/v1/allocations?task_states=false").json();
  ASSERT_EQ(lean.size(), 1u);
  EXPECT_EQ(lean[0]["ID"], ids[0]);
  EXPECT_EQ(lean[0]["ClientStatus"], "complete");
  EXPECT_FALSE(lean[0].contains("TaskStates")) << lean.dump();
  EXPECT_FALSE(lean[0].contains("Job")) << lean.dump();
}

TEST(Foundation, AgentRaisesItsOpenFilesLimitForThousandsOfTasks) {
  // Each running task holds a descriptor in the agent: a soft limit of 1024 (the default
  // outside systemd) would cap the node near 1000 tasks.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max <= 1024) GTEST_SKIP() << "hard open files limit is only " << saved.rlim_max;
  rlimit low = saved;
  low.rlim_cur = 1024;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  auto agent = AgentProcess::start();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  std::ifstream limits("/proc/" + std::to_string(agent->pid()) + "/limits");
  std::string line, soft;
  while (std::getline(limits, line))
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream in(line.substr(14));
      in >> soft;
    }
  EXPECT_EQ(soft, std::to_string(saved.rlim_max));
}

TEST(Foundation, RestartedAgentStillListsFinishedAllocsWithTheirLogs) {
  auto dir = make_temp_dir("drover-keep");
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(batch_job("kept", "/bin/echo", "[\"still here\"]"));
    ASSERT_EQ(ids.size(), 1u);
    id = ids[0];
    agent->wait_client_status(id, "complete");
    agent->kill(SIGTERM);
  }
  auto agent = AgentProcess::start({.data_dir = dir});
  auto list = agent->cli({"alloc", "status"});
  EXPECT_NE(list.out.find(id.substr(0, 8)), std::string::npos) << list.out;
  auto a = agent->alloc(id);
  EXPECT_EQ(a["ClientStatus"], "complete");
  EXPECT_EQ(agent->cli({"alloc", "logs", id, "t"}).out, "still here\n");
  EXPECT_EQ(agent->get("/v1/jobs").json().size(), 1u);
}

TEST(Foundation, TaskSeesNomadRuntimeEnvAndInterpolatedArgs) {
  auto agent = AgentProcess::start();
  std::string job =
      "job:\n  id: envy\n  type: batch\n  meta: {team: infra}\n  groups:\n    - name: g\n"
      "      tasks:\n        - name: t\n          driver: raw_exec\n"
      "          env: {GREETING: \"hi ${NOMAD_TASK_NAME}\"}\n"
      "          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"echo $GREETING; echo ${NOMAD_JOB_ID}; echo $NOMAD_META_team; "
      "echo $NOMAD_ALLOC_ID; test -d $NOMAD_TASK_DIR && test -d $NOMAD_ALLOC_DIR/logs && echo dirs\"]\n";
  auto ids = agent->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete");
  auto out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  EXPECT_EQ(out, "hi t\nenvy\ninfra\n" + ids[0] + "\ndirs\n");
}

TEST(Foundation, LogsFollowStreamsUntilTheTaskEnds) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(batch_job(
      "ticker", "/bin/sh", "[\"-c\", \"for i in 1 2 3; do echo $i; sleep 0.3; done\"]"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  auto follow = agent->cli({"alloc", "logs", "-f", ids[0], "t"});
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "1\n2\n3\n");
}

TEST(Foundation, LogsRotateAndTheApiReadsAcrossTheRetainedFiles) {
  auto agent = AgentProcess::start();
  // 8 MB of numbered lines with 1 MB files, 3 kept: the API serves the retained tail in order.
  std::string job =
      "job:\n  id: loud\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          logs: {max_files: 3, max_file_size: 1}\n"
      "          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"seq 1 1000000\"]\n";
  auto ids = agent->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(agent->data_dir() + "/alloc/" + ids[0] + "/alloc/logs")) {
    if (e.path().filename().string().rfind("t.stdout.", 0) != 0) continue;
    ++files;
    EXPECT_LE(e.file_size(), 1u << 20) << e.path();
  }
  EXPECT_EQ(files, 3);
  auto out = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.substr(out.size() - 8), "1000000\n");
  // Complete lines from the first retained one on, each the next number.
  std::istringstream in(out.substr(out.find('\n') + 1));
  std::string line;
  std::getline(in, line);
  long prev = std::stol(line);
  long count = 1;
  while (std::getline(in, line)) {
    ASSERT_EQ(std::stol(line), prev + 1);
    prev = std::stol(line);
    ++count;
  }
  EXPECT_GT(count, 200000);
  // origin=end with an offset gives the last bytes.
  EXPECT_EQ(agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t&origin=end&offset=8").body, "1000000\n");
}

TEST(Foundation, NodeFingerprintStaysFreshAndRecordsEvents) {
  auto agent = AgentProcess::start({.config_yaml = "fingerprint_period: 200ms\n"});
  auto node = agent->get("/v1/node").json();
  for (auto key : {"cpu.arch", "cpu.numcores", "cpu.totalcompute", "memory.totalbytes", "kernel.version",
                   "os.name", "unique.hostname", "unique.storage.bytesfree", "os.cgroups.version",
                   "numa.node.count", "driver.raw_exec"})
    EXPECT_TRUE(node["Attributes"].contains(key)) << key << "\n" << node["Attributes"].dump(2);
  ASSERT_FALSE(node["Events"].empty());
  EXPECT_EQ(node["Events"][0]["Message"], "Node registered");
  auto first = node["Drivers"]["raw_exec"]["UpdateTime"].get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_NE(agent->get("/v1/node").json()["Drivers"]["raw_exec"]["UpdateTime"].get<std::string>(), first)
      << "driver health was not re-checked";
}
