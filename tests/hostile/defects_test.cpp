// Defects found by trying to break the agent (docs/security.md, "Tasks and records"): each
// test drives the real agent with the input or fault that once broke it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::hostile::line_count;
using drover::hostile::sh_job;
using drover::hostile::wait_for;
using drover::testing::AgentProcess;
using drover::testing::make_temp_dir;
using drover::testing::process_alive;
using drover::testing::read_file;
using nlohmann::json;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A raw_exec job running `command` directly.
std::string command_job(const std::string& id, const std::string& command) {
  return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n"
         "      restart: {attempts: 0, mode: fail}\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          resources: {cpu: 10, memory: 32}\n"
         "          config:\n            command: " + json(command).dump() + "\n";
}

}  // namespace

// A command of 600 two-byte characters: the monitor's error message about it is cut by bytes.
// It once split a character, the store's JSON writer threw on the runner thread and the agent
// aborted, again on every restart that recovered the alloc.
TEST(Utf8, AMessageCutInsideACharacterFailsTheTaskAndNotTheAgent) {
  auto dir = make_temp_dir("drover-utf8");
  std::string alloc_id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    alloc_id = agent->submit(command_job("utf8", "/x" + repeat("\xC3\xA9", 600)))[0];
    // The reply parses as JSON: every string in it is UTF-8.
    auto a = agent->wait_client_status(alloc_id, "failed");
    ASSERT_TRUE(agent->running()) << agent->log();
    std::string msg;
    for (const auto& e : a["TaskStates"]["t"]["Events"])
      if (e.value("Type", "") == "Driver Failure") msg = e.value("DisplayMessage", e.value("Message", ""));
    EXPECT_NE(msg.find("/x\xC3\xA9"), std::string::npos) << a.dump(2);
    EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
    agent->kill(SIGTERM);
  }
  // The recovered alloc does not take the agent down either.
  auto again = AgentProcess::start({.data_dir = dir});
  EXPECT_EQ(again->alloc(alloc_id).value("ClientStatus", ""), "failed");
  EXPECT_TRUE(again->running()) << again->log();
}

// A second agent on the same cgroup parent (a `-dev` agent beside a production one, both with
// the default parent) once removed the first one's task cgroups as orphans, killing its tasks.
TEST(SecondAgent, OnTheSameCgroupParentLeavesTheFirstAgentsTasksAlone) {
  const std::string parent = "drover-test-shared-" + std::to_string(getpid());
  auto first = AgentProcess::start({.cgroup_parent = parent});
  auto flag = make_temp_dir("drover-second") + "/pid";
  auto ids = first->submit(sh_job("keep", "service", "echo $$ > " + flag + "; exec sleep 300"));
  first->wait_client_status(ids[0], "running");
  ASSERT_TRUE(wait_for([&] { return !read_file(flag).empty(); }, std::chrono::seconds(10)));
  pid_t pid = std::atoi(read_file(flag).c_str());
  {
    auto second = AgentProcess::start({.cgroup_parent = parent});
    // Its start-up cleanup is done once it answers; the first agent's task still runs.
    EXPECT_TRUE(process_alive(pid)) << second->log();
    EXPECT_NE(second->log().find("another agent"), std::string::npos) << second->log();
    second->kill(SIGTERM);  // the harness would stop the tasks under its parent: the same one
  }
  EXPECT_TRUE(process_alive(pid));
  EXPECT_EQ(first->alloc(ids[0]).value("ClientStatus", ""), "running");
}

// `drover agent -dev` with no data dir of its own gets a cgroup parent named after its node,
// and leaves none of it behind when it stops.
TEST(SecondAgent, DevAgentWithATempDataDirHasACgroupParentOfItsOwn) {
  auto log = make_temp_dir("drover-devparent") + "/agent.log";
  int port = drover::testing::free_loopback_port();
  auto agent = drover::hostile::spawn_agent({"-dev", "-port", std::to_string(port), "-plugin-dir", DROVER_PLUGIN_DIR}, log);
  std::string parent;
  httplib::Client http("127.0.0.1", port);
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = http.Get("/v1/node");
        if (!r || r->status != 200) return false;
        auto j = json::parse(r->body, nullptr, false);
        if (!j.is_object() || !j.contains("Attributes")) return false;
        parent = j["Attributes"].value("unique.cgroup.parent", "");
        return true;
      },
      std::chrono::seconds(15)))
      << agent.log();
  EXPECT_EQ(parent.rfind("drover-dev-", 0), 0u) << parent;
  auto dirs = drover::testing::parent_cgroup_dirs(parent);
  int here = 0;
  for (const auto& d : dirs) here += std::filesystem::exists(d);
  EXPECT_GT(here, 0) << "no parent cgroup dir found for " << parent;
  ::kill(agent.pid, SIGTERM);
  int status = 0;
  ASSERT_TRUE(wait_for([&] { return waitpid(agent.pid, &status, WNOHANG) == agent.pid; },
                       std::chrono::seconds(30)));
  agent.pid = -1;
  for (const auto& d : dirs) EXPECT_FALSE(std::filesystem::exists(d)) << d << "\n" << agent.log();
}

