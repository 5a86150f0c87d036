// raw_exec as the agent uses it: loaded from a plugin folder by the real loader, running
// real processes. Each test checks what a user would notice: output in the log file, the
// env a task sees, exit codes, stop and kill of the whole task, recovery after a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drover/loader/registry.hpp"
#include "exec_session_io.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;
using drover::plugins::DriverPlugin;
using drover::plugins::PluginRegistry;
using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

using drover::test_support::slurp;

namespace {

// Field 3 (state) and 22 (start time) of /proc/PID/stat; state 0 when the PID is gone.
struct Proc {
  char state = 0;
  unsigned long long start_time = 0;
};
Proc proc(int pid) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(s.substr(close + 2));
  Proc p;
  std::string field;
  in >> p.state;
  for (int i = 4; i <= 22 && in >> field; ++i) {
    if (i == 22) p.start_time = std::stoull(field);
  }
  return p;
}
// Gone, or a zombie nobody has reaped yet: either way it runs no more.
bool not_running(int pid) {
  char st = proc(pid).state;
  return st == 0 || st == 'Z' || st == 'X';
}

class RawExec : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "drover-raw-exec-XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
    fs::create_directories(root_ / "plugins");
    fs::create_directories(task_dir());
    fs::create_symlink(RAW_EXEC_SO, root_ / "plugins" / "raw_exec.so");
  }
  void TearDown() override {
    for (const auto& h : handles_) {
      if (driver_) (void)driver_->destroy(h);
    }
    unload();
    // A monitor that was just told to end may still remove its own files: retry.
    std::error_code ec;
    for (int i = 0; i < 50 && fs::exists(root_); ++i) {
      fs::remove_all(root_, ec);
      if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // The agent goes away: its plugins are unloaded and the driver pointer with them, so that
  // TearDown after a failed step never calls into an unloaded plugin.
  void unload() {
    registries_.clear();
    driver_ = nullptr;
  }

  DriverPlugin* load(bool enabled = true) {
    registries_.push_back(std::make_unique<PluginRegistry>());
    json configs = enabled ? json{{"raw_exec", {{"enabled", true}}}} : json::object();
    registries_.back()->load_dir(root_ / "plugins", configs);
    driver_ = registries_.back()->driver("raw_exec");
    return driver_;
  }

  fs::path task_dir() const { return root_ / "task"; }
  // One private state dir per task, as the agent makes them.
  fs::path new_state_dir() const {
    fs::path d = root_ / ("state" + std::to_string(++tasks_));
    fs::create_directories(d);
    fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace);
    return d;
  }
  fs::path out() const { return root_ / "task.stdout.0"; }

  json task(const std::string& command, std::vector<std::string> args = {},
            json env = json::object()) const {
    return {{"AllocID", "a1"},
            {"JobID", "j"},
            {"GroupName", "g"},
            {"TaskName", "t"},
            {"User", ""},
            {"Config", {{"command", command}, {"args", args}}},
            {"Env", env},
            {"AllocDir", root_.string()},
            {"TaskDir", task_dir().string()},
            {"StdoutPath", (root_ / "task.stdout").string()},
            {"StderrPath", (root_ / "task.stderr").string()},
            {"Resources", {{"CPU", 100}, {"MemoryMB", 300}}},
            {"KillSignal", "SIGTERM"},
            {"KillTimeoutMs", 5000},
            {"MonitorPath", MONITOR_BIN},
            {"StateDir", (root_ / "persistent-state").string()},
            {"RuntimeDir", new_state_dir().string()}};
  }

  json start(const json& t) {
    auto h = driver_->start(t);
    EXPECT_TRUE(h.ok()) << h.message();
    if (!h.ok()) return json();
    handles_.push_back(*h);
    return *h;
  }

  drover::plugins::ExitResult wait_exit(const json& h, std::chrono::milliseconds t = 10s) {
    auto r = driver_->wait(h, t);
    EXPECT_TRUE(r.ok()) << r.message();
    EXPECT_TRUE(r.ok() && r->has_value()) << "still running";
    return (r.ok() && r->has_value()) ? **r : drover::plugins::ExitResult{-99, 0, false, "?"};
  }

  fs::path root_;
  std::vector<std::unique_ptr<PluginRegistry>> registries_;
  DriverPlugin* driver_ = nullptr;
  std::vector<json> handles_;
  mutable int tasks_ = 0;
};

