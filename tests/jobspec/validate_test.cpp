// Validation: each bad value is refused with its field's path, and all at once.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using testing::has_line;
using testing::must_parse;
using testing::problems_of;

// A valid job with one task whose YAML lines are `task_extra` (indented 10 spaces) and
// whose group has `group_extra` (indented 6).
std::string job_with(const std::string& task_extra, const std::string& group_extra = "",
                     const std::string& job_extra = "") {
  return "job:\n  id: v\n" + job_extra + "  groups:\n    - name: g\n" + group_extra +
         "      tasks:\n        - name: t\n          driver: raw_exec\n" + task_extra;
}

struct Case {
  std::string yaml;
  std::string line;  // the exact "path: message" expected among the problems
};

TEST(Validate, EachBadValueNamedByPath) {
  const std::string res = "          resources:\n";
  const Case cases[] = {
      {"job:\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n", "id: is required"},
      {"job:\n  id: a/b\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n",
       "id: must not contain a path separator (got \"a/b\")"},
      {"job:\n  id: \"..\"\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n",
       "id: must not be '.' or '..' (got \"..\")"},
      {"job:\n  id: x\n", "groups: at least one group is required"},
      {"job:\n  id: x\n  groups: [{name: g}]\n", "groups[0].tasks: at least one task is required"},
      {job_with("", "", "  priority: 0\n"), "priority: must be at least 1"},
      {job_with("", "", "  priority: 101\n"), "priority: must be at most 100"},
      {job_with("", "      count: 0\n"), "groups[0].count: must be at least 1"},
      {job_with("", "      count: -2\n"), "groups[0].count: must not be negative (got -2)"},
      {job_with("", "      count: 10001\n"), "groups[0].count: must be at most 10000"},
      {"job:\n  id: x\n  groups: [{name: \"\", tasks: [{name: t, driver: raw_exec}]}]\n",
       "groups[0].name: is required"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: \"a\\tb\", driver: raw_exec}]}]\n",
       "groups[0].tasks[0].name: must not contain control characters (got \"a\\x09b\")"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: secrets, driver: raw_exec}]}]\n",
       "groups[0].tasks[0].name: \"secrets\" is reserved for the alloc dir's folders (alloc, "
       "local, "
       "secrets, tmp)"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: t}]}]\n",
       "groups[0].tasks[0].driver: is required"},
      // A NUL in each name, one field at a time (YAML's "\0" escape): each is named.
      {"job:\n  id: \"a\\0b\"\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n",
       "id: must not contain control characters (got \"a\\x00b\")"},
      {"job:\n  id: x\n  groups: [{name: \"g\\0\", tasks: [{name: t, driver: raw_exec}]}]\n",
       "groups[0].name: must not contain control characters (got \"g\\x00\")"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: \"\\0t\", driver: raw_exec}]}]\n",
       "groups[0].tasks[0].name: must not contain control characters (got \"\\x00t\")"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: t, driver: \"raw\\0exec\"}]}]\n",
       "groups[0].tasks[0].driver: must not contain control characters (got \"raw\\x00exec\")"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: \"\", driver: raw_exec}]}]\n",
       "groups[0].tasks[0].name: is required"},
      {"job:\n  id: x\n  groups: [{name: g, tasks: [{name: t, driver: ../bin}]}]\n",
       "groups[0].tasks[0].driver: must not contain a path separator (got \"../bin\")"},
      {job_with(res + "            memory: 5\n"),
       "groups[0].tasks[0].resources.memory: must be at least 10 (MB)"},
      {job_with(res + "            memory: 16777217\n"),
       "groups[0].tasks[0].resources.memory: must be at most 16777216 (MB)"},
      {job_with(res + "            memory: -1\n"),
       "groups[0].tasks[0].resources.memory: must not be negative (got -1)"},
      {job_with(res + "            cpu: 0\n"),
       "groups[0].tasks[0].resources.cpu: must be at least 1 (MHz)"},
      {job_with(res + "            cpu: 1000001\n"),
       "groups[0].tasks[0].resources.cpu: must be at most 1000000 (MHz)"},
      {job_with(res + "            memory: 300\n            memory_max: 200\n"),
       "groups[0].tasks[0].resources.memory_max: must be 0 or at least memory (300 MB)"},
      {job_with(res + "            memory_max: -2\n"),
       "groups[0].tasks[0].resources.memory_max: must be -1 (no hard limit), 0 or at least "
       "memory (got -2)"},
      {job_with(res + "            cores: -1\n"),
       "groups[0].tasks[0].resources.cores: must not be negative (got -1)"},
      {job_with(res + "            cores: 4097\n"),
       "groups[0].tasks[0].resources.cores: must be at most 4096"},
      {job_with(res + "            cores: 2\n            cpu: 500\n"),
       "groups[0].tasks[0].resources.cpu: cannot be set together with cores (ask for cpu or "
       "cores, not both)"},
      {job_with(res + "            pids: -5\n"),
       "groups[0].tasks[0].resources.pids: must not be negative (got -5)"},
      {job_with(res + "            pids: 4194305\n"),
       "groups[0].tasks[0].resources.pids: must be at most 4194304"},
      {job_with(res + "            devices: [{count: 0}]\n"),
       "groups[0].tasks[0].resources.devices[0].name: is required (e.g. \"nvidia/gpu\" or "
       "\"gpu\")"},
      {job_with(res + "            devices: [{name: gpu, count: 0}]\n"),
       "groups[0].tasks[0].resources.devices[0].count: must be at least 1"},
      {job_with(res + "            devices: [{name: gpu, constraints: [{attribute: a, operator: "
                      "like}]}]\n"),
       "groups[0].tasks[0].resources.devices[0].constraints[0].operator: unknown operator "
       "\"like\""},
      {job_with("          kill_timeout: -1s\n"),
       "groups[0].tasks[0].kill_timeout: must not be negative"},
      {job_with("          kill_timeout: 25h\n"),
       "groups[0].tasks[0].kill_timeout: must be at most 24h (got 25h)"},
      {job_with("          kill_signal: SIGFOO\n"),
       "groups[0].tasks[0].kill_signal: must be a signal name like \"SIGTERM\" or \"SIGRTMIN+1\" (got \"SIGFOO\")"},
      {job_with("", "      restart: {attempts: -1}\n"),
       "groups[0].restart.attempts: must not be negative (got -1)"},
      {job_with("", "      restart: {delay: -1s}\n"),
       "groups[0].restart.delay: must not be negative"},
      {job_with("", "      restart: {interval: 1s}\n"),
       "groups[0].restart.interval: must be at least 5s (got 1s)"},
      {job_with("", "      restart: {attempts: 10, delay: 1m, interval: 5m}\n"),
       "groups[0].restart.interval: cannot fit 10 restarts 1m apart in 5m"},
      {job_with("", "      restart: {mode: retry}\n"),
       "groups[0].restart.mode: must be \"fail\" or \"delay\" (got \"retry\")"},
      {job_with("", "      restart: {attempts: 0, mode: delay}\n"),
       "groups[0].restart.attempts: 0 attempts with mode \"delay\" is ambiguous (use mode "
       "\"fail\")"},
      {job_with("          logs: {max_files: 0}\n"),
       "groups[0].tasks[0].logs.max_files: must be at least 1"},
      {job_with("          logs: {max_file_size: 0}\n"),
       "groups[0].tasks[0].logs.max_file_size: must be at least 1 (MB)"},
      {job_with("          lifecycle: {hook: prerun}\n"),
       "groups[0].tasks[0].lifecycle.hook: must be \"prestart\", \"poststart\" or \"poststop\" "
       "(got \"prerun\")"},
      {job_with("          lifecycle: {sidecar: true}\n"),
       "groups[0].tasks[0].lifecycle.sidecar: needs a hook (prestart or poststart)"},
      {job_with("          env: {\"A=B\": x}\n"),
       "groups[0].tasks[0].env: key \"A=B\" must not contain '='"},
      {job_with("          env: {\"\": x}\n"), "groups[0].tasks[0].env: keys must not be empty"},
      {job_with("          env: {\"A\\0B\": x}\n"),
       "groups[0].tasks[0].env: key \"A\\x00B\" must not contain a NUL byte"},
      {job_with("          meta: {\"a=b\": x}\n"),
       "groups[0].tasks[0].meta: key \"a=b\" must not contain '='"},
      {job_with("", "      meta: {\"\": x}\n"), "groups[0].meta: keys must not be empty"},
      {job_with("", "", "  meta: {\"x=y\": z}\n"), "meta: key \"x=y\" must not contain '='"},
      {job_with("", "      update: {health_check: http}\n"),
       "groups[0].update.health_check: must be \"checks\", \"task_states\" or \"manual\" (got "
       "\"http\")"},
      {job_with("", "      update: {min_healthy_time: 10m, healthy_deadline: 5m}\n"),
       "groups[0].update.healthy_deadline: must be longer than min_healthy_time (10m)"},
  };
  for (const auto& c : cases) {
    std::string p = problems_of(c.yaml);
    EXPECT_TRUE(has_line(p, c.line)) << "want: " << c.line << "\ngot:\n" << p << "in:\n" << c.yaml;
  }
}

