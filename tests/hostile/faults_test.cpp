// Faults to survive (docs/threat-model.md, "Faults to survive"): the agent SIGKILLed at each
// step of an alloc's start and stop, an unreadable state store, a full disk, a second agent,
// a recycled PID.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::hostile::find_file;
using drover::hostile::line_count;
using drover::hostile::sh_job;
using drover::hostile::wait_for;
using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::process_alive;
using drover::testing::read_file;
using nlohmann::json;

namespace {

// Each start appends one line (its pid) to alloc/data/starts; then the task sleeps as that pid.
const std::string kStartOnce = "echo $$ >> \"$NOMAD_ALLOC_DIR/data/starts\"; exec sleep 120";

std::vector<std::string> cgroup_children(const std::string& parent) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& dir : drover::testing::parent_cgroup_dirs(parent)) {
    for (const auto& c : std::filesystem::directory_iterator(dir, ec))
      if (c.is_directory()) out.push_back(c.path().string());
  }
  return out;
}

void wait_dead(AgentProcess& a) {
  ASSERT_TRUE(wait_for([&] { return !a.running(); }, std::chrono::seconds(15)))
      << "the agent did not die at the fault point:\n" << a.log();
}

}  // namespace

class KillAtFaultPoint : public ::testing::TestWithParam<std::string> {};