TEST_F(RawExec, DisabledDriverIsUndetectedAndRefusesStart) {
  auto* d = load(/*enabled=*/false);
  ASSERT_NE(d, nullptr);
  auto fp = d->fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_FALSE(fp["Healthy"].get<bool>());
  EXPECT_EQ(fp["HealthDescription"], "disabled (set plugin.raw_exec.config.enabled: true)");
  auto h = d->start(task("/bin/true"));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("disabled (set plugin.raw_exec.config.enabled: true)"));
}

TEST_F(RawExec, EnabledDriverIsHealthyWithAttribute) {
  auto fp = load()->fingerprint();
  EXPECT_TRUE(fp["Detected"].get<bool>());
  EXPECT_TRUE(fp["Healthy"].get<bool>());
  EXPECT_EQ(fp["Attributes"]["driver.raw_exec"], "true");
}

TEST_F(RawExec, UnknownPluginConfigKeyRefusesThePlugin) {
  PluginRegistry reg;
  reg.load_dir(root_ / "plugins", {{"raw_exec", {{"enabled", true}, {"no_such", 1}}}});
  EXPECT_EQ(reg.driver("raw_exec"), nullptr);
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_THAT(reg.plugins()[0].reason, HasSubstr("plugin.raw_exec.config.no_such"));
}

TEST_F(RawExec, ValidateNamesEveryBadKey) {
  auto* d = load();
  EXPECT_TRUE(d->validate({{"command", "echo"}, {"args", {"a", "b"}}}).empty());
  EXPECT_THAT(d->validate(json::object()), ::testing::ElementsAre("config.command: required"));
  EXPECT_THAT(d->validate({{"command", ""}}), ::testing::ElementsAre(HasSubstr("config.command")));
  auto problems = d->validate({{"command", 5}, {"args", {"ok", 7}}, {"privileged", true}});
  EXPECT_THAT(problems, ::testing::UnorderedElementsAre(HasSubstr("config.command"),
                                                        HasSubstr("config.args[1]"),
                                                        HasSubstr("config.privileged")));
  EXPECT_THAT(d->validate({{"command", "x"}, {"args", "not-an-array"}}),
              ::testing::ElementsAre(HasSubstr("config.args")));
}

TEST_F(RawExec, EchoWritesToTheStdoutFile) {
  load();
  json h = start(task("echo", {"hello", "world"}));
  ASSERT_TRUE(h.contains("TaskPID") && h.contains("TaskStartTime") && h.contains("MonitorPID"));
  auto exit = wait_exit(h);
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(slurp(out()), "hello world\n");
  // A second run appends: restarts keep earlier output.
  wait_exit(start(task("echo", {"again"})));
  EXPECT_EQ(slurp(out()), "hello world\nagain\n");
}

TEST_F(RawExec, TaskSeesExactlyTheGivenEnv) {
  setenv("DROVER_AGENT_SECRET", "must-not-leak", 1);
  load();
  wait_exit(start(task("/usr/bin/env", {}, {{"FOO", "bar"}, {"NOMAD_TASK_NAME", "t"}})));
  std::istringstream lines(slurp(out()));
  std::vector<std::string> got;
  for (std::string l; std::getline(lines, l);) got.push_back(l);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"FOO=bar", "NOMAD_TASK_NAME=t"}));
}

TEST_F(RawExec, RunsInTheTaskDirAndResolvesRelativeCommandsThere) {
  load();
  {
    std::ofstream s(task_dir() / "run.sh");
    s << "#!/bin/sh\npwd\n";
  }
  fs::permissions(task_dir() / "run.sh", fs::perms::owner_all | fs::perms::group_read);
  wait_exit(start(task("./run.sh")));
  EXPECT_EQ(slurp(out()), fs::canonical(task_dir()).string() + "\n");
}

TEST_F(RawExec, CommandIsSearchedInTheTasksPath) {
  load();
  fs::create_directories(root_ / "bin");
  {
    std::ofstream s(root_ / "bin" / "mytool");
    s << "#!/bin/sh\necho from-task-path\n";
  }
  fs::permissions(root_ / "bin" / "mytool", fs::perms::owner_all);
  wait_exit(start(task("mytool", {}, {{"PATH", (root_ / "bin").string() + ":/bin"}})));
  EXPECT_EQ(slurp(out()), "from-task-path\n");
}