TEST(Validate, DuplicatesAndLeaders) {
  std::string p = problems_of(R"(
job:
  id: d
  groups:
    - name: g
      tasks:
        - {name: a, driver: raw_exec, leader: true}
        - {name: a, driver: raw_exec, leader: true}
    - name: g
      tasks: [{name: b, driver: raw_exec}]
)");
  EXPECT_TRUE(has_line(p, "groups[0].tasks[1].name: duplicate task name \"a\" (also tasks[0])"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[1].leader: only one task per group may be the leader "
                       "(tasks[0] already is)"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[1].name: duplicate group name \"g\" (also groups[0])")) << p;
}

TEST(Validate, AllProblemsReportedAtOnce) {
  ParseResult r = parse_job(R"(
job:
  groups:
    - name: g
      count: 0
      tasks:
        - name: tmp
          resources: {memory: 1, cpu: 0}
          logs: {max_files: 0}
          kill_timeot: 1s
)");
  ASSERT_FALSE(r.job.has_value());
  std::string p = format_problems(r.problems);
  EXPECT_GE(r.problems.size(), 7u) << p;
  for (const char* line :
       {"id: is required", "groups[0].count: must be at least 1",
        "groups[0].tasks[0].driver: is required",
        "groups[0].tasks[0].resources.memory: must be at least 10 (MB)",
        "groups[0].tasks[0].resources.cpu: must be at least 1 (MHz)",
        "groups[0].tasks[0].logs.max_files: must be at least 1",
        "groups[0].tasks[0].kill_timeot: unknown key (did you mean \"kill_timeout\"?)"}) {
    EXPECT_TRUE(has_line(p, line)) << line << "\n" << p;
  }
}

