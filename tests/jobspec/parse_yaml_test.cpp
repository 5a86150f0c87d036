// YAML job files: every field lands in the model, defaults apply, typos and bad values are
// refused with the field's path.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

constexpr const char* kFullJob = R"(
job:
  id: web-app
  name: Web App
  type: service
  datacenters: [dc1, dc2]
  priority: 70
  meta:
    owner: ops
    port: 8080
  update:
    health_check: task_states
    min_healthy_time: 20s
    healthy_deadline: 10m
  groups:
    - name: web
      count: 3
      restart:
        attempts: 5
        interval: 1h
        delay: 10s
        mode: delay
      update:
        min_healthy_time: 30s
      meta:
        tier: front
      tasks:
        - name: server
          driver: raw_exec
          user: nobody
          config:
            command: /bin/sh
            args: ["-c", "echo hi"]
            port: 8080
            quoted: "8080"
            ratio: 1.5
            enabled: true
            off: false
            nothing: null
            nested: {a: [1, "two", {b: yes}]}
          env:
            PORT: 8080
            MODE: "prod"
            EMPTY:
          resources:
            cpu: 500
            memory: 256
            memory_max: 512
            pids: 200
            devices:
              - name: nvidia/gpu
                count: 2
                constraints:
                  - attribute: "${device.attr.memory}"
                    operator: ">="
                    value: 4 GiB
          kill_timeout: 20s
          kill_signal: SIGINT
          logs:
            max_files: 3
            max_file_size: 15
            disabled: false
          leader: true
          meta:
            role: main
        - name: setup
          driver: exec
          lifecycle:
            hook: prestart
            sidecar: true
          resources:
            cores: 2
          logs:
            disabled: true
)";