TEST_F(RawExec, TaskRunsAsItsUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  load();
  fs::permissions(root_, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  json t = task("sh", {"-c", "id -u; id -G"});
  t["User"] = "nobody";
  wait_exit(start(t));
  EXPECT_EQ(slurp(out()), "65534\n65534\n");  // no supplementary groups of the agent
}

TEST_F(RawExec, UnknownUserFailsStart) {
  auto* d = load();
  json t = task("true");
  t["User"] = "no-such-user-drover";
  auto h = d->start(t);
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("no-such-user-drover"));
}

TEST_F(RawExec, MissingCommandFailsStartNamingIt) {
  auto* d = load();
  auto h = d->start(task("no-such-command-drover"));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("no-such-command-drover"));
  EXPECT_THAT(h.message(), HasSubstr("No such file or directory"));
}

TEST_F(RawExec, NonExecutableCommandFailsStartWithPermissionDenied) {
  auto* d = load();
  std::ofstream(task_dir() / "data.txt") << "not a program\n";
  fs::permissions(task_dir() / "data.txt", fs::perms::owner_read | fs::perms::owner_write);
  auto h = d->start(task("./data.txt"));
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.message(), HasSubstr("./data.txt"));
  EXPECT_THAT(h.message(), HasSubstr("Permission denied"));
}

TEST_F(RawExec, ExitCodeIsReported) {
  load();
  auto exit = wait_exit(start(task("sh", {"-c", "exit 3"})));
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_EQ(exit.signal, 0);
  EXPECT_EQ(exit.err, "");
}

TEST_F(RawExec, DeathBySignalReports128PlusSignal) {
  load();
  auto exit = wait_exit(start(task("sh", {"-c", "kill -KILL $$"})));
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.exit_code, 128 + SIGKILL);
}

TEST_F(RawExec, WaitTimesOutWhileRunning) {
  auto* d = load();
  json h = start(task("sleep", {"100"}));
  auto before = std::chrono::steady_clock::now();
  auto r = d->wait(h, 200ms);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_FALSE(r->has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 190ms);
  auto info = d->inspect(h);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE((*info)["Running"].get<bool>());
  auto stats = d->stats(h);
  ASSERT_TRUE(stats.ok()) << stats.message();
  EXPECT_EQ((*stats)["Pids"], 1);
  EXPECT_GT((*stats)["RSSBytes"].get<long long>(), 0);
}

TEST_F(RawExec, StopWithTermEndsACooperativeTaskAtOnce) {
  auto* d = load();
  json h = start(task("sleep", {"100"}));
  auto before = std::chrono::steady_clock::now();
  auto st = d->stop(h, "TERM", 5s);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  auto exit = wait_exit(h, 0ms);
  EXPECT_EQ(exit.signal, SIGTERM);
  EXPECT_EQ(exit.exit_code, 128 + SIGTERM);
}