TEST(Validate, KnownDrivers) {
  Job job = must_parse(job_with(""));
  job.groups[0].tasks[0].driver = "foo";
  auto problems = validate(job, {"raw_exec", "exec"});
  ASSERT_EQ(problems.size(), 1u) << format_problems(problems);
  EXPECT_EQ(format_problems(problems),
            "groups[0].tasks[0].driver: unknown driver \"foo\" (loaded drivers: raw_exec, exec)\n");
  job.groups[0].tasks[0].driver = "exec";
  EXPECT_TRUE(validate(job, {"raw_exec", "exec"}).empty());
  EXPECT_TRUE(validate(job).empty()) << "no driver knowledge: any plain name";
}

TEST(Validate, FormatProblems) {
  EXPECT_EQ(format_problems({{"", "doc"}, {"a.b", "bad"}}), "doc\na.b: bad\n");
  EXPECT_EQ(format_problems({}), "");
}

TEST(Validate, NomadJsonPathMapping) {
  EXPECT_EQ(nomad_json_path("groups[0].tasks[1].resources.memory"),
            "Job.TaskGroups[0].Tasks[1].Resources.MemoryMB");
  EXPECT_EQ(nomad_json_path("groups[2].restart.interval"),
            "Job.TaskGroups[2].RestartPolicy.Interval");
  EXPECT_EQ(nomad_json_path("id"), "Job.ID");
  EXPECT_EQ(nomad_json_path("groups[0].tasks[0].logs.max_file_size"),
            "Job.TaskGroups[0].Tasks[0].LogConfig.MaxFileSizeMB");
}


