// Spare monitors (monitor/README.md, "Spares"; drivers/monitored/monitor_spare.hpp): once a
// task has started, the agent keeps one drover-monitor waiting, and the next start takes it
// instead of spawning a monitor of its own. What an operator would see: one idle
// `drover-monitor --spare` per driver, the agent's child in a session of its own, holding
// nothing of the agent; the next task's monitor is that process; a spare killed behind the
// agent's back is reaped and costs nothing but a cold start; and none outlives the agent.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "agent_process.hpp"

namespace fs = std::filesystem;
using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::monitor_pid;
using drover::testing::proc_stat;
using drover::testing::process_alive;
using drover::testing::read_file;

namespace {

std::string sleeper(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          resources: {memory: 10}\n"
         "          config:\n            command: /bin/sleep\n            args: [\"1000\"]\n";
}

// The agent's children that are waiting spares.
std::vector<pid_t> spares_of(pid_t agent) {
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    const auto cmd = read_file("/proc/" + name + "/cmdline");
    const auto st = proc_stat(pid);
    if (st && st->ppid == agent && st->state != 'Z' &&
        cmd.find("drover-monitor") != std::string::npos &&
        cmd.find(std::string("\0--spare\0", 9)) != std::string::npos)
      found.push_back(pid);
  }
  return found;
}

// Starts job "a" (a sleeper) and returns the one spare its start leaves waiting; -1 if none
// comes.
pid_t spare_after_a_start(AgentProcess& agent) {
  auto a = agent.submit(sleeper("a"));
  agent.wait_client_status(a[0], "running");
  std::vector<pid_t> s;
  if (!eventually([&] { return (s = spares_of(agent.pid())).size() == 1; },
                  std::chrono::seconds(30)))
    return -1;
  return s[0];
}

}  // namespace

TEST(SpareMonitor, TheNextStartTakesTheSpareTheLastStartLeftWaiting) {
  auto agent = AgentProcess::start();
  const pid_t spare = spare_after_a_start(*agent);
  ASSERT_GT(spare, 0) << "no spare monitor after the first start";
  auto st = proc_stat(spare);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->session, spare);  // away from the agent's terminal and process group
  // Nothing of the agent held while it waits: stdio on /dev/null, its socket, and what it
  // made ahead for the task to come (monitor/prepare.c): a /dev/null, its signalfd, epoll set
  // and timer. 3 to 6 stay free: the fds a start brings arrive there.
  const std::multiset<std::string> made = {"/dev/null", "/dev/null", "/dev/null", "/dev/null",
                                           "anon_inode:[signalfd]", "anon_inode:[eventpoll]",
                                           "anon_inode:[timerfd]"};
  std::multiset<std::string> held;
  int sockets = 0;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(spare) + "/fd")) {
    const int fd = std::stoi(e.path().filename().string());
    const auto to = fs::read_symlink(e.path()).string();
    EXPECT_TRUE(fd <= 2 || fd >= 7) << "fd " << fd << " (" << to << ") is where a start's fds go";
    if (to.rfind("socket:", 0) == 0) ++sockets;
    else held.insert(to);
  }
  EXPECT_EQ(sockets, 1);
  EXPECT_EQ(held, made);

  auto b = agent->submit(sleeper("b"));
  agent->wait_client_status(b[0], "running");
  EXPECT_EQ(monitor_pid(*agent, b[0]), spare);
  // ps shows what it now serves, as for a monitor spawned for the task: its state dir.
  EXPECT_NE(read_file("/proc/" + std::to_string(spare) + "/cmdline")
                .find(agent->runtime_dir() + "/tasks/" + b[0] + "/t"),
            std::string::npos);
  // Another is made for the start after, and only one waits.
  EXPECT_TRUE(eventually([&] {
    auto now = spares_of(agent->pid());
    return now.size() == 1 && now[0] != spare;
  }, std::chrono::seconds(30)));
  agent->del("/v1/job/a");
  agent->del("/v1/job/b");
}

TEST(SpareMonitor, AKilledSpareIsReapedAndTheNextStartSpawnsItsOwnMonitor) {
  auto agent = AgentProcess::start();
  const pid_t spare = spare_after_a_start(*agent);
  ASSERT_GT(spare, 0);
  const auto start = proc_stat(spare)->start;
  ::kill(spare, SIGKILL);
  EXPECT_TRUE(eventually([&] {
    auto now = proc_stat(spare);
    return !now || now->start != start;  // gone, not left a zombie of the agent
  }, std::chrono::seconds(30)));
  auto b = agent->submit(sleeper("b"));
  auto alloc = agent->wait_client_status(b[0], "running");
  const pid_t monitor = monitor_pid(*agent, b[0]);
  EXPECT_NE(monitor, spare);
  EXPECT_TRUE(process_alive(monitor));
  EXPECT_EQ(alloc["TaskStates"]["t"]["Restarts"], 0);
  agent->del("/v1/job/a");
  agent->del("/v1/job/b");
}

TEST(SpareMonitor, NoSpareOutlivesTheAgent) {
  auto agent = AgentProcess::start();
  const pid_t spare = spare_after_a_start(*agent);
  ASSERT_GT(spare, 0);
  const auto start = proc_stat(spare)->start;
  agent->kill(SIGKILL);
  EXPECT_TRUE(eventually([&] {
    auto now = proc_stat(spare);
    return !now || now->start != start || now->state == 'Z';  // ended (init reaps when it will)
  }, std::chrono::seconds(30))) << "a spare went on after its agent was killed";
  agent->kill_tasks_left_behind();
}