TEST_F(RawExec, StopKillsTheWholeGroupAfterTimeoutWhenTermIsTrapped) {
  auto* d = load();
  // The shell ignores TERM (and so does its sleep, which inherits the ignored disposition).
  json h = start(task("sh", {"-c", "trap '' TERM; sleep 100 & echo $! > sleep.pid; wait"}));
  int sleep_pid = 0;
  for (int i = 0; i < 500 && sleep_pid == 0; ++i) {
    std::ifstream(task_dir() / "sleep.pid") >> sleep_pid;
    if (sleep_pid == 0) std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(sleep_pid, 0);
  ASSERT_FALSE(not_running(sleep_pid));

  auto before = std::chrono::steady_clock::now();
  auto st = d->stop(h, "SIGTERM", 500ms);
  ASSERT_TRUE(st.ok()) << st.message();
  auto took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(took, 480ms);  // TERM was ignored: it waited for the timeout
  EXPECT_LT(took, 5s);
  auto exit = wait_exit(h, 0ms);
  EXPECT_EQ(exit.signal, SIGKILL);
  for (int i = 0; i < 200 && !not_running(sleep_pid); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(not_running(sleep_pid)) << "the task's child sleep survived stop";
  auto info = d->inspect(h);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE((*info)["Running"].get<bool>());
}

TEST_F(RawExec, SignalReachesTheTask) {
  auto* d = load();
  json h = start(task("sleep", {"100"}));
  ASSERT_TRUE(d->signal(h, "SIGHUP").ok());
  auto exit = wait_exit(h);
  EXPECT_EQ(exit.signal, SIGHUP);
  EXPECT_FALSE(d->signal(h, "SIGHUP").ok());  // exited: its PID may belong to someone else
  EXPECT_FALSE(d->signal(start(task("sleep", {"100"})), "SIGNOPE").ok());
}

TEST_F(RawExec, ManyConcurrentWaitsGetTheirOwnExitCodes) {
  load();
  std::vector<json> hs;
  for (int i = 0; i < 8; ++i) {
    hs.push_back(start(task("sh", {"-c", "sleep 0.2; exit " + std::to_string(10 + i)})));
  }
  std::vector<int> codes(hs.size() + 2, -1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < hs.size(); ++i) {
    threads.emplace_back([&, i] { codes[i] = wait_exit(hs[i]).exit_code; });
  }
  // Two more waiters on the same task must both see its code.
  threads.emplace_back([&] { codes[8] = wait_exit(hs[0]).exit_code; });
  threads.emplace_back([&] { codes[9] = wait_exit(hs[0]).exit_code; });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < hs.size(); ++i) EXPECT_EQ(codes[i], 10 + static_cast<int>(i));
  EXPECT_EQ(codes[8], 10);
  EXPECT_EQ(codes[9], 10);
}

TEST_F(RawExec, RecoverReattachesToARunningTaskAfterRestart) {
  load();
  json h = start(task("sh", {"-c", "while true; do echo tick; sleep 0.05; done"}));
  // A fresh registry stands in for the restarted agent: the old one is gone entirely.
  unload();
  auto* fresh = load();
  auto r = fresh->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["TaskPID"], h["TaskPID"]);
  auto info = fresh->inspect(*r);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE((*info)["Running"].get<bool>());
  auto still = fresh->wait(*r, 50ms);
  ASSERT_TRUE(still.ok()) << still.message();
  EXPECT_FALSE(still->has_value());
  auto size = fs::file_size(out());
  auto until = std::chrono::steady_clock::now() + 10s;
  while (fs::file_size(out()) <= size && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);
  EXPECT_GT(fs::file_size(out()), size) << "logs stopped flowing";
  ASSERT_TRUE(fresh->stop(*r, "SIGTERM", 5s).ok());
  EXPECT_TRUE(not_running(h["TaskPID"].get<int>()));
  auto exit = wait_exit(*r, 0ms);
  EXPECT_EQ(exit.signal, SIGTERM);
}

TEST_F(RawExec, TaskThatExitedWhileTheAgentWasAwayGivesItsRealExitCode) {
  load();
  json t = task("sh", {"-c", "sleep 0.3; exit 7"});
  json h = start(t);
  unload();
  // The monitor records the exit in <state dir>/exit: wait for it, however slow the machine.
  const fs::path exit_file = fs::path(t["RuntimeDir"].get<std::string>()) / "exit";
  for (int i = 0; i < 1000 && !fs::exists(exit_file); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(exit_file)) << "the task never exited";
  // The monitor's linger ends early too: the exit file alone must answer.
  kill(h["MonitorPID"].get<int>(), SIGKILL);
  for (int i = 0; i < 100 && !not_running(h["MonitorPID"].get<int>()); ++i)
    std::this_thread::sleep_for(10ms);
  auto* fresh = load();
  auto r = fresh->recover(h);
  ASSERT_TRUE(r.ok()) << r.message();
  auto exit = wait_exit(*r, 0ms);
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_EQ(exit.signal, 0);
}

TEST_F(RawExec, RecoverRefusesAHandleWhoseMonitorPidNowBelongsToAnotherProcess) {
  auto* d = load();
  json h = start(task("sleep", {"100"}));
  json wrong = h;
  wrong["MonitorStartTime"] = h["MonitorStartTime"].get<unsigned long long>() + 1;
  auto* fresh = load();
  auto r = fresh->recover(wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("now belongs to another process"));
  // And nothing was signalled through the stale handle's monitor.
  auto info = d->inspect(h);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE((*info)["Running"].get<bool>());
}

TEST_F(RawExec, MonitorAndExitFileBothGoneIsReportedAsUnknownFate) {
  auto* d = load();
  json h = start(task("sleep", {"100"}));
  int task_pid = h["TaskPID"].get<int>();
  kill(h["MonitorPID"].get<int>(), SIGKILL);
  for (int i = 0; i < 100 && !not_running(h["MonitorPID"].get<int>()); ++i)
    std::this_thread::sleep_for(10ms);
  auto r = d->wait(h, 100ms);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("task monitor is gone; the task's fate is unknown"));
  EXPECT_FALSE(load()->recover(h).ok());
  // stop still reaches the task directly: its PID and start time still match.
  ASSERT_TRUE(d->stop(h, "SIGKILL", 1s).ok());
  for (int i = 0; i < 100 && !not_running(task_pid); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(not_running(task_pid));
}

