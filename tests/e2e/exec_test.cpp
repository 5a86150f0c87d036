// exec tasks through the agent: the real exec.so, drover-monitor and runc on this machine.
// Isolated (own PID namespace, read-only host dirs, hostname), held to the task's cgroup,
// reachable with `drover alloc exec`, and surviving an agent kill.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using nlohmann::json;

namespace {

std::string job(const std::string& id, const std::string& type, const std::string& script,
                const std::string& extra = "") {
  return "job:\n  id: " + id + "\n  type: " + type +
         "\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n      tasks:\n"
         "        - name: t\n          driver: exec\n          kill_timeout: 2s\n" + extra +
         "          resources: {memory: 64}\n          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"" + script + "\"]\n";
}

bool exec_healthy(const AgentProcess& a) {
  auto node = a.get("/v1/node").json();
  return node["Drivers"].contains("exec") && node["Drivers"]["exec"].value("Healthy", false);
}

}  // namespace

class ExecTasks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "exec needs root";
    agent_ = AgentProcess::start();
    if (!exec_healthy(*agent_)) GTEST_SKIP() << "exec driver not healthy here: " << agent_->get("/v1/node").body;
  }
  std::unique_ptr<AgentProcess> agent_;

  // Submits a job whose one alloc is judged by a single script check; returns that check's
  // result once the alloc's health is decided healthy (failing the test otherwise). The
  // bounds are generous: in the v2 guest (emulated) one `runc exec` takes seconds.
  json healthy_by_its_check(const std::string& job_text) {
    auto ids = agent_->submit(job_text);
    if (ids.size() != 1u) {
      ADD_FAILURE() << "submitted " << ids.size() << " allocs";
      return json();
    }
    auto a = agent_->wait_alloc(ids[0], [](const json& a) { return a["DeploymentStatus"].is_object(); },
                                std::chrono::seconds(90));
    if (!a["DeploymentStatus"].is_object()) {
      ADD_FAILURE() << "no health verdict: " << a.dump(2);
      return json();
    }
    EXPECT_TRUE(a["DeploymentStatus"].value("Healthy", false)) << a["DeploymentStatus"].dump();
    // Judged by the check, not by task states alone.
    EXPECT_EQ(a["DeploymentStatus"].value("Description", ""),
              "all tasks running and checks passing for 300ms");
    auto checks = agent_->get("/v1/client/allocation/" + ids[0] + "/checks").json();
    if (checks.size() != 1u) {
      ADD_FAILURE() << checks.dump(2);
      return json();
    }
    return checks.begin().value();
  }
};

