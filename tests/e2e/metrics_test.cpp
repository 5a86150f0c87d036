// /v1/metrics of the real agent, read by Prometheus's own checker: `promtool check metrics`
// (Debian's prometheus package, installed by scripts/setup.sh) parses the exposition and lints
// it (names, units, counter suffixes, HELP). Skipped only where promtool is not installed.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct CheckResult {
  int status = -1;
  std::string output;
};

// Runs `promtool check metrics` on `exposition` (its stdin) and returns its exit status and
// everything it printed.
CheckResult promtool_check(const std::string& exposition) {
  char path[] = "/tmp/drover-metrics-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << exposition;
  CheckResult r;
  std::string cmd = std::string("promtool check metrics <") + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  ::unlink(path);
  return r;
}

}  // namespace

TEST(Metrics, AgentMetricsPassPromtoolCheck) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool is not installed (Debian's prometheus package; scripts/setup.sh)";
  auto agent = AgentProcess::start();
  // A running, healthy alloc, so that every family has samples with labels.
  auto ids = agent->submit(
      "job:\n  id: scraped\n  type: service\n  groups:\n    - name: g\n"
      "      update: {health_check: task_states, min_healthy_time: 200ms, healthy_deadline: 10s}\n"
      "      tasks:\n        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
      "          config: {command: /bin/sleep, args: [\"60\"]}\n");
  ASSERT_EQ(ids.size(), 1u);
  agent->wait_alloc(
      ids[0], [](const json& j) { return j["DeploymentStatus"].is_object(); }, 15s);

  auto m = agent->get("/v1/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* family :
       {"drover_agent_uptime_seconds gauge", "drover_allocs gauge", "drover_tasks_running gauge",
        "drover_plugin_loaded gauge", "drover_driver_healthy gauge",
        "drover_upstream_connected gauge", "drover_upstream_updates_pending gauge",
        "drover_node_cpu_seconds_total counter", "drover_node_memory_total_bytes gauge",
        "drover_node_memory_available_bytes gauge", "drover_node_disk_total_bytes gauge",
        "drover_node_disk_free_bytes gauge", "drover_alloc_healthy gauge",
        "drover_task_running gauge", "drover_task_restarts_total counter",
        "drover_task_start_step_seconds_total counter", "drover_task_start_steps_total counter"})
    EXPECT_NE(m.body.find(std::string("# TYPE ") + family + "\n"), std::string::npos)
        << family << " missing:\n"
        << m.body;
  EXPECT_NE(m.body.find("drover_task_restarts_total{alloc_id=\"" + ids[0] +
                        "\",job=\"scraped\",task=\"t\"} 0\n"),
            std::string::npos)
      << m.body;

  // One task started once: each of its start steps ran once (runner/step_timings.hpp).
  for (const char* step : {"alloc:dir", "task_spec", "prestart:cgroup", "driver:start",
                           "poststart:starting_handle"})
    EXPECT_NE(m.body.find(std::string("drover_task_start_steps_total{step=\"") + step + "\"} 1\n"),
              std::string::npos)
        << step << ":\n"
        << m.body;

  auto check = promtool_check(m.body);
  EXPECT_EQ(check.status, 0) << check.output << "\n" << m.body;
  EXPECT_EQ(check.output, "") << "promtool lints: " << check.output;

  // The check can fail: a counter without its _total suffix is refused.
  auto bad = promtool_check("# HELP drover_bad x\n# TYPE drover_bad counter\ndrover_bad 1\n");
  EXPECT_NE(bad.status, 0) << "promtool accepted a bad exposition: this test proves nothing";
}

// The node's memory in /v1/metrics and in /v1/client/stats is the host's, in bytes: MemTotal
// of /proc/meminfo (which says kB), the same in both.
TEST(Metrics, NodeMemoryIsTheHostsInBytesAsInHostStats) {
  uint64_t kb = 0;
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("MemTotal:", 0) == 0) kb = std::stoull(line.substr(9));
  ASSERT_GT(kb, 0u) << "no MemTotal in /proc/meminfo";
  auto agent = AgentProcess::start();
  auto host = agent->get("/v1/client/stats").json();
  EXPECT_EQ(host["Memory"]["Total"], kb * 1024) << host["Memory"].dump();
  auto m = agent->get("/v1/metrics");
  ASSERT_EQ(m.status, 200);
  const std::string name = "\ndrover_node_memory_total_bytes ";
  auto at = m.body.find(name);
  ASSERT_NE(at, std::string::npos) << m.body;
  EXPECT_EQ(std::stod(m.body.substr(at + name.size())), static_cast<double>(kb * 1024))
      << m.body.substr(at, 80);
}