TEST_F(RawExec, UnknownHandleIsAnErrorNotACrash) {
  auto* d = load();
  EXPECT_FALSE(d->wait({{"PID", 999999}, {"StartTime", 1}}, 0ms).ok());
  EXPECT_FALSE(d->stop(json::array(), "SIGTERM", 0ms).ok());
  EXPECT_FALSE(d->signal({{"PID", "x"}}, "SIGTERM").ok());
  EXPECT_FALSE(d->start(json("not an object")).ok());
}

// `alloc exec -t` (plugin.h, drover_driver_exec_stream_v1): a shell on a terminal of the
// size asked for, beside a running task, as that task runs.
TEST_F(RawExec, ExecOnATerminalRunsAsTheTaskWithTheSizeAskedFor) {
  load();
  ASSERT_TRUE(driver_->supports_exec_stream());
  json h = start(task("sleep", {"30"}, {{"GREETING", "hi there"}, {"PATH", "/usr/bin:/bin"}}));
  drover::plugins::ExecRequest req{{"sh"}, true, 30, 100};
  auto s = driver_->exec_stream(h, req);
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_TRUE(session.tty());
  ASSERT_TRUE(drover::test_support::write_text(
      session.input_fd(),
      "test -t 0 && echo is-a-tty; stty size; echo \"$GREETING in $(pwd)\"; echo $TERM\n"));
  std::string out = drover::test_support::read_until(session.stdout_fd(), "xterm\r\n");
  EXPECT_THAT(out, HasSubstr("is-a-tty\r\n"));
  EXPECT_THAT(out, HasSubstr("30 100\r\n"));
  EXPECT_THAT(out, HasSubstr("hi there in " + task_dir().string() + "\r\n"));
  // A resize reaches the shell's terminal, and SIGWINCH the shell.
  ASSERT_TRUE(drover::test_support::write_text(
      session.input_fd(), "trap 'echo winched' WINCH; echo trap-set\n"));
  // The output's line, not the echo of the typed one ("...; echo trap-set").
  drover::test_support::read_until(session.stdout_fd(), "\ntrap-set\r\n");
  ASSERT_TRUE(session.resize(40, 120).ok());
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "stty size; exit 3\n"));
  out = drover::test_support::read_until(session.stdout_fd(), "");
  EXPECT_THAT(out, HasSubstr("winched"));
  EXPECT_THAT(out, HasSubstr("40 120\r\n"));
  auto exit = session.wait(10s);
  ASSERT_TRUE(exit.ok()) << exit.message();
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 3);
  // The task was never touched.
  auto still = driver_->wait(h, 0ms);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value());
}

TEST_F(RawExec, ExecWithoutTerminalHasPipesAndSeesStdinEnd) {
  load();
  json h = start(task("sleep", {"30"}));
  drover::plugins::ExecRequest req{
      {"/bin/sh", "-c", "test -t 0 || echo no-tty; cat; echo oops >&2; exit 7"}, false, 0, 0};
  auto s = driver_->exec_stream(h, req);
  ASSERT_TRUE(s.ok()) << s.message();
  auto& session = **s;
  ASSERT_GE(session.stderr_fd(), 0);
  ASSERT_TRUE(drover::test_support::write_text(session.input_fd(), "typed\n"));
  session.close_input();  // cat ends at EOF
  EXPECT_EQ(drover::test_support::read_until(session.stdout_fd(), ""), "no-tty\ntyped\n");
  EXPECT_EQ(drover::test_support::read_until(session.stderr_fd(), ""), "oops\n");
  auto exit = session.wait(10s);
  ASSERT_TRUE(exit.ok() && exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 7);
}

TEST_F(RawExec, ExecJoinsTheTasksCgroup) {
  load();
  // The task's own cgroup, made as the agent makes it (v2, or v1's pids hierarchy).
  const bool v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers");
  const std::string rel = "drover-raw-exec-test-" + std::to_string(getpid());
  const fs::path dir = v2 ? fs::path("/sys/fs/cgroup") / rel : fs::path("/sys/fs/cgroup/pids") / rel;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) GTEST_SKIP() << "cannot make a cgroup here: " << ec.message();
  json t = task("sleep", {"30"});
  t["Cgroup"] = {{"Version", v2 ? 2 : 1},
                 {"ProcsFiles", {(dir / "cgroup.procs").string()}},
                 {"RelativePath", rel},
                 {"Parent", "/" + rel}};
  json h = start(t);
  auto s = driver_->exec_stream(h, {{"cat", "/proc/self/cgroup"}, false, 0, 0});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_THAT(drover::test_support::read_until((*s)->stdout_fd(), ""), HasSubstr("/" + rel + "\n"));
  ASSERT_TRUE((*s)->wait(10s).ok());
  s->reset();
  ASSERT_TRUE(driver_->stop(h, "SIGKILL", 1s).ok());
  rmdir(dir.c_str());
}