TEST_F(ExecTasks, TaskIsIsolatedButCanWriteItsOwnDirs) {
  auto ids = agent_->submit(job(
      "iso", "batch",
      "echo pid $$; ls /proc | grep -c '^[0-9]'; hostname; "
      "touch /usr/x 2>/dev/null && echo usr-writable || echo usr-readonly; "
      "echo a > /local/f && echo local-ok; echo b > /alloc/data/f && echo alloc-ok; id -u"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  auto out = agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  std::istringstream in(out);
  std::string pid, procs, host, usr, local, alloc, uid;
  std::getline(in, pid);
  std::getline(in, procs);
  std::getline(in, host);
  std::getline(in, usr);
  std::getline(in, local);
  std::getline(in, alloc);
  std::getline(in, uid);
  EXPECT_EQ(pid, "pid 1") << out;
  EXPECT_LE(std::stoi(procs), 3) << "the task sees other processes:\n" << out;
  EXPECT_EQ(host, "t") << out;
  EXPECT_EQ(usr, "usr-readonly") << out;
  EXPECT_EQ(local, "local-ok") << out;
  EXPECT_EQ(alloc, "alloc-ok") << out;
  EXPECT_EQ(uid, "65534") << out;
}

// docs/threat-model.md, "masked paths": what the OCI defaults hide from a task is hidden in a
// real runc container, not only written in its config.json. The kernel files are /dev/null
// bound over them (a character device, empty), /sys/firmware an empty dir, /proc/sys and the
// rest of the read-only paths mounted read-only, and /dev the task's own: none of the host's
// disks, loop devices, kmsg or kvm. Paths this kernel lacks are skipped, as runc skips them.
TEST_F(ExecTasks, KernelFilesAreMaskedProcSysIsReadOnlyAndDevIsTheTasksOwn) {
  auto ids = agent_->submit(job(
      "emask", "batch",
      "for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do "
      "test -e $p && echo mask $p $(stat -c %F $p | tr ' ' _) $(wc -c < $p); done; "
      "echo firmware $(ls -A /sys/firmware | wc -l); "
      "grep -E ' /proc/(sys|sysrq-trigger|irq|bus|fs) ' /proc/self/mountinfo | cut -d' ' -f5,6 | "
      "cut -d, -f1 | sed 's/^/ro /'; echo dev $(ls /dev)"));
  ASSERT_EQ(ids.size(), 1u);
  agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  auto out = agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  std::istringstream in(out);
  std::set<std::string> masked, read_only;
  std::string dev;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string kind, path, what, size;
    words >> kind;
    if (kind == "mask") {
      words >> path >> what >> size;
      EXPECT_EQ(what, "character_special_file") << path << " is not masked:\n" << out;
      EXPECT_EQ(size, "0") << path << " gives the task bytes:\n" << out;
      masked.insert(path);
    } else if (kind == "firmware") {
      words >> size;
      EXPECT_EQ(size, "0") << "/sys/firmware shows entries:\n" << out;
    } else if (kind == "ro") {
      words >> path >> what;
      EXPECT_EQ(what, "ro") << path << " is mounted writable:\n" << out;
      read_only.insert(path);
    } else if (kind == "dev") {
      dev = " " + line.substr(4) + " ";
    }
  }
  // Every one of them this kernel has was seen masked or mounted read-only (this CI kernel
  // has no /proc/kcore and no /proc/sysrq-trigger; /proc/sys every kernel has).
  for (const char* p : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"})
    if (std::filesystem::exists(p)) {
      EXPECT_TRUE(masked.count(p)) << p << " was not looked at:\n" << out;
    }
  EXPECT_TRUE(read_only.count("/proc/sys")) << out;
  for (const char* p : {"/proc/sysrq-trigger", "/proc/irq", "/proc/bus"})
    if (std::filesystem::exists(p)) {
      EXPECT_TRUE(read_only.count(p)) << p << " is not a read-only mount of its own:\n" << out;
    }
  EXPECT_NE(dev.find(" null "), std::string::npos) << out;
  for (const char* host_only : {" kmsg ", " kvm ", " loop0 ", " mem ", " vda ", " sda "})
    EXPECT_EQ(dev.find(host_only), std::string::npos) << "the task sees the host's /dev" << host_only << ":\n" << out;
}

TEST_F(ExecTasks, MemoryLimitKillsAndIsReportedAsOom) {
  auto ids = agent_->submit(job("eoom", "batch", "head -c 300m /dev/zero | tail"));
  auto a = agent_->wait_client_status(ids[0], "failed", std::chrono::seconds(30));
  bool oom = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    oom |= e["Type"] == "Terminated" && e["Details"].value("oom_killed", "") == "true";
  EXPECT_TRUE(oom) << a.dump(2);
}

TEST_F(ExecTasks, MissingCommandIsADriverFailureNotAHang) {
  auto text = job("enone", "batch", "true");
  text.replace(text.find("command: /bin/sh"), 16, "command: /no/such/binary");
  auto ids = agent_->submit(text);
  auto a = agent_->wait_client_status(ids[0], "failed", std::chrono::seconds(20));
  bool driver_failure = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    driver_failure |= e["Type"] == "Driver Failure" &&
                      e["Message"].get<std::string>().find("/no/such/binary") != std::string::npos;
  EXPECT_TRUE(driver_failure) << a.dump(2);
}

TEST_F(ExecTasks, AllocExecRunsACommandInsideTheTask) {
  auto ids = agent_->submit(job("eexec", "service", "echo inside > /local/mark; sleep 1000"));
  agent_->wait_client_status(ids[0], "running", std::chrono::seconds(30));
  const auto mark = agent_->data_dir() + "/alloc/" + ids[0] + "/t/local/mark";
  ASSERT_TRUE(drover::testing::eventually([&] { return std::filesystem::exists(mark); },
                                          std::chrono::seconds(20)))
      << "the task never wrote " << mark;
  auto r = agent_->cli({"alloc", "exec", ids[0].substr(0, 8), "t", "--", "/bin/sh", "-c", "cat /local/mark; echo $$; exit 4"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.out.find("inside"), std::string::npos) << r.out;
  auto bad = agent_->post("/v1/client/allocation/" + ids[0] + "/exec", R"({"Task":"t","Command":[]})", "application/json");
  EXPECT_EQ(bad.status, 400);
}

TEST_F(ExecTasks, RunningTaskSurvivesAnAgentKillAndNothingIsLeftAfterStop) {
  auto dir = make_temp_dir("drover-exec");
  agent_.reset();
  std::string id, log;
  size_t lines_at_kill = 0;
  auto lines = [](const std::string& file) {
    auto text = drover::testing::read_file(file);
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit(job("ekeep", "service", "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done"));
    id = ids[0];
    log = dir + "/alloc/" + id + "/alloc/logs/t.stdout.0";
    agent->wait_client_status(id, "running", std::chrono::seconds(30));
    ASSERT_TRUE(eventually([&] { return lines(log) >= 3; }, std::chrono::seconds(20)))
        << "no output";
    agent->kill(SIGKILL);
    lines_at_kill = lines(log);
  }
  // The task goes on while no agent runs.
  EXPECT_TRUE(eventually([&] { return lines(log) >= lines_at_kill + 3; }, std::chrono::seconds(20)))
      << "the log stopped growing without an agent";
  auto agent = AgentProcess::start({.data_dir = dir});
  agent->wait_client_status(id, "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // time for a wrong restart to show
  auto a = agent->alloc(id);
  EXPECT_EQ(a["ClientStatus"], "running") << a.dump(2);
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 0);
  ASSERT_EQ(agent->del("/v1/job/ekeep").status, 200);
  agent->wait_client_status(id, "complete", std::chrono::seconds(30));
  auto out = agent->get("/v1/client/fs/logs/" + id + "?task=t").body;
  std::istringstream in(out);
  int expect = 0;
  for (std::string line; std::getline(in, line); ++expect) ASSERT_EQ(line, std::to_string(expect)) << out;
  EXPECT_GE(static_cast<size_t>(expect), lines_at_kill + 3)
      << "the log goes on past the agent's kill";
  // No bundle left in the task's runtime dir, no cgroup.
  EXPECT_FALSE(std::filesystem::exists(dir + ".run/tasks/" + id + "/t/bundle"));
  EXPECT_FALSE(std::filesystem::exists(
      drover::testing::task_cgroup_dir(agent->cgroup_parent(), "memory", id + ".t")));
}

TEST_F(ExecTasks, ScriptCheckRunsInsideTheTaskAndDecidesHealth) {
  std::string text =
      "job:\n  id: escript\n  type: service\n  groups:\n    - name: g\n"
      "      update: {health_check: checks, min_healthy_time: 300ms, healthy_deadline: 90s}\n"
      "      tasks:\n        - name: t\n          driver: exec\n          kill_timeout: 1s\n"
      "          resources: {memory: 64}\n          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"sleep 0.5; touch /local/ready; sleep 1000\"]\n"
      "          services:\n            - name: app\n              checks:\n"
      "                - {name: ready, type: script, command: /bin/sh, args: [\"-c\", \"test -f /local/ready && echo ready-inside\"], "
      "interval: 200ms, timeout: 20s}\n";
  auto c = healthy_by_its_check(text);
  EXPECT_NE(c.value("Output", "").find("ready-inside"), std::string::npos) << c.dump(2);
}

// ${NOMAD_ALLOC_DIR} in an isolated task's args and env is the path the task sees, as its own
// env says (it once gave the host's path, which does not exist inside the container).
TEST_F(ExecTasks, InterpolationGivesTheTasksOwnPaths) {
  auto ids = agent_->submit(job("paths", "batch",
                                "echo arg=${NOMAD_ALLOC_DIR} env=$NOMAD_ALLOC_DIR data=$DATA local=${NOMAD_TASK_DIR}",
                                "          env: {DATA: \"${NOMAD_ALLOC_DIR}/data\"}\n"));
  ASSERT_EQ(ids.size(), 1u);
  agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  auto out = agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  EXPECT_EQ(out, "arg=/alloc env=/alloc data=/alloc/data local=/local\n");
}

// Inside the container ${NOMAD_ALLOC_DIR} is /alloc; a template rendered there must land in
// the alloc's shared dir, not in an "alloc" dir under the task's (docs/templates.md, "Paths").
TEST_F(ExecTasks, ATemplateInTheAllocDirIsSeenAtSlashAlloc) {
  auto ids = agent_->submit(job("tplalloc", "batch", "cat /alloc/app.conf /local/own.conf",
                                "          templates:\n"
                                "            - {destination: \"${NOMAD_ALLOC_DIR}/app.conf\", data: \"shared\\n\"}\n"
                                "            - {destination: \"${NOMAD_TASK_DIR}/own.conf\", data: \"own\\n\"}\n"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "complete", std::chrono::seconds(30));
  ASSERT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "shared\nown\n");
}

// The agent decides by what each driver says it can do (its fingerprint's Capabilities), and
// shows it: exec isolates the filesystem and runs tasks as nobody; raw_exec does neither.
TEST_F(ExecTasks, DriversShowTheCapabilitiesTheAgentDecidesBy) {
  auto drivers = agent_->get("/v1/node").json()["Drivers"];
  EXPECT_EQ(drivers["exec"]["Capabilities"].value("FSIsolation", ""), "chroot") << drivers.dump(2);
  EXPECT_EQ(drivers["exec"]["Capabilities"].value("DefaultUser", ""), "nobody");
  EXPECT_EQ(drivers["raw_exec"]["Capabilities"].value("FSIsolation", ""), "none");
  EXPECT_EQ(drivers["raw_exec"]["Capabilities"].value("DefaultUser", "?"), "");
}

// A task inherits no descriptor of the agent's (docs/threat-model.md, "the runtime inherits an open host fd"): its state
// store, sockets, cgroup dirs, the runtime's pipes. What it holds at its first instruction is
// its stdin, stdout and stderr, exec (through runc) and raw_exec alike.
TEST_F(ExecTasks, ATaskStartsWithItsThreeStandardDescriptorsOnly) {
  // Listed by a child (`ls`), so that no descriptor of the listing's own shows in it.
  const std::string script = "ls /proc/$$/fd; readlink /proc/$$/fd/0";
  auto isolated = agent_->submit(job("fds", "batch", script));
  std::string raw = job("rawfds", "batch", script);
  raw.replace(raw.find("driver: exec"), 12, "driver: raw_exec");
  auto host = agent_->submit(raw);
  ASSERT_EQ(isolated.size(), 1u);
  ASSERT_EQ(host.size(), 1u);
  for (const auto& id : {isolated[0], host[0]}) {
    agent_->wait_client_status(id, "complete", std::chrono::seconds(30));
    EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + id + "?task=t").body, "0\n1\n2\n/dev/null\n");
  }
}

// A group service's script check runs in the task it names (Nomad's check `task`), here an
// exec task that is not the group's main one: the file it tests is in that task's /local only.
TEST_F(ExecTasks, AGroupServiceScriptCheckRunsInTheTaskItNames) {
  std::string text =
      "job:\n  id: gscript\n  type: service\n  groups:\n    - name: g\n"
      "      update: {health_check: checks, min_healthy_time: 300ms, healthy_deadline: 90s}\n"
      "      services:\n        - name: app\n          checks:\n"
      "            - {name: db-ready, type: script, task: db, command: /bin/sh, args: [\"-c\", "
      "\"test -f /local/ready && echo ready-in-db\"], interval: 200ms, timeout: 20s}\n"
      "      tasks:\n"
      "        - name: web\n          driver: raw_exec\n          leader: true\n"
      "          config: {command: /bin/sleep, args: [\"1000\"]}\n"
      "        - name: db\n          driver: exec\n          kill_timeout: 1s\n"
      "          resources: {memory: 64}\n          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"sleep 0.3; touch /local/ready; exec sleep 1000\"]\n";
  auto c = healthy_by_its_check(text);
  EXPECT_EQ(c.value("Task", ""), "db") << c.dump(2);
  EXPECT_NE(c.value("Output", "").find("ready-in-db"), std::string::npos) << c.dump(2);
}
