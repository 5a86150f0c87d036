// drivers/monitored on its own: the requests it sends are the monitor's protocol
// (monitor/README.md, "Socket protocol"), and a handle whose monitor is gone is recovered
// from the exit record alone, or refused, never guessed (plugin.h, DROVER_NEVER_STARTED).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "drover/sdk/driver.hpp"
#include "monitor_client.hpp"
#include "monitor_reaper.hpp"
#include "monitored_task.hpp"

namespace drover::monitored {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class MonitoredTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/monitored-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write_exit(const std::string& line) { std::ofstream(dir_ / "exit") << line << "\n"; }
  nlohmann::json starting(uint64_t at) {
    return {{"Starting", true},
            {"StateDir", dir_.string()},
            {"StartingAt", at},
            {"KillSignal", "SIGTERM"}};
  }
  // A handle whose monitor PID is above any pid_max: no monitor answers it.
  Handle gone_handle(int task_pid) {
    Handle h;
    h.monitor_pid = 2147483647;
    h.monitor_start = 1;
    h.task_pid = h.pgid = task_pid;
    h.task_start = 1;
    h.state_dir = dir_.string();
    return h;
  }
  fs::path dir_;
};

TEST(MonitorCommands, AreTheWordsOfTheMonitorsProtocol) {
  EXPECT_EQ(Command::wait().line(), "wait");
  EXPECT_EQ(Command::pid().line(), "pid");
  EXPECT_EQ(Command::signal(10).line(), "signal 10");
  EXPECT_EQ(Command::stop(15, 2500ms).line(), "stop 15 2500");
  EXPECT_EQ(Command::quit().line(), "quit");
  auto t = parse_pid_reply("pid 42 123456");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->pid, 42);
  EXPECT_EQ(t->start_time, 123456u);
  EXPECT_FALSE(parse_pid_reply("error busy"));
  EXPECT_TRUE(is_ok("ok"));
  EXPECT_EQ(reply_error("error task has exited"), "task has exited");
}

// The start report: how the task entered its cgroups is its last word (monitor/README.md,
// "Cgroups"); a report without it (a monitor from before the word) still reads as a start.
MonitorStarted status_from(const std::string& line) {
  int p[2];
  EXPECT_EQ(pipe(p), 0);
  EXPECT_EQ(write(p[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
  close(p[1]);
  return read_monitor_status(p[0], 2s, "drover-monitor");
}

TEST(MonitorStartReport, NamesHowTheTaskWasPlacedAndStillReadsWithoutIt) {
  auto s = status_from("ok 41 100 40 99 fallback:38\n");
  EXPECT_EQ(s.task_pid, 41);
  EXPECT_EQ(s.monitor_pid, 40);
  EXPECT_EQ(s.placement, "fallback:38");
  EXPECT_EQ(status_from("ok 41 100 40 99 clone3\n").placement, "clone3");
  auto old = status_from("ok 41 100 40 99\n");
  EXPECT_EQ(old.monitor_start, 99u);
  EXPECT_EQ(old.placement, "");
  EXPECT_THROW(status_from("error cannot start the task in cgroup /x/cgroup.procs: Device or resource busy\n"),
               std::runtime_error);
}

TEST_F(MonitoredTaskTest, StartingHandleWithNothingInItsStateDirNeverStarted) {
  EXPECT_THROW(MonitoredTask::recover_starting(starting(1)), sdk::NeverStarted);
  EXPECT_THROW(MonitoredTask::recover_starting({{"Starting", true}}), sdk::NeverStarted);
}

TEST_F(MonitoredTaskTest, StartingHandleOfATaskThatAlreadyEndedReportsItsExit) {
  write_exit("exited 3 0 2000 4242");
  Handle h = MonitoredTask::recover_starting(starting(1000));
  EXPECT_EQ(h.task_pid, 4242);
  EXPECT_EQ(h.kill_signal, "SIGTERM");
  auto e = MonitoredTask(h).wait(0ms);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->exit_code, 3);
}

// A Starting handle names the task's runtime dir, where the monitor keeps its files; one
// written before tasks had runtime dirs names only the state dir, where they were then.
TEST_F(MonitoredTaskTest, StartingHandleIsResolvedInItsRuntimeDirOrInAnOlderOnesStateDir) {
  write_exit("exited 3 0 2000 4242");
  nlohmann::json now = {{"Starting", true},
                        {"StateDir", (dir_ / "elsewhere").string()},
                        {"RuntimeDir", dir_.string()},
                        {"StartingAt", 1000}};
  EXPECT_EQ(MonitoredTask::recover_starting(now).task_pid, 4242);
  now["RuntimeDir"] = (dir_ / "empty").string();
  EXPECT_THROW(MonitoredTask::recover_starting(now), sdk::NeverStarted);
  EXPECT_EQ(MonitoredTask::recover_starting(starting(1000)).task_pid, 4242);  // StateDir only
}

TEST_F(MonitoredTaskTest, StartingHandleIsNotAnsweredWithAnEarlierRunsExit) {
  write_exit("exited 0 0 500 4242");
  EXPECT_THROW(MonitoredTask::recover_starting(starting(1000)), sdk::NeverStarted);
}

TEST_F(MonitoredTaskTest, HandleWithNoMonitorAndNoExitIsRefusedAsUnknown) {
  MonitoredTask task(gone_handle(4242));
  try {
    task.recover();
    FAIL() << "recovered a task whose fate is unknown";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(kGone));
  }
  EXPECT_THROW(task.wait(0ms), std::runtime_error);
  EXPECT_FALSE(task.running());
}

TEST_F(MonitoredTaskTest, HandleWithNoMonitorButAnExitRecordIsRecoveredAndReportsIt) {
  write_exit("exited 137 9 2000 4242");
  MonitoredTask task(gone_handle(4242));
  EXPECT_NO_THROW(task.recover());
  EXPECT_EQ(task.wait_fd(), -1);  // wait answers at once
  auto e = task.wait(0ms);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->signal, 9);
  EXPECT_NO_THROW(task.stop("", 0ms));  // already over: nothing to signal
  EXPECT_THROW(task.signal(15), std::runtime_error);
}

}  // namespace
}  // namespace drover::monitored

// The monitors a plugin starts stay its children; the reaper waits for each as it ends, so
// none is left a zombie, whenever it ends and however many there are.
TEST(MonitorReaper, ChildrenThatEndAreWaitedForAndLeaveNoZombie) {
  ASSERT_TRUE(drover::monitored::can_reap_monitors());  // Linux >= 5.3 here and in the v2 guest
  std::vector<pid_t> kids;
  for (int i = 0; i < 20; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::usleep(static_cast<useconds_t>(i % 4) * 20000);  // some end before they are handed over
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) drover::monitored::reap_when_done(pid);
  auto zombies = [&] {
    int n = 0;
    for (pid_t pid : kids) n += std::filesystem::exists("/proc/" + std::to_string(pid));
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (zombies() > 0 && std::chrono::steady_clock::now() < deadline)
    ::usleep(1000);
  EXPECT_EQ(zombies(), 0);
}