TEST(ParseYaml, EveryFieldLands) {
  Job job = must_parse(kFullJob);
  EXPECT_EQ(job.id, "web-app");
  EXPECT_EQ(job.name, "Web App");
  EXPECT_EQ(job.type, JobType::Service);
  EXPECT_EQ(job.datacenters, (std::vector<std::string>{"dc1", "dc2"}));
  EXPECT_EQ(job.priority, 70);
  EXPECT_EQ(job.meta, (std::map<std::string, std::string>{{"owner", "ops"}, {"port", "8080"}}));
  ASSERT_TRUE(job.update.has_value());
  EXPECT_EQ(job.update->health_check, "task_states");
  EXPECT_EQ(job.update->min_healthy_time, 20s);
  EXPECT_EQ(job.update->healthy_deadline, 10min);

  ASSERT_EQ(job.groups.size(), 1u);
  const TaskGroup& g = job.groups[0];
  EXPECT_EQ(g.name, "web");
  EXPECT_EQ(g.count, 3);
  EXPECT_EQ(g.restart.attempts, 5);
  EXPECT_EQ(g.restart.interval, 1h);
  EXPECT_EQ(g.restart.delay, 10s);
  EXPECT_EQ(g.restart.mode, "delay");
  ASSERT_TRUE(g.update.has_value());
  EXPECT_EQ(g.update->min_healthy_time, 30s);
  EXPECT_EQ(g.update->health_check, "task_states") << "a group's update starts from the job's";
  EXPECT_EQ(g.update->healthy_deadline, 10min);
  EXPECT_EQ(g.meta.at("tier"), "front");

  ASSERT_EQ(g.tasks.size(), 2u);
  const Task& t = g.tasks[0];
  EXPECT_EQ(t.name, "server");
  EXPECT_EQ(t.driver, "raw_exec");
  EXPECT_EQ(t.user, "nobody");
  EXPECT_EQ(t.config["command"], "/bin/sh");
  EXPECT_EQ(t.config["args"], nlohmann::json::array({"-c", "echo hi"}));
  EXPECT_TRUE(t.config["port"].is_number_integer());
  EXPECT_EQ(t.config["port"], 8080);
  EXPECT_TRUE(t.config["quoted"].is_string()) << "a quoted scalar stays a string";
  EXPECT_EQ(t.config["quoted"], "8080");
  EXPECT_DOUBLE_EQ(t.config["ratio"].get<double>(), 1.5);
  EXPECT_EQ(t.config["enabled"], true);
  EXPECT_EQ(t.config["off"], false);
  EXPECT_TRUE(t.config["nothing"].is_null());
  EXPECT_EQ(t.config["nested"]["a"][1], "two");
  EXPECT_EQ(t.config["nested"]["a"][2]["b"], "yes") << "YAML 1.2: yes is a string";
  EXPECT_EQ(t.env, (std::map<std::string, std::string>{
                       {"PORT", "8080"}, {"MODE", "prod"}, {"EMPTY", ""}}));
  EXPECT_EQ(t.resources.cpu_mhz, 500);
  EXPECT_EQ(t.resources.cores, 0);
  EXPECT_EQ(t.resources.memory_mb, 256);
  EXPECT_EQ(t.resources.memory_max_mb, 512);
  EXPECT_EQ(t.resources.pids, 200);
  ASSERT_EQ(t.resources.devices.size(), 1u);
  EXPECT_EQ(t.resources.devices[0].name, "nvidia/gpu");
  EXPECT_EQ(t.resources.devices[0].count, 2);
  EXPECT_EQ(t.resources.devices[0].constraints,
            nlohmann::json::parse(
                R"([{"attribute":"${device.attr.memory}","operator":">=","value":"4 GiB"}])"));
  EXPECT_EQ(t.kill_timeout, 20s);
  EXPECT_EQ(t.kill_signal, "SIGINT");
  EXPECT_EQ(t.logs.max_files, 3);
  EXPECT_EQ(t.logs.max_file_size_mb, 15);
  EXPECT_FALSE(t.logs.disabled);
  EXPECT_TRUE(t.leader);
  EXPECT_EQ(t.meta.at("role"), "main");
  EXPECT_EQ(t.lifecycle.hook, "");

  const Task& s = g.tasks[1];
  EXPECT_EQ(s.lifecycle.hook, "prestart");
  EXPECT_TRUE(s.lifecycle.sidecar);
  EXPECT_EQ(s.resources.cores, 2);
  EXPECT_EQ(s.resources.cpu_mhz, 0) << "as in Nomad, a task with cores has no cpu share";
  EXPECT_TRUE(s.logs.disabled);
  EXPECT_FALSE(s.leader);
}

constexpr const char* kMinimal = R"(
job:
  id: tiny
  type: %s
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
)";

std::string minimal(const char* type) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kMinimal, type);
  return buf;
}

TEST(ParseYaml, ServiceDefaults) {
  Job job = must_parse(minimal("service"));
  EXPECT_EQ(job.name, "tiny") << "name defaults to id";
  EXPECT_EQ(job.type, JobType::Service);
  EXPECT_EQ(job.priority, 50);
  EXPECT_FALSE(job.update.has_value());
  const TaskGroup& g = job.groups.at(0);
  EXPECT_EQ(g.count, 1);
  EXPECT_EQ(g.restart.attempts, 2);
  EXPECT_EQ(g.restart.interval, 30min);
  EXPECT_EQ(g.restart.delay, 15s);
  EXPECT_EQ(g.restart.mode, "fail");
  const Task& t = g.tasks.at(0);
  EXPECT_EQ(t.resources.cpu_mhz, 100);
  EXPECT_EQ(t.resources.memory_mb, 300);
  EXPECT_EQ(t.resources.memory_max_mb, 0);
  EXPECT_EQ(t.logs.max_files, 10);
  EXPECT_EQ(t.logs.max_file_size_mb, 10);
  EXPECT_FALSE(t.logs.disabled);
  EXPECT_EQ(t.kill_timeout, 5s);
  EXPECT_EQ(t.kill_signal, "");
  EXPECT_TRUE(t.config.is_object());
  EXPECT_TRUE(t.config.empty());
}