TEST_P(KillAtFaultPoint, RestartRunsNoTaskTwiceLeavesNoneUnsupervisedAndNoCgroup) {
  const auto point = GetParam();
  auto dir = make_temp_dir("drover-fault");
  std::string alloc_id, parent;
  if (point == "during_stop") {
    auto agent = AgentProcess::start({.data_dir = dir});
    alloc_id = agent->submit(sh_job("once", "service", kStartOnce))[0];
    agent->wait_client_status(alloc_id, "running");
    agent->kill(SIGKILL);
    setenv("DROVER_FAULT", point.c_str(), 1);
    auto armed = AgentProcess::start({.data_dir = dir});
    unsetenv("DROVER_FAULT");
    armed->del("/v1/job/once");
    wait_dead(*armed);
    parent = armed->cgroup_parent();
  } else {
    setenv("DROVER_FAULT", point.c_str(), 1);
    auto armed = AgentProcess::start({.data_dir = dir});
    unsetenv("DROVER_FAULT");
    armed->post("/v1/jobs", sh_job("once", "service", kStartOnce));
    wait_dead(*armed);
    parent = armed->cgroup_parent();
  }
  auto agent = AgentProcess::start({.data_dir = dir});
  auto allocs = agent->get("/v1/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << "alloc lost or doubled: " << allocs.dump(2) << agent->log();
  alloc_id = allocs[0]["ID"];
  if (point == "during_stop") {
    agent->wait_client_status(alloc_id, "complete");
  } else {
    agent->wait_client_status(alloc_id, "running");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // time for a wrong second start
  }
  if (point == "alloc_persisted") {
    // raw_exec resolves a Starting handle itself, so the placement stored the task's
    // (docs/design.md, "Written before acting"): recovery asked the driver, which said never
    // started.
    EXPECT_NE(agent->log().find("was starting when the agent stopped; starting it"), std::string::npos)
        << agent->log();
  }
  auto starts_path = find_file(dir + "/alloc/" + alloc_id, "starts");
  ASSERT_FALSE(starts_path.empty()) << "the task never started";
  auto starts = read_file(starts_path);
  EXPECT_EQ(line_count(starts), 1) << "the task started more than once:\n" << starts;
  pid_t pid = std::atoi(starts.c_str());
  if (point != "during_stop") {
    EXPECT_TRUE(process_alive(pid));
    ASSERT_EQ(agent->del("/v1/job/once").status, 200);
    agent->wait_client_status(alloc_id, "complete");
  }
  // Supervised to the end: the stop reached the task, and its cgroup went with it.
  EXPECT_TRUE(wait_for([&] { return !process_alive(pid); }, std::chrono::seconds(5))) << "pid " << pid << " still runs";
  EXPECT_TRUE(wait_for([&] { return cgroup_children(parent).empty(); }, std::chrono::seconds(5)))
      << "cgroup left: " << cgroup_children(parent)[0];
  EXPECT_EQ(line_count(read_file(starts_path)), 1);
}

INSTANTIATE_TEST_SUITE_P(Faults, KillAtFaultPoint,
                         ::testing::Values("alloc_persisted", "before_task_start", "after_task_start",
                                           "handle_persisted", "during_stop"));

// An update killed right after the write that places its new version: the job, the new alloc
// and the old alloc's stop are that one write (state_store.hpp, put_placement), so the agent
// after it runs the new version and finishes stopping the old one; neither runs twice.
TEST(KillAtFaultPointUpdate, TheNewVersionRunsAndTheOldIsStoppedNeitherTwice) {
  auto dir = make_temp_dir("drover-fault-update");
  const auto version = [](const std::string& v) {
    return sh_job("upd", "service", "echo " + v + " >> \"$NOMAD_ALLOC_DIR/data/starts\"; exec sleep 120");
  };
  std::string old_id;
  {
    auto first = AgentProcess::start({.data_dir = dir});
    old_id = first->submit(version("v1"))[0];
    first->wait_client_status(old_id, "running");
    first->kill(SIGKILL);  // the task lives on, as after any agent crash
  }
  setenv("DROVER_FAULT", "alloc_persisted", 1);
  auto armed = AgentProcess::start({.data_dir = dir});
  unsetenv("DROVER_FAULT");
  armed->wait_client_status(old_id, "running");  // recovered before the update comes
  armed->post("/v1/jobs", version("v2"));
  wait_dead(*armed);

  auto agent = AgentProcess::start({.data_dir = dir});
  auto allocs = agent->get("/v1/allocations").json();
  ASSERT_EQ(allocs.size(), 2u) << "the new alloc lost or doubled: " << allocs.dump(2) << agent->log();
  const std::string new_id = allocs[0]["ID"] == old_id ? allocs[1]["ID"] : allocs[0]["ID"];
  agent->wait_client_status(new_id, "running");
  auto old = agent->wait_client_status(old_id, "complete");
  EXPECT_EQ(old["DesiredStatus"], "stop");
  EXPECT_EQ(read_file(find_file(dir + "/alloc/" + old_id, "starts")), "v1\n");
  // Running is the shell started; its echo may come a moment later (the v2 guest under TCG).
  const auto new_starts = [&] { return read_file(find_file(dir + "/alloc/" + new_id, "starts")); };
  EXPECT_TRUE(wait_for([&] { return !new_starts().empty(); }, std::chrono::seconds(10)));
  EXPECT_EQ(new_starts(), "v2\n");
  EXPECT_NE(agent->get("/v1/job/upd").body.find("v2"), std::string::npos) << "the job is not the update";
  ASSERT_EQ(agent->del("/v1/job/upd").status, 200);
  agent->wait_client_status(new_id, "complete");
}

// The same faults for an isolated task: exec keeps what it needs to find its container before
// it launches it, so a Starting handle is recovered (not reported failed, not run again); one
// stored with the placement, before anything of the task existed, is started once.
class KillAtFaultPointExec : public ::testing::TestWithParam<std::string> {};

TEST_P(KillAtFaultPointExec, AContainerStartedBeforeTheHandleWasKeptIsRecoveredNotRunAgain) {
  auto dir = make_temp_dir("drover-fault-exec");
  std::string job = sh_job("once", "service", kStartOnce);
  job.replace(job.find("driver: raw_exec"), 16, "driver: exec    ");
  setenv("DROVER_FAULT", GetParam().c_str(), 1);
  auto armed = AgentProcess::start({.data_dir = dir});
  unsetenv("DROVER_FAULT");
  auto node = armed->get("/v1/node").json();
  if (!node["Drivers"].contains("exec") || !node["Drivers"]["exec"].value("Healthy", false))
    GTEST_SKIP() << "exec is not healthy here: " << node["Drivers"].dump();
  armed->post("/v1/jobs", job);
  wait_dead(*armed);
  const auto parent = armed->cgroup_parent();

  auto agent = AgentProcess::start({.data_dir = dir});
  auto allocs = agent->get("/v1/allocations").json();
  ASSERT_EQ(allocs.size(), 1u) << allocs.dump(2) << agent->log();
  const std::string alloc_id = allocs[0]["ID"];
  auto a = agent->wait_client_status(alloc_id, "running");
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 0) << a.dump(2);
  std::string starts_path;
  ASSERT_TRUE(wait_for([&] {
    starts_path = find_file(dir + "/alloc/" + alloc_id, "starts");
    return !starts_path.empty();
  }, std::chrono::seconds(10))) << "the task never started";
  ASSERT_EQ(agent->del("/v1/job/once").status, 200);
  agent->wait_client_status(alloc_id, "complete");
  EXPECT_EQ(line_count(read_file(starts_path)), 1) << "the task started more than once";
  EXPECT_TRUE(wait_for([&] { return cgroup_children(parent).empty(); }, std::chrono::seconds(5)))
      << "cgroup left: " << cgroup_children(parent)[0];
}

INSTANTIATE_TEST_SUITE_P(Faults, KillAtFaultPointExec,
                         ::testing::Values("alloc_persisted", "after_task_start"));