// Nomad's `numa { affinity, devices }` on a task's cores (docs/cgroups.md, "NUMA"), from YAML,
// HCL and Nomad JSON alike; an affinity outside the three, a block without cores, devices that
// name no device block or come without prefer or require are refused, each named.
TEST(Validate, NumaAffinityIsReadFromEveryFormAndCheckedAsNomadChecksIt) {
  auto yaml = must_parse(
      "job:\n  id: n\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config: {command: /bin/true}\n"
      "          resources: {cores: 4, numa: {affinity: require, devices: [nvidia/gpu]},\n"
      "                      devices: [{name: nvidia/gpu}]}\n");
  EXPECT_EQ(yaml.groups[0].tasks[0].resources.numa_affinity, "require");
  EXPECT_EQ(yaml.groups[0].tasks[0].resources.numa_devices, std::vector<std::string>{"nvidia/gpu"});
  auto hcl = must_parse(R"(job "n" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      resources {
        cores = 4
        device "nvidia/gpu" {}
        numa {
          affinity = "require"
          devices  = ["nvidia/gpu"]
        }
      }
    }
  }
})");
  EXPECT_EQ(hcl.groups[0].tasks[0].resources, yaml.groups[0].tasks[0].resources);
  const auto j = to_json(yaml);
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Resources"]["NUMA"]["Affinity"], "require");
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Resources"]["NUMA"]["Devices"][0], "nvidia/gpu");
  EXPECT_EQ(job_from_json(j).groups[0].tasks[0].resources, yaml.groups[0].tasks[0].resources);

  auto p = problems_of(R"({"Job": {"ID": "n", "TaskGroups": [{"Name": "g", "Tasks": [
    {"Name": "a", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
     "Resources": {"Cores": 2, "NUMA": {"Affinity": "always"}}},
    {"Name": "b", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
     "Resources": {"MemoryMB": 64, "NUMA": {"Affinity": "prefer"}}},
    {"Name": "c", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
     "Resources": {"Cores": 2, "NUMA": {"Affinity": "require", "Devices": ["nvidia/gpu"]}}},
    {"Name": "d", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
     "Resources": {"Cores": 2, "Devices": [{"Name": "nvidia/gpu", "Count": 1}],
                   "NUMA": {"Affinity": "none", "Devices": ["nvidia/gpu"]}}}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[0].Resources.NUMA.Affinity: must be \"none\", "
                          "\"prefer\" or \"require\" (got \"always\")"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[1].Resources.NUMA: places the task's cores: "
                          "it needs cores (Nomad's rule)"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[2].Resources.NUMA.Devices[0]: \"nvidia/gpu\" is "
                          "not one of the task's device blocks"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[3].Resources.NUMA.Devices[0]: puts devices on "
                          "the NUMA node of the task's cores: it needs affinity \"prefer\" or "
                          "\"require\""))
      << p;
}

}  // namespace
}  // namespace drover::jobspec