TEST(ParseYaml, BatchDefaults) {
  Job job = must_parse(minimal("batch"));
  EXPECT_EQ(job.type, JobType::Batch);
  const RestartPolicy& r = job.groups.at(0).restart;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.interval, 24h);
  EXPECT_EQ(r.delay, 15s);
  EXPECT_EQ(r.mode, "fail");
}

TEST(ParseYaml, PartialRestartKeepsTypeDefaultsForTheRest) {
  Job job = must_parse(R"(
job:
  id: b
  type: batch
  groups:
    - name: g
      restart: {attempts: 1}
      tasks: [{name: t, driver: raw_exec}]
)");
  EXPECT_EQ(job.groups[0].restart.attempts, 1);
  EXPECT_EQ(job.groups[0].restart.interval, 24h);
}

TEST(ParseYaml, UnknownKeyWithDidYouMean) {
  std::string p = problems_of(R"(
job:
  id: x
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          resources:
            memroy: 100
          kill_timout: 5s
          frobnicate: 1
)");
  EXPECT_TRUE(
      has_line(p, "groups[0].tasks[0].resources.memroy: unknown key (did you mean \"memory\"?)"))
      << p;
  EXPECT_TRUE(
      has_line(p, "groups[0].tasks[0].kill_timout: unknown key (did you mean \"kill_timeout\"?)"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].frobnicate: unknown key")) << p;
}

TEST(ParseYaml, UnknownJobKeyPathStartsAtTheJobsFields) {
  std::string p = problems_of(
      "job:\n  id: x\n  priorty: 5\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n");
  EXPECT_TRUE(has_line(p, "priorty: unknown key (did you mean \"priority\"?)")) << p;
}

TEST(ParseYaml, DuplicateKeysRefused) {
  std::string p = problems_of(
      "job:\n  id: a\n  id: b\n  groups: [{name: g, tasks: [{name: t, "
      "driver: raw_exec, resources: {memory: 64, memory: 128}}]}]\n");
  EXPECT_TRUE(has_line(p, "id: duplicate key")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].resources.memory: duplicate key")) << p;
}

TEST(ParseYaml, UnknownTopLevelKey) {
  std::string p = problems_of("jobs:\n  id: x\n");
  EXPECT_TRUE(has_line(p, "jobs: unknown key (did you mean \"job\"?)")) << p;
}

TEST(ParseYaml, BareIntegerDurationRefusedSayingSo) {
  std::string p = problems_of(R"(
job:
  id: x
  groups:
    - name: g
      restart: {interval: 1h, delay: 15}
      tasks: [{name: t, driver: raw_exec, kill_timeout: 30}]
)");
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].kill_timeout: bare number 30 is not a duration: "
                       "write it with a unit, e.g. \"30s\" for seconds"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].restart.delay: bare number 15 is not a duration: write it "
                       "with a unit, e.g. \"15s\" for seconds"))
      << p;
}

TEST(ParseYaml, BadDurationTextNamed) {
  std::string p = problems_of(R"(
job:
  id: x
  groups:
    - name: g
      tasks: [{name: t, driver: raw_exec, kill_timeout: 5 minutes}]
)");
  EXPECT_NE(p.find("groups[0].tasks[0].kill_timeout: invalid duration \"5 minutes\""),
            std::string::npos)
      << p;
}

TEST(ParseYaml, WrongTypesNamed) {
  std::string p = problems_of(R"(
job:
  id: x
  priority: high
  groups:
    - name: g
      count: "2"
      tasks:
        - name: t
          driver: raw_exec
          leader: yes
          env: [A, B]
          config: "not a map"
          resources: {memory: 1e9}
)");
  EXPECT_TRUE(has_line(p, "priority: must be an integer (got \"high\")")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].count: must be an integer (got \"2\")")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].leader: must be true or false (got \"yes\")")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].env: must be a map (got a list)")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].config: must be a map (got a scalar)")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].resources.memory: must be an integer (got \"1e9\")"))
      << p;
}

