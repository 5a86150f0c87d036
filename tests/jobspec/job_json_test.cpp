// The canonical JSON that the state store and the API keep: Nomad's shape, read back exactly.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Job full_job() {
  Job job;
  job.id = "web";
  job.name = "Web";
  job.type = JobType::Batch;
  job.datacenters = {"dc1"};
  job.priority = 80;
  job.meta = {{"k", "v"}};
  job.update = UpdateStrategy{"manual", 3s, 7min};
  TaskGroup g;
  g.name = "g";
  g.count = 4;
  g.restart = RestartPolicy{7, 2h, 3s, "delay"};
  g.update = UpdateStrategy{"task_states", 1s, 2min};
  g.meta = {{"gk", "gv"}};
  Task t;
  t.name = "t";
  t.driver = "exec";
  t.user = "nobody";
  t.config = json::parse(R"({"command": "/bin/sh", "args": ["-c", "x"], "n": 1, "f": 0.5})");
  t.env = {{"A", "1"}, {"B", ""}};
  t.resources.cpu_mhz = 0;
  t.resources.cores = 2;
  t.resources.memory_mb = 64;
  t.resources.memory_max_mb = 128;
  t.resources.pids = 50;
  t.resources.devices.push_back(
      {"nvidia/gpu", 1,
       json::parse(R"([{"attribute": "${device.model}", "operator": "=", "value": "A100"}])")});
  t.kill_timeout = 1500ms;
  t.kill_signal = "SIGUSR1";
  t.logs = LogConfig{2, 3, true};
  t.lifecycle = Lifecycle{"poststart", true};
  t.leader = true;
  t.meta = {{"tk", "tv"}};
  g.tasks.push_back(t);
  Task plain;
  plain.name = "plain";
  plain.driver = "raw_exec";
  g.tasks.push_back(plain);
  job.groups.push_back(g);
  return job;
}

TEST(JobJson, RoundTripIsExact) {
  Job job = full_job();
  json j = to_json(job);
  EXPECT_EQ(job_from_json(j), job);
  // Through text too, as the state store keeps it.
  EXPECT_EQ(job_from_json(json::parse(j.dump())), job);
}

TEST(JobJson, RoundTripOfParsedJobs) {
  Job job = testing::must_parse(R"(
job:
  id: r
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/echo, args: [hi, 3, true]}
)");
  EXPECT_EQ(job_from_json(to_json(job)), job);
}

TEST(JobJson, NomadShapeWithNanoseconds) {
  json j = to_json(full_job());
  EXPECT_EQ(j["ID"], "web");
  EXPECT_EQ(j["Type"], "batch");
  EXPECT_EQ(j["Update"]["MinHealthyTime"], 3000000000LL);
  const json& g = j["TaskGroups"][0];
  EXPECT_EQ(g["RestartPolicy"]["Interval"], 7200000000000LL);
  EXPECT_EQ(g["RestartPolicy"]["Mode"], "delay");
  const json& t = g["Tasks"][0];
  EXPECT_EQ(t["KillTimeout"], 1500000000LL);
  EXPECT_EQ(t["Resources"]["MemoryMaxMB"], 128);
  EXPECT_EQ(t["Resources"]["Devices"][0]["Constraints"][0]["LTarget"], "${device.model}");
  EXPECT_EQ(t["LogConfig"]["MaxFileSizeMB"], 3);
  EXPECT_EQ(t["Lifecycle"]["Hook"], "poststart");
  EXPECT_TRUE(g["Tasks"][1]["Lifecycle"].is_null()) << "a main task has no lifecycle block";
}

TEST(JobJson, CanonicalJsonParsesBackAsNomadJson) {
  Job job = full_job();
  ParseResult r = parse_job(json{{"Job", to_json(job)}}.dump());
  ASSERT_TRUE(r.job.has_value()) << format_problems(r.problems);
  EXPECT_EQ(*r.job, job);
}

TEST(JobJson, ToStringOfTypes) {
  EXPECT_STREQ(to_string(JobType::Service), "service");
  EXPECT_STREQ(to_string(JobType::Batch), "batch");
}

}  // namespace
}  // namespace drover::jobspec