// With the data dir full when a batch task ended, the store kept it running with no handle,
// and the agent started it again after a restart.
TEST(FullDisk, ABatchTaskThatEndedWhileTheDiskWasFullIsNotRunAgain) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs";
  auto mnt = make_temp_dir("drover-full-exit");
  ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m"), 0) << strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};
  auto outside = make_temp_dir("drover-full-exit-out");
  auto data = mnt + "/data";
  std::string alloc_id;
  {
    auto agent = AgentProcess::start({.data_dir = data});
    alloc_id = agent->submit(sh_job("once", "batch",
                                    "echo $$ >> " + outside + "/starts; "
                                    "while [ ! -e " + outside + "/go ]; do sleep 0.05; done"))[0];
    agent->wait_client_status(alloc_id, "running");
    drover::hostile::sh("dd if=/dev/zero of=" + mnt + "/fill bs=4k >/dev/null 2>&1");
    drover::testing::write_file(outside + "/go", "");
    // The task ends while nothing can be written; the agent is then killed before it can.
    ASSERT_TRUE(wait_for([&] { return !process_alive(std::atoi(read_file(outside + "/starts").c_str())); },
                         std::chrono::seconds(10)));
    // The fault happened: the end of the task could not be written.
    EXPECT_TRUE(wait_for([&] { return agent->log().find("full") != std::string::npos; }, std::chrono::seconds(10)))
        << agent->log();
    agent->kill(SIGKILL);
  }
  std::filesystem::remove(mnt + "/fill");
  auto agent = AgentProcess::start({.data_dir = data});
  auto a = agent->wait_alloc(alloc_id, [](const json& a) {
    auto s = a.value("ClientStatus", "");
    return s == "complete" || s == "failed";
  });
  auto s = a.value("ClientStatus", "");
  EXPECT_TRUE(s == "complete" || s == "failed") << a.dump(2);
  EXPECT_EQ(line_count(read_file(outside + "/starts")), 1) << "the batch task ran twice";
}

// A prestart task (not a sidecar) that succeeds is done, in a service job too; it was
// restarted, and the main task never started.
TEST(Lifecycle, ASuccessfulPrestartTaskInAServiceJobIsDoneAndMainStarts) {
  auto agent = AgentProcess::start();
  auto dir = make_temp_dir("drover-prestart");
  std::string job =
      "job:\n  id: init\n  type: service\n  groups:\n    - name: g\n"
      "      restart: {attempts: 3, delay: 50ms, mode: fail}\n      tasks:\n"
      "        - name: init\n          driver: raw_exec\n          lifecycle: {hook: prestart}\n"
      "          resources: {cpu: 10, memory: 32}\n          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"echo x >> " + dir + "/init-runs\"]\n"
      "        - name: main\n          driver: raw_exec\n          kill_timeout: 1s\n"
      "          resources: {cpu: 10, memory: 32}\n          config:\n            command: /bin/sleep\n"
      "            args: [\"300\"]\n";
  auto id = agent->submit(job)[0];
  auto a = agent->wait_alloc(id, [](const json& a) {
    return a["TaskStates"]["main"].value("State", "") == "running";
  });
  ASSERT_EQ(a["TaskStates"]["main"].value("State", ""), "running") << a.dump(2);
  EXPECT_EQ(a["TaskStates"]["init"].value("State", ""), "dead");
  EXPECT_FALSE(a["TaskStates"]["init"].value("Failed", true));
  EXPECT_EQ(a["TaskStates"]["init"].value("Restarts", -1), 0);
  EXPECT_EQ(line_count(read_file(dir + "/init-runs")), 1);
}

TEST(Jobs, AGroupOfOnlyLifecycleTasksIsRefusedNamingTheField) {
  auto agent = AgentProcess::start();
  std::string job =
      "job:\n  id: sidecars\n  type: service\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: side\n          driver: raw_exec\n          lifecycle: {hook: prestart, sidecar: true}\n"
      "          config:\n            command: /bin/sleep\n            args: [\"300\"]\n";
  auto r = agent->post("/v1/jobs", job);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("groups[0].tasks"), std::string::npos) << r.body;
  EXPECT_EQ(agent->get("/v1/allocations").json().size(), 0u);
}

TEST(KillSignal, AnUnknownNameIsRefusedAtSubmit) {
  auto agent = AgentProcess::start();
  auto job = sh_job("sigfoo", "service", "exec sleep 300");
  job.replace(job.find("kill_timeout: 1s"), 16, "kill_timeout: 1s\n          kill_signal: SIGFOO");
  auto r = agent->post("/v1/jobs", job);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("kill_signal"), std::string::npos) << r.body;
  EXPECT_EQ(agent->get("/v1/allocations").json().size(), 0u);
}

TEST(KillSignal, ARealTimeSignalIsAcceptedAndSentAtStop) {
  auto agent = AgentProcess::start();
  auto out = make_temp_dir("drover-rtsig") + "/got";
  // glibc's SIGRTMIN is 34 (two are its own): SIGRTMIN+1 is 35.
  ASSERT_EQ(SIGRTMIN + 1, 35);
  auto job = sh_job("rt", "service",
                    "trap 'echo rt > " + out + "; exit 0' 35; echo ready > " + out +
                        ".ready; while :; do sleep 0.05; done");
  job.replace(job.find("kill_timeout: 1s"), 16, "kill_timeout: 5s\n          kill_signal: SIGRTMIN+1");
  auto ids = agent->submit(job);
  agent->wait_client_status(ids[0], "running");
  ASSERT_TRUE(wait_for([&] { return !read_file(out + ".ready").empty(); }, std::chrono::seconds(10)));
  ASSERT_EQ(agent->del("/v1/job/rt").status, 200);
  agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(read_file(out), "rt\n");
}

TEST(AllocExec, AnArgumentWithANulIsRefused) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("exec-nul", "service", "exec sleep 300"));
  agent->wait_client_status(ids[0], "running");
  json body = {{"Task", "t"}, {"Command", {"/bin/echo", std::string("a\0b", 3)}}};
  auto r = agent->post("/v1/client/allocation/" + ids[0] + "/exec", body.dump(), "application/json");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Command[1]"), std::string::npos) << r.body;
}