TEST(ParseYaml, AFieldOfTheWrongTypeIsReportedOnce) {
  ParseResult r = parse_job(
      "job:\n  id: [a, b]\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n");
  EXPECT_EQ(format_problems(r.problems), "id: must be a string (got a list)\n");
}

TEST(ParseYaml, OutOfRangeIntegerNamed) {
  std::string p = problems_of(R"(
job:
  id: x
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, resources: {memory: 99999999999}}]}]
)");
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].resources.memory: value 99999999999 is out of range"))
      << p;
}

TEST(ParseYaml, AnUnknownJobTypeIsRefused) {
  std::string p = problems_of(minimal("daemon"));
  EXPECT_TRUE(has_line(
      p, "type: must be \"service\", \"batch\", \"system\" or \"sysbatch\" (got \"daemon\")"))
      << p;
}

TEST(ParseYaml, MalformedYamlGivesLineAndColumn) {
  ParseResult r = parse_job("job:\n  id: x\n  groups: [a, b\n  bad: }\n");
  ASSERT_EQ(r.problems.size(), 1u) << format_problems(r.problems);
  EXPECT_TRUE(r.problems[0].path.empty());
  EXPECT_NE(r.problems[0].message.find("malformed YAML at line "), std::string::npos)
      << r.problems[0].message;
  EXPECT_NE(r.problems[0].message.find(", column "), std::string::npos);

  ParseResult tab = parse_job("job:\n  id: x\n\t- bad\n");
  ASSERT_EQ(tab.problems.size(), 1u);
  EXPECT_NE(tab.problems[0].message.find("line 3, column"), std::string::npos)
      << tab.problems[0].message;
}

TEST(ParseYaml, MissingJobKey) {
  EXPECT_TRUE(has_line(problems_of("- a\n- b\n"),
                       "expected a map with a top-level `job:` key (or a Nomad JSON job "
                       "{\"Job\": {...}})"));
  EXPECT_TRUE(has_line(problems_of(""),
                       "expected a map with a top-level `job:` key (or a Nomad "
                       "JSON job {\"Job\": {...}})"));
}

TEST(ParseYaml, JsonWithoutJobKeyIsReadAsYaml) {
  Job job = must_parse(
      R"({"job": {"id": "j", "groups": [{"name": "g", "tasks": [{"name": "t", "driver": "raw_exec"}]}]}})");
  EXPECT_EQ(job.id, "j");
  EXPECT_EQ(job.groups[0].tasks[0].driver, "raw_exec");
}

}  // namespace
}  // namespace drover::jobspec

namespace drover::jobspec {
namespace {

constexpr const char* kOneJob = R"(job:
  id: first
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)";

// yaml-cpp's Load kept the first document and dropped the rest without a word, so a file of
// two jobs ran one of them.
TEST(ParseYaml, SecondYamlDocumentIsRefusedNotIgnored) {
  const std::string two = std::string(kOneJob) + "---\n" + kOneJob;
  auto problems = testing::problems_of(two);
  EXPECT_NE(problems.find("2 YAML documents"), std::string::npos) << problems;
  EXPECT_NE(problems.find("line 10"), std::string::npos) << problems;
  // Even a second document that is no job at all.
  problems = testing::problems_of(std::string(kOneJob) + "---\nhello: world\n");
  EXPECT_NE(problems.find("2 YAML documents"), std::string::npos) << problems;
}

TEST(ParseYaml, DocumentMarkersAroundOneJobAreFine) {
  EXPECT_EQ(testing::must_parse(std::string("---\n") + kOneJob).id, "first");
  EXPECT_EQ(testing::must_parse(std::string(kOneJob) + "---\n").id, "first");
  EXPECT_EQ(testing::must_parse(std::string("---\n") + kOneJob + "...\n").id, "first");
}

}  // namespace
}  // namespace drover::jobspec