TEST(StateStore, UnreadableStateRefusesToStartAndKeepsTheFile) {
  auto dir = make_temp_dir("drover-garbage");
  const std::string garbage = "this is not a database\n" + std::string(8192, '\x7f');
  drover::testing::write_file(dir + "/state.db", garbage);
  auto r = drover::hostile::run_agent_to_exit({"-data-dir", dir, "-plugin-dir", DROVER_PLUGIN_DIR});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("state"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir), std::string::npos) << "the message should name the file: " << r.err;
  EXPECT_EQ(read_file(dir + "/state.db"), garbage) << "the unreadable file was changed";
}

TEST(DataDir, FullDiskGivesClearErrorsAndNoCrash) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  auto mnt = make_temp_dir("drover-full");
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=2m"), 0) << strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};
  auto data = mnt + "/data";
  {
    auto agent = AgentProcess::start({.data_dir = data});
    // Fill what is left, then submit: the alloc cannot be written.
    drover::hostile::sh("dd if=/dev/zero of=" + mnt + "/fill bs=64k >/dev/null 2>&1");
    auto r = agent->post("/v1/jobs", sh_job("full", "batch", "echo hi"));
    EXPECT_TRUE(r.status == 200 || r.status >= 400) << r.status;
    if (r.status >= 400) {
      EXPECT_NE(r.json().value("error", ""), "") << r.body;
    }
    EXPECT_TRUE(agent->running());
    EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
    std::filesystem::remove(mnt + "/fill");
    auto again = agent->post("/v1/jobs", sh_job("after", "batch", "echo hi"));
    EXPECT_EQ(again.status, 200) << again.body;
  }
  // Starting on a full disk: refused at once, naming the state store and why; never a crash
  // or a hang (run_agent_to_exit gives -1 for an agent still running after 20 s).
  drover::hostile::sh("dd if=/dev/zero of=" + mnt + "/fill bs=64k >/dev/null 2>&1");
  auto r = drover::hostile::run_agent_to_exit({"-dev", "-data-dir", mnt + "/fresh", "-plugin-dir", DROVER_PLUGIN_DIR},
                                              std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("Error: state store " + mnt + "/fresh/state.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("full"), std::string::npos) << r.err;
}

TEST(DataDir, SecondAgentIsRefusedNamingTheHolderPid) {
  auto agent = AgentProcess::start();
  auto r = drover::hostile::run_agent_to_exit({"-dev", "-data-dir", agent->data_dir(), "-port", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("pid " + std::to_string(agent->pid())), std::string::npos) << r.err;
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

namespace {
// Starts `sleep 300` at exactly `pid` (via ns_last_pid); returns its pid, or -1.
pid_t spawn_at(pid_t pid) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    { std::ofstream("/proc/sys/kernel/ns_last_pid") << (pid - 1); }
    pid_t child = fork();
    if (child == 0) {
      execl("/bin/sleep", "sleep", "300", nullptr);
      _exit(127);
    }
    if (child == pid) return child;
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  return -1;
}

pid_t parent_of(pid_t pid) {
  auto st = drover::testing::proc_stat(pid);
  return st ? st->ppid : 0;
}
}  // namespace

TEST(Recovery, RecycledPidIsNotSignalledAfterRestart) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to choose a pid";
  // The monitor and task, orphaned by the agent's kill, become this process's children, so
  // that it reaps them: a zombie keeps its pid, and whether an init that is not systemd (or
  // none, in a container) reaps it soon is not the test's to count on.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  auto dir = make_temp_dir("drover-pidreuse");
  pid_t task = 0, monitor = 0;
  std::string alloc;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    alloc = agent->submit(sh_job("victim", "service", kStartOnce))[0];
    agent->wait_client_status(alloc, "running");
    // The file appears when the task writes it, which may be after "running".
    std::string starts;
    ASSERT_TRUE(wait_for(
        [&] {
          starts = find_file(dir + "/alloc/" + alloc, "starts");
          return !starts.empty() && !read_file(starts).empty();
        },
        std::chrono::seconds(20)));
    task = std::atoi(read_file(starts).c_str());
    monitor = parent_of(task);
    agent->kill(SIGKILL);
  }
  // While the agent is away, the task and its monitor die and strangers take their pids.
  kill(monitor, SIGKILL);
  kill(task, SIGKILL);
  auto gone = [](pid_t pid) { return !std::filesystem::exists("/proc/" + std::to_string(pid)); };
  ASSERT_TRUE(wait_for(
      [&] {
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        return gone(task) && gone(monitor);
      },
      std::chrono::seconds(10)))
      << "the task's and the monitor's pids are still taken";
  pid_t stranger_task = spawn_at(task);
  pid_t stranger_monitor = spawn_at(monitor);
  if (stranger_task < 0 || stranger_monitor < 0) {
    if (stranger_task > 0) kill(stranger_task, SIGKILL), waitpid(stranger_task, nullptr, 0);
    if (stranger_monitor > 0) kill(stranger_monitor, SIGKILL), waitpid(stranger_monitor, nullptr, 0);
    // An agent on the same data dir finds the task gone and removes its cgroup.
    AgentProcess::start({.data_dir = dir});
    GTEST_SKIP() << "could not recreate the pids";
  }
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    agent->del("/v1/job/victim");
    agent->wait_alloc(alloc, [](const json& a) { return a.value("ClientStatus", "") != "running"; });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past kill_timeout
    EXPECT_TRUE(process_alive(stranger_task)) << "an unrelated process at the task's old pid was signalled";
    EXPECT_TRUE(process_alive(stranger_monitor)) << "an unrelated process at the monitor's old pid was signalled";
    EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  }
  kill(stranger_task, SIGKILL);
  kill(stranger_monitor, SIGKILL);
  waitpid(stranger_task, nullptr, 0);
  waitpid(stranger_monitor, nullptr, 0);
}

