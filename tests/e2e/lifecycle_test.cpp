// Lifecycle order, restart policy, restart/signal requests and garbage collection, end to end.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using nlohmann::json;

namespace {

std::string task(const std::string& name, const std::string& script, const std::string& extra = "") {
  return "        - name: " + name + "\n          driver: raw_exec\n          kill_timeout: 1s\n" + extra +
         "          config:\n            command: /bin/sh\n            args: [\"-c\", \"" + script + "\"]\n";
}

std::string job(const std::string& id, const std::string& type, const std::string& tasks,
                const std::string& restart = "{attempts: 0, mode: fail}") {
  return "job:\n  id: " + id + "\n  type: " + type + "\n  groups:\n    - name: g\n      restart: " +
         restart + "\n      tasks:\n" + tasks;
}

std::string logs(const AgentProcess& a, const std::string& id, const std::string& t) {
  return a.get("/v1/client/fs/logs/" + id + "?task=" + t).body;
}

int count_events(const json& state, const std::string& type) {
  int n = 0;
  for (const auto& e : state["Events"]) n += e["Type"] == type;
  return n;
}

}  // namespace

TEST(Lifecycle, PrestartRunsFirstAndPoststopRunsLast) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job(
      "order", "batch",
      task("main", "test -f $NOMAD_ALLOC_DIR/data/prepared && echo main saw prestart") +
          task("prep", "sleep 0.3; touch $NOMAD_ALLOC_DIR/data/prepared", "          lifecycle: {hook: prestart}\n") +
          task("cleanup", "test -f $NOMAD_ALLOC_DIR/data/prepared && echo cleanup ran",
               "          lifecycle: {hook: poststop}\n")));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(logs(*agent, ids[0], "main"), "main saw prestart\n");
  EXPECT_EQ(logs(*agent, ids[0], "cleanup"), "cleanup ran\n");
  // poststop started only after main finished.
  EXPECT_GE(a["TaskStates"]["cleanup"]["StartedAtNs"].get<int64_t>(),
            a["TaskStates"]["main"]["FinishedAtNs"].get<int64_t>());
}

TEST(Lifecycle, SidecarIsStoppedWhenTheMainTaskEnds) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job(
      "side", "batch",
      task("main", "sleep 0.5; echo done") +
          task("proxy", "while true; do sleep 0.1; done", "          lifecycle: {hook: prestart, sidecar: true}\n")));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  auto& proxy = a["TaskStates"]["proxy"];
  EXPECT_EQ(proxy["State"], "dead");
  EXPECT_FALSE(proxy["Failed"].get<bool>());
  EXPECT_EQ(count_events(proxy, "Main Tasks Dead"), 1) << a.dump(2);
}

TEST(Lifecycle, WhenTheLeaderEndsTheOthersAreStopped) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("lead", "batch",
                               task("boss", "sleep 0.3", "          leader: true\n") +
                                   task("worker", "while true; do sleep 0.1; done")));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "complete");
  EXPECT_EQ(count_events(a["TaskStates"]["worker"], "Leader Task Dead"), 1) << a.dump(2);
}

TEST(Lifecycle, FailModeGivesUpAfterTheAttempts) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("flaky", "batch", task("t", "exit 7"),
                               "{attempts: 2, interval: 10s, delay: 100ms, mode: fail}"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_client_status(ids[0], "failed");
  auto& t = a["TaskStates"]["t"];
  EXPECT_EQ(t["Restarts"], 2);
  EXPECT_EQ(count_events(t, "Restarting"), 2);
  EXPECT_EQ(count_events(t, "Not Restarting"), 1) << a.dump(2);
  EXPECT_EQ(count_events(t, "Terminated"), 3);
}

TEST(Lifecycle, DelayModeWaitsForTheIntervalInsteadOfFailing) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("patient", "batch", task("t", "exit 1"),
                               "{attempts: 1, interval: 30s, delay: 100ms, mode: delay}"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    return count_events(a["TaskStates"]["t"], "Restarting") == 2;
  });
  auto& t = a["TaskStates"]["t"];
  EXPECT_EQ(t["State"], "pending");
  EXPECT_EQ(count_events(t, "Not Restarting"), 0);
  EXPECT_NE(t["Events"].back()["Details"]["restart_reason"].get<std::string>().find("Exceeded"),
            std::string::npos)
      << a.dump(2);
  EXPECT_NE(a["ClientStatus"], "failed");
}

