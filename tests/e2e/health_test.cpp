// Alloc health and checks, end to end: the real agent decides healthy or unhealthy with
// Nomad's update semantics, runs http checks against a real server, and check_restart
// restarts a task whose check keeps failing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string job(const std::string& id, const std::string& script, const std::string& update,
                const std::string& services = "",
                const std::string& restart = "{attempts: 0, mode: fail}") {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      restart: " + restart +
         "\n      update: " + update +
         "\n      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: "
         "1s\n"
         "          config:\n            command: /bin/sh\n            args: [\"-c\", \"" +
         script + "\"]\n" + services;
}

json wait_health(const AgentProcess& a, const std::string& id, std::chrono::milliseconds t = 15s) {
  return a.wait_alloc(
      id, [](const json& j) { return j["DeploymentStatus"].is_object(); }, t);
}

}  // namespace

TEST(Health, ATaskThatStaysUpTurnsHealthy) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("up", "sleep 60",
                               "{health_check: task_states, min_healthy_time: 500ms, "
                               "healthy_deadline: 10s}"));
  auto a = wait_health(*agent, ids[0]);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_TRUE(a["DeploymentStatus"]["Healthy"].get<bool>()) << a.dump(2);
  EXPECT_EQ(a["DeploymentStatus"]["Description"], "all tasks running for 500ms");
  EXPECT_FALSE(a["DeploymentStatus"]["Timestamp"].get<std::string>().empty());
}

TEST(Health, ATaskThatCrashesIsUnhealthyWithTheReason) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      job("crash", "sleep 0.2; exit 3", "{min_healthy_time: 2s, healthy_deadline: 20s}"));
  auto a = wait_health(*agent, ids[0]);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_FALSE(a["DeploymentStatus"]["Healthy"].get<bool>());
  EXPECT_EQ(a["DeploymentStatus"]["Description"], "task \"t\" failed");
}

TEST(Health, AnHttpCheckMakesItHealthyOnlyOnceItPasses) {
  int port = drover::testing::free_loopback_port();
  auto agent = AgentProcess::start();
  std::string services =
      "          services:\n            - name: web\n              port: \"127.0.0.1:" +
      std::to_string(port) +
      "\"\n              checks:\n                - {name: root, type: http, path: /index.html, "
      "interval: 200ms, timeout: 1s}\n";
  auto ids = agent->submit(job("web",
                               "echo hello > $NOMAD_TASK_DIR/index.html; sleep 2; exec busybox "
                               "httpd -f -p 127.0.0.1:" +
                                   std::to_string(port) + " -h $NOMAD_TASK_DIR",
                               "{min_healthy_time: 500ms, healthy_deadline: 20s}", services));
  // While the server is not up yet the check fails and the alloc is not healthy.
  auto running = agent->wait_alloc(
      ids[0], [](const json& j) { return j["TaskStates"]["t"]["State"] == "running"; });
  std::this_thread::sleep_for(1200ms);
  auto checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  ASSERT_EQ(checks.size(), 1u) << checks.dump(2);
  auto c = checks.begin().value();
  EXPECT_EQ(c["Status"], "failure") << c.dump(2);
  EXPECT_EQ(c["Check"], "root");
  EXPECT_EQ(c["Task"], "t");
  EXPECT_TRUE(agent->alloc(ids[0])["DeploymentStatus"].is_null());

  auto a = wait_health(*agent, ids[0]);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_TRUE(a["DeploymentStatus"]["Healthy"].get<bool>()) << a.dump(2);
  EXPECT_EQ(a["DeploymentStatus"]["Description"], "all tasks running and checks passing for 500ms");
  checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  c = checks.begin().value();
  EXPECT_EQ(c["Status"], "success") << c.dump(2);
  EXPECT_EQ(c["StatusCode"], 200);
  EXPECT_NE(c["Output"].get<std::string>().find("hello"), std::string::npos) << c.dump(2);
  // `drover alloc checks`, Nomad's: the same result as key = value lines, by id prefix.
  auto shown = agent->cli({"alloc", "checks", ids[0].substr(0, 8)});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.rfind("Status of 1 Nomad Service Checks\n\n", 0), 0u) << shown.out;
  for (const std::string line : {"= root\n", "= web\n", "= success\n", "StatusCode = 200\n", "= healthiness\n"})
    EXPECT_NE(shown.out.find(line), std::string::npos) << line << " in\n" << shown.out;
  EXPECT_EQ(agent->cli({"alloc", "checks", "ffffffff"}).exit_code, 1);
}

// Nomad's on_update = "ignore" (a readiness check): its failure does not hold the alloc's
// health back, and `alloc checks` says readiness; the other check still must pass.
TEST(Health, AFailingCheckWithOnUpdateIgnoreDoesNotHoldHealthBack) {
  const int closed = drover::testing::free_loopback_port();
  auto agent = AgentProcess::start();
  std::string services =
      "          services:\n            - name: db\n              port: \"127.0.0.1:" +
      std::to_string(closed) +
      "\"\n              checks:\n                - {name: ready, type: tcp, interval: 200ms, "
      "timeout: 200ms, on_update: ignore}\n"
      "                - {name: alive, type: script, command: /bin/true, interval: 200ms, "
      "timeout: 1s}\n";
  auto ids = agent->submit(
      job("ready", "sleep 60", "{min_healthy_time: 500ms, healthy_deadline: 20s}", services));
  auto a = wait_health(*agent, ids[0]);
  ASSERT_TRUE(a["DeploymentStatus"].is_object()) << a.dump(2);
  EXPECT_TRUE(a["DeploymentStatus"]["Healthy"].get<bool>()) << a.dump(2);
  auto checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  bool seen = false;
  for (const auto& [id, c] : checks.items())
    if (c["Check"] == "ready") {
      seen = true;
      EXPECT_EQ(c["Status"], "failure") << c.dump(2);
      EXPECT_EQ(c["Mode"], "readiness") << c.dump(2);
    }
  EXPECT_TRUE(seen) << checks.dump(2);
}

