// Tasks outlive the agent: SIGKILL the agent, start it again on the same data dir, and every
// task is found again (same process, no restart, logs without gap or repeat), and what
// happened while it was away (an exit, its code) is reported and acted on.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::monitor_pid;
using drover::testing::proc_stat;
using drover::testing::process_alive;
using drover::testing::ProcStat;
using nlohmann::json;

namespace {

std::string counter_job(int count) {
  return "job:\n  id: counters\n  type: service\n  groups:\n    - name: g\n      count: " +
         std::to_string(count) +
         "\n      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          resources: {cpu: 10, memory: 10}\n          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo pid $$; i=0; while true; do echo $i; i=$((i+1)); sleep 0.01; done\"]\n";
}

std::string logs(const AgentProcess& a, const std::string& id) {
  return a.get("/v1/client/fs/logs/" + id + "?task=t").body;
}

size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

pid_t task_pid(const std::string& log) {
  if (log.rfind("pid ", 0) != 0) return -1;
  return std::stoi(log.substr(4, log.find('\n') - 4));
}

int count_events(const json& state, const std::string& type) {
  int n = 0;
  for (const auto& e : state["Events"]) n += e["Type"] == type;
  return n;
}

}  // namespace

TEST(Recovery, TwentyTasksOutliveAnAgentKillWithSamePidsNoRestartAndNoLogGap) {
  auto dir = make_temp_dir("drover-recover");
  std::vector<std::string> ids;
  std::map<std::string, pid_t> pids;
  std::map<std::string, size_t> lines_at_kill;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    ids = agent->submit(counter_job(20));
    ASSERT_EQ(ids.size(), 20u);
    for (const auto& id : ids) agent->wait_client_status(id, "running");
    for (const auto& id : ids) {
      for (int i = 0; i < 1000 && task_pid(logs(*agent, id)) <= 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pids[id] = task_pid(logs(*agent, id));
      ASSERT_GT(pids[id], 0);
    }
    agent->kill(SIGKILL);
    for (const auto& id : ids)
      lines_at_kill[id] =
          lines(drover::testing::read_file(dir + "/alloc/" + id + "/alloc/logs/t.stdout.0"));
  }
  // The tasks run on, and keep logging, while no agent is there.
  for (const auto& [id, pid] : pids) {
    const std::string file = dir + "/alloc/" + id + "/alloc/logs/t.stdout.0";
    EXPECT_TRUE(
        eventually([&] { return lines(drover::testing::read_file(file)) >= lines_at_kill[id] + 5; },
                   std::chrono::seconds(20)))
        << id << ": the log stopped growing without an agent";
    EXPECT_TRUE(process_alive(pid)) << id;
  }
  auto agent = AgentProcess::start({.data_dir = dir});
  for (const auto& id : ids) agent->wait_client_status(id, "running");
  // Time for a wrong restart to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const auto& id : ids) {
    auto a = agent->alloc(id);
    EXPECT_EQ(a["ClientStatus"], "running") << a.dump(2);
    EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 0);
    EXPECT_EQ(count_events(a["TaskStates"]["t"], "Started"), 1) << a.dump(2);
    EXPECT_TRUE(process_alive(pids[id]));
  }
  ASSERT_EQ(agent->del("/v1/job/counters").status, 200);
  for (const auto& id : ids) agent->wait_client_status(id, "complete");
  for (const auto& id : ids) {
    auto out = logs(*agent, id);
    EXPECT_EQ(task_pid(out), pids[id]);
    std::istringstream in(out.substr(out.find('\n') + 1));
    int expect = 0;
    for (std::string line; std::getline(in, line); ++expect) {
      // The last line may be cut by the kill; every complete one is the next number.
      if (in.eof() && line.empty()) break;
      ASSERT_EQ(line, std::to_string(expect)) << "alloc " << id << ": gap or repeat in the log";
    }
    EXPECT_GE(expect, lines_at_kill[id] + 5)
        << "the log goes on past the agent's kill: " << out.substr(0, 200);
    EXPECT_FALSE(process_alive(pids[id]));
  }
}