TEST(Lifecycle, RestartRequestRestartsTheTaskWithoutCountingAFailure) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("svc", "service", task("t", "echo start $$; while true; do sleep 0.1; done")));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  auto r = agent->post("/v1/client/allocation/" + ids[0] + "/restart", R"({"TaskName":"t"})", "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    auto& t = a["TaskStates"]["t"];
    return t["Restarts"] == 1 && t["State"] == "running";
  });
  EXPECT_EQ(count_events(a["TaskStates"]["t"], "Restart Signaled"), 1);
  // The second start's line, once the restarted shell has written it.
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    out = logs(*agent, ids[0], "t");
    if (std::count(out.begin(), out.end(), '\n') >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_EQ(agent->post("/v1/client/allocation/" + ids[0] + "/restart", R"({"TaskName":"nope"})",
                        "application/json").status, 404);  // no such task in the alloc
}

TEST(Lifecycle, SignalReachesTheTask) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("sig", "service",
                               task("t", "trap 'echo got usr1' USR1; while true; do sleep 0.1; done")));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto r = agent->post("/v1/client/allocation/" + ids[0] + "/signal", R"({"Task":"t","Signal":"SIGUSR1"})",
                       "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 50 && logs(*agent, ids[0], "t").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(logs(*agent, ids[0], "t"), "got usr1\n");
  EXPECT_EQ(count_events(agent->alloc(ids[0])["TaskStates"]["t"], "Signaling"), 1);
}

// Nomad's group max_run_duration (docs/jobspec.md, "groups"): past it the main task is killed
// with Nomad's reason, a poststop task that had not started never does, and the alloc is
// complete (not failed: nothing reschedules it), its desired status still run.
TEST(MaxRunDuration, TheAllocIsKilledAndCompleteAndPoststopIsSkipped) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit("job:\n  id: capped\n  type: batch\n  groups:\n    - name: g\n"
                           "      max_run_duration: 2s\n      restart: {attempts: 0, mode: fail}\n"
                           "      tasks:\n" +
                           task("main", "echo started; exec sleep 300") +
                           task("after", "echo ran", "          lifecycle: {hook: poststop}\n"));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_alloc(ids[0], [](const json& a) { return a["TaskStates"]["main"]["State"] == "running"; });
  auto a = agent->wait_client_status(ids[0], "complete", std::chrono::seconds(60));
  ASSERT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(a["ClientDescription"], "allocation exceeded max_run_duration") << a.dump(2);
  EXPECT_EQ(a["DesiredStatus"], "run") << a.dump(2);
  bool killing = false;
  for (const auto& e : a["TaskStates"]["main"]["Events"])
    killing = killing || (e["Type"] == "Killing" &&
                          e["DisplayMessage"].get<std::string>().find("max_run_duration") != std::string::npos);
  EXPECT_TRUE(killing) << a["TaskStates"]["main"].dump(2);
  EXPECT_EQ(a["TaskStates"]["after"]["State"], "dead");
  EXPECT_EQ(count_events(a["TaskStates"]["after"], "Started"), 0) << a["TaskStates"]["after"].dump(2);
  EXPECT_EQ(logs(*agent, ids[0], "after"), "");
}