TEST_F(RawExec, ExecOfAMissingCommandIsAClearErrorAndTheTaskRunsOn) {
  load();
  json h = start(task("sleep", {"30"}));
  auto s = driver_->exec_stream(h, {{"no-such-command-here"}, true, 0, 0});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("\"no-such-command-here\": not found in the task's PATH"));
  auto abs = driver_->exec_stream(h, {{"/no/such/file"}, false, 0, 0});
  ASSERT_FALSE(abs.ok());
  EXPECT_THAT(abs.message(), HasSubstr("\"/no/such/file\": No such file or directory"));
  auto still = driver_->wait(h, 0ms);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value()) << "the task must keep running";
}

TEST_F(RawExec, ClosingASessionKillsTheCommandAndWhatItStarted) {
  load();
  json h = start(task("sleep", {"30"}));
  auto s = driver_->exec_stream(h, {{"/bin/sh", "-c", "sleep 300 & echo $!; wait"}, true, 0, 0});
  ASSERT_TRUE(s.ok()) << s.message();
  std::string out = drover::test_support::read_until((*s)->stdout_fd(), "\n");
  int child = std::atoi(out.c_str());
  ASSERT_GT(child, 1) << out;
  EXPECT_FALSE(not_running(child));
  s->reset();  // what the agent does when the websocket goes away
  // SIGKILLed by then; gone once the kernel has run its exit.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!not_running(child) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(not_running(child)) << "the sleep the shell started is killed with it";
  auto still = driver_->wait(h, 0ms);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value());
}

// A command run beside a task of another user runs as that user, and the agent keeps its own
// ids: the command's child shares the agent's memory until it execs (spawn_exec), so it
// changes ids by the system calls themselves, not by glibc's wrappers, which act for every
// thread of a multi-threaded process.
TEST_F(RawExec, ExecIntoATaskOfAnotherUserRunsAsItAndTheAgentStaysRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  load();
  fs::permissions(root_, fs::perms::owner_all | fs::perms::others_exec | fs::perms::group_exec);
  json t = task("sleep", {"30"});
  t["User"] = "nobody";
  json h = start(t);
  auto r = driver_->exec_task(h, {"/bin/sh", "-c", "id -u; id -G"}, 10s);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["Stdout"], "65534\n65534\n");
  EXPECT_EQ((*r)["ExitCode"], 0);
  EXPECT_EQ(geteuid(), 0u);
  EXPECT_EQ(getegid(), 0u);
  const std::string status = slurp("/proc/self/status");
  EXPECT_NE(status.find("Uid:\t0\t0\t0\t0\n"), std::string::npos) << status;
}

// `alloc exec` without -i/-t and script checks (drover_driver_exec_v1): the same command
// beside the task, run to its end.
TEST_F(RawExec, ExecTaskRunsACommandToItsEndAndTimesOut) {
  load();
  ASSERT_TRUE(driver_->supports_exec());
  json h = start(task("sleep", {"30"}, {{"GREETING", "hi"}}));
  auto r = driver_->exec_task(h, {"/bin/sh", "-c", "echo $GREETING; echo oops >&2; exit 3"}, 10s);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["Stdout"], "hi\n");
  EXPECT_EQ((*r)["Stderr"], "oops\n");
  EXPECT_EQ((*r)["ExitCode"], 3);
  auto slow = driver_->exec_task(h, {"sleep", "30"}, 300ms);
  ASSERT_FALSE(slow.ok());
  EXPECT_THAT(slow.message(), HasSubstr("timed out after 300 ms"));
  auto still = driver_->wait(h, 0ms);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->has_value());
}

TEST_F(RawExec, ExecInAnExitedTaskIsRefused) {
  load();
  json h = start(task("true"));
  wait_exit(h);
  auto s = driver_->exec_stream(h, {{"sh"}, true, 0, 0});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("task has exited"));
}

}  // namespace