TEST(Health, CheckRestartRestartsATaskWhoseCheckKeepsFailing) {
  int port = drover::testing::free_loopback_port();  // nothing listens there
  auto agent = AgentProcess::start();
  std::string services =
      "          services:\n            - name: db\n              port: \"" + std::to_string(port) +
      "\"\n              checks:\n                - {type: tcp, interval: 200ms, timeout: 200ms, "
      "check_restart: {limit: 3, grace: 200ms}}\n";
  auto ids = agent->submit(job("flap", "sleep 60", "{health_check: manual}", services,
                               "{attempts: 5, interval: 1m, delay: 0s, mode: fail}"));
  // Restarted again once its check fails again, not only the first time: the health watcher,
  // which looks again only at allocs that changed, sees the restart and runs the check anew.
  auto a = agent->wait_alloc(ids[0], [](const json& j) {
    return j["TaskStates"]["t"]["Restarts"].get<int>() >= 2 &&
           j["TaskStates"]["t"]["State"] == "running";
  });
  EXPECT_GE(a["TaskStates"]["t"]["Restarts"].get<int>(), 2) << a.dump(2);
  // manual: the agent never decides health.
  EXPECT_TRUE(a["DeploymentStatus"].is_null());
  auto checks = agent->get("/v1/client/allocation/" + ids[0] + "/checks").json();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks.begin().value()["Status"], "failure");
  EXPECT_NE(checks.begin().value()["Output"].get<std::string>().find("refused"), std::string::npos);
}

TEST(Observability, MetricsAndEventStreamShowTheAlloc) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("seen", "sleep 60",
                               "{health_check: task_states, min_healthy_time: 300ms, "
                               "healthy_deadline: 10s}"));
  wait_health(*agent, ids[0]);
  auto m = agent->get("/v1/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("drover_allocs{client_status=\"running\"} 1\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("drover_tasks_running 1\n"), std::string::npos);
  EXPECT_NE(
      m.body.find("drover_task_running{alloc_id=\"" + ids[0] + "\",job=\"seen\",task=\"t\"} 1"),
      std::string::npos);
  EXPECT_NE(m.body.find("drover_alloc_healthy{alloc_id=\"" + ids[0] + "\",job=\"seen\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("drover_upstream_connected 1"), std::string::npos);
  // The stream from index 1 replays what happened, then is cut by curl's timeout.
  auto cmd = "curl -sN -m 2 '" + agent->address() +
             "/v1/event/stream?index=1&topic=health&topic=task' 2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  EXPECT_NE(out.find("\"Type\":\"AllocHealthy\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"Type\":\"Started\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"Topic\":\"alloc\""), std::string::npos) << "filtered by topic";
}

// The wall clock stepping forward (NTP, a VM resumed) must not make time pass for the agent's
// timers: min_healthy_time runs on the monotonic clock (docs/threat-model.md, "the wall clock
// jumps"). The agent runs under libfaketime (Debian's faketime) with only its wall clock
// faked, moved 3 hours ahead while an alloc waits out an hour of min_healthy_time. Another
// alloc turning healthy after the jump shows the health watcher has run since.
TEST(Health, AWallClockJumpDoesNotShortenMinHealthyTime) {
  const std::string lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
  if (!std::filesystem::exists(lib)) GTEST_SKIP() << "faketime is not installed (scripts/setup.sh)";
  const std::string offset = drover::testing::make_temp_dir("drover-clock") + "/offset";
  drover::testing::write_file(offset, "+0\n");
  const std::pair<const char*, std::string> faked[] = {{"LD_PRELOAD", lib},
                                                       {"FAKETIME_TIMESTAMP_FILE", offset},
                                                       {"FAKETIME_NO_CACHE", "1"},
                                                       {"DONT_FAKE_MONOTONIC", "1"}};
  for (const auto& [k, v] : faked) setenv(k, v.c_str(), 1);
  auto agent = AgentProcess::start();  // inherits them; nothing else this test starts does
  for (const auto& [k, v] : faked) unsetenv(k);
  auto slow = agent->submit(job("slow", "sleep 1000",
                                "{health_check: task_states, min_healthy_time: 1h, healthy_deadline: 2h}"));
  ASSERT_EQ(slow.size(), 1u);
  agent->wait_alloc(slow[0], [](const json& j) { return j["TaskStates"]["t"]["State"] == "running"; });

  drover::testing::write_file(offset, "+3h\n");
  const auto real_now = std::chrono::system_clock::now().time_since_epoch();
  auto quick = agent->submit(job("quick", "sleep 1000",
                                 "{health_check: task_states, min_healthy_time: 200ms, healthy_deadline: 1m}"));
  ASSERT_EQ(quick.size(), 1u);
  auto q = wait_health(*agent, quick[0]);
  ASSERT_TRUE(q["DeploymentStatus"].is_object()) << q.dump(2);
  EXPECT_TRUE(q["DeploymentStatus"]["Healthy"].get<bool>());
  // The jump reached the agent: what it stamps now is hours ahead of this process's clock.
  const auto created = std::chrono::nanoseconds(q["CreateTime"].get<int64_t>());
  EXPECT_GT(created - real_now, std::chrono::hours(2)) << q["CreateTime"];
  auto s = agent->alloc(slow[0]);
  EXPECT_TRUE(s["DeploymentStatus"].is_null()) << s.dump(2);
  EXPECT_EQ(s["ClientStatus"], "running");
}