// The deadline is the alloc's create time plus the duration: an agent down across it kills the
// task as soon as it is back, rather than granting a fresh duration.
TEST(MaxRunDuration, TheDeadlineHoldsAcrossAnAgentRestart) {
  const std::string dir = drover::testing::make_temp_dir("drover-maxrun");
  std::string id;
  {
    auto agent = AgentProcess::start({.data_dir = dir});
    auto ids = agent->submit("job:\n  id: capped\n  type: batch\n  groups:\n    - name: g\n"
                             "      max_run_duration: 3s\n      tasks:\n" +
                             task("main", "exec sleep 300"));
    ASSERT_EQ(ids.size(), 1u);
    id = ids[0];
    agent->wait_client_status(id, "running");
    agent->kill(SIGKILL);
  }
  // The deadline passes with no agent (the task runs on): it was at most 3 s from now.
  std::this_thread::sleep_until(std::chrono::system_clock::now() + std::chrono::seconds(3));
  auto agent = AgentProcess::start({.data_dir = dir});
  auto a = agent->wait_client_status(id, "complete", std::chrono::seconds(30));
  EXPECT_EQ(a["ClientDescription"], "allocation exceeded max_run_duration") << a.dump(2);
}

TEST(GarbageCollection, TerminalAllocIsRemovedWithItsDirsAndALiveOneIsRefused) {
  auto agent = AgentProcess::start();
  auto done = agent->submit(job("once", "batch", task("t", "echo hi")));
  auto live = agent->submit(job("svc", "service", task("t", "while true; do sleep 0.1; done")));
  agent->wait_client_status(done[0], "complete");
  agent->wait_client_status(live[0], "running");
  EXPECT_EQ(agent->post("/v1/client/allocation/" + live[0] + "/gc", "").status, 400);
  ASSERT_EQ(agent->post("/v1/client/allocation/" + done[0] + "/gc", "").status, 200);
  EXPECT_EQ(agent->get("/v1/allocation/" + done[0]).status, 404);
  struct stat st {};
  EXPECT_NE(stat((agent->data_dir() + "/alloc/" + done[0]).c_str(), &st), 0);
  EXPECT_NE(stat((agent->runtime_dir() + "/tasks/" + done[0]).c_str(), &st), 0);
  EXPECT_EQ(agent->alloc(live[0])["ClientStatus"], "running");
  EXPECT_EQ(stat((agent->runtime_dir() + "/tasks/" + live[0] + "/t").c_str(), &st), 0);
}

// A running task's monitor keeps its socket, pid file and exit record in the task's runtime
// dir (tmpfs by intent, docs/design.md "Runtime state"), private from runtime_dir/tasks down;
// nothing of it is written under the data dir.
TEST(RuntimeState, AMonitoredTasksFilesAreInItsPrivateRuntimeDirAndNoneInTheDataDir) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("rt", "service", task("t", "sleep 1000")));
  agent->wait_client_status(ids[0], "running");
  const std::string tasks = agent->runtime_dir() + "/tasks", dir = tasks + "/" + ids[0] + "/t";
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(dir + "/monitor.pid"); },
                         std::chrono::seconds(30)));
  EXPECT_TRUE(std::filesystem::is_socket(dir + "/monitor.sock"));
  for (const auto& d : {tasks, tasks + "/" + ids[0], dir})
    EXPECT_EQ(std::filesystem::status(d).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_all) << d;
  EXPECT_FALSE(std::filesystem::exists(agent->data_dir() + "/tasks/" + ids[0]));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"monitor.pid", "monitor.sock"}))
      << "the env never reaches a file";
}

TEST(GarbageCollection, KeepsAtMostGcMaxAllocsTerminalAllocs) {
  // The count rule alone: the disk rule (80 % by default) would take every terminal alloc on a
  // build machine whose disk is that full.
  auto agent = AgentProcess::start(
      {.config_yaml = "gc_interval: 1s\ngc_max_allocs: 1\ngc_disk_usage_threshold: 100\n"});
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto one = agent->submit(job("b" + std::to_string(i), "batch", task("t", "true")));
    agent->wait_client_status(one[0], "complete");
    ids.push_back(one[0]);
  }
  for (int i = 0; i < 60 && agent->get("/v1/allocations").json().size() > 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto left = agent->get("/v1/allocations").json();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0]["ID"], ids.back());  // the newest is kept
}