// The OCI runtime present but failing (docs/threat-model.md, "the OCI runtime is missing or failing"): a runtime that
// cannot even say its version makes exec unhealthy with the runtime's own words on
// /v1/node, and an exec job is refused at submit; one that answers --version but fails every
// container fails the exec task with its error. raw_exec jobs run on either agent.
TEST(Runtime, AFailingRuntimeFailsExecWithItsReasonAndRawExecRunsOn) {
  auto dir = make_temp_dir("drover-badrunc");
  const std::string broken = dir + "/broken-runc", failing = dir + "/failing-runc";
  drover::testing::write_file(broken, "#!/bin/sh\necho 'broken-runc: libseccomp not found' >&2\nexit 1\n");
  drover::testing::write_file(
      failing,
      // As runc does: the error goes to --log as JSON (the reason the agent reports) and to
      // stderr (the task's stderr log).
      "#!/bin/sh\ncase \"$1\" in --version) echo 'runc version 1.1.5'; exit 0;; esac\n"
      "log=/dev/null; prev=\nfor a; do [ \"$prev\" = --log ] && log=$a; prev=$a; done\n"
      "for a; do if [ \"$a\" = run ] || [ \"$a\" = create ]; then\n"
      "  echo '{\"level\":\"error\",\"msg\":\"failing-runc: cannot start container: operation not permitted\"}' >> \"$log\"\n"
      "  echo 'failing-runc: cannot start container: operation not permitted' >&2; exit 1; fi; done\nexit 0\n");
  for (const auto& f : {broken, failing}) ASSERT_EQ(chmod(f.c_str(), 0755), 0);
  auto exec_job = [](const std::string& id) {
    return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n"
           "      restart: {attempts: 0, mode: fail}\n      tasks:\n        - name: t\n"
           "          driver: exec\n          config: {command: /bin/true}\n";
  };
  auto config = [](const std::string& runtime) {
    return "plugin:\n  exec:\n    config:\n      runtime_path: " + runtime + "\n";
  };
  {
    auto agent = AgentProcess::start({.config_yaml = config(broken)});
    auto exec = agent->get("/v1/node").json()["Drivers"]["exec"];
    EXPECT_EQ(exec.value("Healthy", true), false) << exec.dump();
    EXPECT_NE(exec.value("HealthDescription", "").find("libseccomp not found"), std::string::npos)
        << exec.dump();
    auto r = agent->post("/v1/jobs", exec_job("bad-exec"));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("exec"), std::string::npos) << r.body;
    auto ok = agent->submit(sh_job("raw-on", "batch", "echo still-here"));
    ASSERT_EQ(ok.size(), 1u);
    agent->wait_client_status(ok[0], "complete");
  }
  {
    auto agent = AgentProcess::start({.config_yaml = config(failing)});
    auto ids = agent->submit(exec_job("fail-exec"));
    ASSERT_EQ(ids.size(), 1u);
    auto a = agent->wait_client_status(ids[0], "failed");
    std::string messages;
    for (const auto& e : a["TaskStates"]["t"]["Events"]) messages += e.value("DisplayMessage", "") + "\n";
    EXPECT_NE(messages.find("operation not permitted"), std::string::npos) << messages;
    auto ok = agent->submit(sh_job("raw-on2", "batch", "echo still-here"));
    ASSERT_EQ(ok.size(), 1u);
    agent->wait_client_status(ok[0], "complete");
    EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  }
}