TEST(Recovery, ExitWhileTheAgentIsAwayIsReportedWithItsRealExitCode) {
  auto dir = make_temp_dir("drover-away");
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(
        "job:\n  id: away\n  type: batch\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n"
        "      tasks:\n        - name: t\n          driver: raw_exec\n          resources: {memory: 10}\n"
        "          config:\n            command: /bin/sh\n            args: [\"-c\", \"sleep 0.5; exit 3\"]\n");
    id = ids[0];
    agent->wait_client_status(id, "running");
    agent->kill(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto agent = AgentProcess::start({.data_dir = dir});
  auto a = agent->wait_client_status(id, "failed");
  bool saw = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"]) saw |= e["Type"] == "Terminated" && e["ExitCode"] == 3;
  EXPECT_TRUE(saw) << a.dump(2);
}

TEST(Recovery, RestartPolicyActsOnAnExitThatHappenedWhileTheAgentWasAway) {
  auto dir = make_temp_dir("drover-away2");
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(
        "job:\n  id: again\n  type: batch\n  groups:\n    - name: g\n"
        "      restart: {attempts: 1, interval: 1m, delay: 100ms, mode: fail}\n"
        "      tasks:\n        - name: t\n          driver: raw_exec\n          resources: {memory: 10}\n"
        "          config:\n            command: /bin/sh\n"
        "            args: [\"-c\", \"echo run >> $NOMAD_ALLOC_DIR/data/runs; sleep 0.5; exit 1\"]\n");
    id = ids[0];
    agent->wait_client_status(id, "running");
    agent->kill(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto agent = AgentProcess::start({.data_dir = dir});
  auto a = agent->wait_client_status(id, "failed");
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 1) << a.dump(2);
  EXPECT_EQ(drover::testing::read_file(dir + "/alloc/" + id + "/alloc/data/runs"), "run\nrun\n");
}

TEST(Recovery, TaskWhoseMonitorVanishedIsReportedNotRestarted) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: lost\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          resources: {memory: 10}\n          config:\n"
      "            command: /bin/sh\n            args: [\"-c\", \"sleep 1000\"]\n");
  agent->wait_client_status(ids[0], "running");
  // The monitor and its task are killed behind the agent's back, exit record and all.
  pid_t monitor = monitor_pid(*agent, ids[0]);
  ASSERT_GT(monitor, 0);
  ::kill(monitor, SIGKILL);
  auto cg = drover::testing::task_cgroup_dir(agent->cgroup_parent(), "pids", ids[0] + ".t") +
            "/cgroup.procs";
  std::ifstream procs(cg);
  for (pid_t p; procs >> p;) ::kill(p, SIGKILL);
  auto a = agent->wait_client_status(ids[0], "failed");
  auto& t = a["TaskStates"]["t"];
  EXPECT_EQ(t["Restarts"], 0);
  EXPECT_EQ(count_events(t, "Driver Failure"), 1) << a.dump(2);
  EXPECT_EQ(count_events(t, "Started"), 1);
}


// The monitor stays the agent's child while the agent runs (no detach fork on the start path,
// monitored/monitor_reaper.hpp), in a session of its own so that a terminal's signals to the
// agent never reach it, and the agent waits for it when it ends: no zombie is left behind.
TEST(Recovery, AMonitorIsTheAgentsChildInItsOwnSessionAndIsReapedWhenItEnds) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: kin\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          resources: {memory: 10}\n"
      "          restart: {attempts: 0, mode: fail}\n          config:\n"
      "            command: /bin/sh\n            args: [\"-c\", \"sleep 1000\"]\n");
  agent->wait_client_status(ids[0], "running");
  const pid_t monitor = monitor_pid(*agent, ids[0]);
  ASSERT_GT(monitor, 0);
  auto st = proc_stat(monitor);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ppid, agent->pid());
  EXPECT_EQ(st->session, monitor);  // the leader of its own session
  const auto start = st->start;
  // Killed behind the agent's back: the agent is its parent, so only the agent can reap it.
  ::kill(monitor, SIGKILL);
  EXPECT_TRUE(eventually(
      [&] {
        auto now = proc_stat(monitor);
        return !now || now->start != start;  // gone, not a zombie (or the pid reused)
      },
      std::chrono::seconds(30)))
      << "the monitor is left a zombie: state " << proc_stat(monitor).value_or(ProcStat{}).state;
  agent->wait_client_status(ids[0], "failed");
}