// `drover job restart` (Nomad's): every running alloc of the job restarted in place, in
// batches (here 2 of 3 allocs, then 1), each batch running again before the next; the allocs
// keep their ids; -task names one task; an unknown group or task is refused naming it.
TEST(Lifecycle, JobRestartRestartsEveryRunningAllocInBatches) {
  auto agent = AgentProcess::start();
  std::string text = job("rolling", "service", task("t", "sleep 1000") + task("side", "sleep 1000"));
  text.replace(text.find("      restart:"), 0, "      count: 3\n");
  auto ids = agent->submit(text);
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& id : ids) agent->wait_client_status(id, "running");
  auto r = agent->cli({"job", "restart", "-batch-size", "50%", "-batch-wait", "100ms", "rolling"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Restarting batch 1 of 2 (2 allocations)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Restarting batch 2 of 2 (1 allocation)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Job restart finished"), std::string::npos) << r.out;
  // Done means running again: no wait needed after the command.
  for (const auto& id : ids) {
    auto a = agent->alloc(id);
    EXPECT_EQ(a["ClientStatus"], "running");
    for (const char* t : {"t", "side"}) {
      EXPECT_EQ(a["TaskStates"][t]["Restarts"], 1) << id << " " << t;
      EXPECT_EQ(a["TaskStates"][t]["State"], "running") << id << " " << t;
    }
  }
  auto one = agent->cli({"job", "restart", "-task", "side", "-batch-size", "3", "rolling"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  for (const auto& id : ids) {
    auto a = agent->alloc(id);
    EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 1) << id;
    EXPECT_EQ(a["TaskStates"]["side"]["Restarts"], 2) << id;
  }
  // Nomad's JobSummary, and `job status`'s Summary table from it.
  auto summary = agent->get("/v1/job/rolling/summary").json();
  EXPECT_EQ(summary["Summary"]["g"], json({{"Queued", 0}, {"Starting", 0}, {"Running", 3}, {"Failed", 0},
                                            {"Complete", 0}, {"Lost", 0}, {"Unknown", 0}}))
      << summary.dump();
  auto status = agent->cli({"job", "status", "rolling"});
  EXPECT_NE(status.out.find("Summary\nTask Group  Queued  Starting  Running  Failed  Complete  Lost  "
                            "Unknown\ng           0       0         3        0       0         0     "
                            "0\n"),
            std::string::npos)
      << status.out;
  // `job allocs`: the three allocs, each still running with its own id.
  auto listed = agent->cli({"job", "allocs", "rolling"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  for (const auto& id : ids) EXPECT_NE(listed.out.find(id.substr(0, 8) + "  g "), std::string::npos) << listed.out;
  auto bad_group = agent->cli({"job", "restart", "-group", "web", "rolling"});
  EXPECT_EQ(bad_group.exit_code, 1);
  EXPECT_NE(bad_group.err.find("group \"web\" not found in job \"rolling\""), std::string::npos) << bad_group.err;
  auto bad_task = agent->cli({"job", "restart", "-task", "nope", "rolling"});
  EXPECT_EQ(bad_task.exit_code, 1);
  EXPECT_NE(bad_task.err.find("task \"nope\" not found"), std::string::npos) << bad_task.err;
}

TEST(Lifecycle, CliRestartsAndSignalsTasksByAllocPrefix) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("cli", "service",
                               task("t", "trap 'echo got term-less usr2' USR2; while true; do sleep 0.1; done")));
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_client_status(ids[0], "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto sig = agent->cli({"alloc", "signal", "-s", "SIGUSR2", ids[0].substr(0, 8), "t"});
  EXPECT_EQ(sig.exit_code, 0) << sig.err;
  auto restart = agent->cli({"alloc", "restart", ids[0].substr(0, 8)});
  EXPECT_EQ(restart.exit_code, 0) << restart.err;
  auto a = agent->wait_alloc(ids[0], [](const json& a) {
    return a["TaskStates"]["t"]["Restarts"] == 1 && a["TaskStates"]["t"]["State"] == "running";
  });
  EXPECT_EQ(count_events(a["TaskStates"]["t"], "Signaling"), 1);
  auto bad = agent->cli({"alloc", "restart", ids[0], "nope"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("nope"), std::string::npos) << bad.err;
}
