// Job semantics of issue 17 in the job model: constraints, affinities and spreads at every
// level, region, namespace and node_pool, the update fields that pace deployments, system and
// sysbatch jobs, a task's own restart block and shutdown_delay; each the same Job whether it
// was written in YAML, Nomad JSON or HCL, and kept exactly through the canonical JSON.
#include <gtest/gtest.h>

#include "jobspec/constraint.hpp"
#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

constexpr const char* kYaml = R"(
job:
  id: web
  type: system
  region: eu
  namespace: prod
  node_pool: edge
  constraints:
    - {attribute: "${attr.kernel.name}", value: linux}
    - {attribute: "${attr.os.version}", operator: version, value: ">= 11, < 99"}
  update:
    max_parallel: 3
    stagger: 45s
    canary: 1
    auto_revert: true
    auto_promote: true
    progress_deadline: 20m
  groups:
    - name: g
      shutdown_delay: 2s
      restart: {attempts: 4, delay: 1s}
      constraints:
        - {attribute: "${meta.rack}", operator: is_set}
        - {operator: distinct_hosts}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true, work_dir: /tmp}
          shutdown_delay: 1s
          restart: {attempts: 9}
          constraints:
            - {attribute: "${node.class}", operator: regexp, value: "^gpu"}
)";

constexpr const char* kJson = R"({"Job": {
  "ID": "web", "Type": "system", "Region": "eu", "Namespace": "prod", "NodePool": "edge",
  "Constraints": [
    {"LTarget": "${attr.kernel.name}", "RTarget": "linux", "Operand": "="},
    {"LTarget": "${attr.os.version}", "RTarget": ">= 11, < 99", "Operand": "version"}],
  "Update": {"MaxParallel": 3, "Stagger": 45000000000, "Canary": 1, "AutoRevert": true,
             "AutoPromote": true, "ProgressDeadline": 1200000000000},
  "TaskGroups": [{
    "Name": "g", "ShutdownDelay": 2000000000,
    "RestartPolicy": {"Attempts": 4, "Delay": 1000000000},
    "Constraints": [
      {"LTarget": "${meta.rack}", "Operand": "is_set"},
      {"Operand": "distinct_hosts"}],
    "Tasks": [{
      "Name": "t", "Driver": "raw_exec",
      "Config": {"command": "/bin/true", "work_dir": "/tmp"},
      "ShutdownDelay": 1000000000,
      "RestartPolicy": {"Attempts": 9},
      "Constraints": [{"LTarget": "${node.class}", "RTarget": "^gpu", "Operand": "regexp"}]}]}]}})";

constexpr const char* kHcl = R"(job "web" {
  type      = "system"
  region    = "eu"
  namespace = "prod"
  node_pool = "edge"

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  constraint {
    attribute = "${attr.os.version}"
    version   = ">= 11, < 99"
  }

  update {
    max_parallel      = 3
    stagger           = "45s"
    canary            = 1
    auto_revert       = true
    auto_promote      = true
    progress_deadline = "20m"
  }

  group "g" {
    shutdown_delay = "2s"
    restart {
      attempts = 4
      delay    = "1s"
    }
    constraint {
      attribute = "${meta.rack}"
      operator  = "is_set"
    }
    constraint {
      distinct_hosts = true
    }

    task "t" {
      driver = "raw_exec"
      config {
        command  = "/bin/true"
        work_dir = "/tmp"
      }
      shutdown_delay = "1s"
      restart {
        attempts = 9
      }
      constraint {
        attribute = node.class
        regexp    = "^gpu"
      }
    }
  }
}
)";

TEST(JobSemantics, EveryNewBlockGivesTheSameJobInYamlJsonAndHcl) {
  Job yaml = must_parse(kYaml);
  Job json_job = must_parse(kJson);
  Job hcl = must_parse(kHcl);
  EXPECT_EQ(to_json(yaml).dump(2), to_json(json_job).dump(2));
  EXPECT_EQ(to_json(yaml).dump(2), to_json(hcl).dump(2));

  EXPECT_EQ(yaml.type, JobType::System);
  EXPECT_EQ(yaml.region, "eu");
  EXPECT_EQ(yaml.namespace_name, "prod");
  EXPECT_EQ(yaml.node_pool, "edge");
  ASSERT_EQ(yaml.placement.constraints.size(), 2u);
  EXPECT_EQ(yaml.placement.constraints[1],
            (Constraint{"${attr.os.version}", "version", ">= 11, < 99"}));
  ASSERT_TRUE(yaml.update);
  EXPECT_EQ(yaml.update->max_parallel, 3);
  EXPECT_EQ(yaml.update->stagger, 45s);
  EXPECT_EQ(yaml.update->canary, 1);
  EXPECT_TRUE(yaml.update->auto_revert);
  EXPECT_TRUE(yaml.update->auto_promote);
  EXPECT_EQ(yaml.update->progress_deadline, 20min);
  const TaskGroup& g = yaml.groups.at(0);
  EXPECT_EQ(g.shutdown_delay, 2s);
  EXPECT_EQ(g.placement.constraints[1].op, "distinct_hosts");
  const Task& t = g.tasks.at(0);
  EXPECT_EQ(t.shutdown_delay, 1s);
  EXPECT_EQ(t.placement.constraints.at(0), (Constraint{"${node.class}", "regexp", "^gpu"}));
  EXPECT_EQ(t.config["work_dir"], "/tmp");
}

TEST(JobSemantics, ATaskRestartBlockIsMergedOverItsGroupsAsNomadDoes) {
  Job job = must_parse(kYaml);
  const TaskGroup& g = job.groups.at(0);
  // system: the service defaults (2 / 30m / 15s / fail) under the group's own fields.
  EXPECT_EQ(g.restart, (RestartPolicy{4, 30min, 1s, "fail"}));
  ASSERT_TRUE(g.tasks.at(0).restart);
  EXPECT_EQ(*g.tasks.at(0).restart, (RestartPolicy{9, 30min, 1s, "fail"}));
}

TEST(JobSemantics, ATaskRestartEqualToItsGroupsIsNoPolicyOfItsOwn) {
  // What `nomad job inspect` prints: the group's policy copied into each task.
  Job job = must_parse(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g",
    "RestartPolicy": {"Attempts": 2, "Interval": 1800000000000, "Delay": 15000000000, "Mode": "fail"},
    "Tasks": [{"Name": "t", "Driver": "raw_exec",
      "RestartPolicy": {"Attempts": 2, "Interval": 1800000000000, "Delay": 15000000000,
                        "Mode": "fail"}}]}]}})");
  EXPECT_FALSE(job.groups[0].tasks[0].restart);
}

TEST(JobSemantics, CanonicalJsonRoundTripsEveryNewField) {
  Job job = must_parse(kYaml);
  job.placement.affinities.push_back({"${node.datacenter}", "=", "dc1", -30});
  job.groups[0].placement.spreads.push_back({"${meta.rack}", 70, {{"r1", 60}, {"r2", 40}}});
  job.groups[0].tasks[0].placement.affinities.push_back(
      {"${attr.cpu.arch}", "set_contains_any", "amd64,arm64", 10});
  json j = to_json(job);
  EXPECT_EQ(job_from_json(j), job);
  EXPECT_EQ(job_from_json(json::parse(j.dump())), job);
  EXPECT_EQ(j["Constraints"][0],
            (json{{"LTarget", "${attr.kernel.name}"}, {"Operand", "="}, {"RTarget", "linux"}}));
  EXPECT_EQ(j["Affinities"][0]["Weight"], -30);
  EXPECT_EQ(j["TaskGroups"][0]["Spreads"][0]["SpreadTarget"][1],
            (json{{"Value", "r2"}, {"Percent", 40}}));
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["RestartPolicy"]["Attempts"], 9);
  EXPECT_EQ(j["TaskGroups"][0]["ShutdownDelay"], 2000000000);
  EXPECT_EQ(j["Update"]["ProgressDeadline"], 1200000000000LL);
  EXPECT_EQ(j["NodePool"], "edge");
}

TEST(JobSemantics, AffinityAndSpreadInEveryFormat) {
  const char* yaml = R"(
job:
  id: a
  affinities: [{attribute: "${node.datacenter}", value: dc1, weight: 80}]
  spreads: [{attribute: "${meta.rack}", weight: 50, targets: [{value: r1, percent: 70}, {value: r2, percent: 30}]}]
  groups:
    - name: g
      affinities: [{attribute: "${meta.disk}", operator: regexp, value: ssd}]
      spreads: [{attribute: "${node.datacenter}"}]
      tasks:
        - name: t
          driver: raw_exec
          affinities: [{attribute: "${attr.cpu.arch}", operator: set_contains_any, value: "amd64", weight: -20}]
)";
  const char* hcl = R"(job "a" {
  affinity {
    attribute = "${node.datacenter}"
    value     = "dc1"
    weight    = 80
  }
  spread {
    attribute = "${meta.rack}"
    weight    = 50
    target "r1" { percent = 70 }
    target "r2" { percent = 30 }
  }
  group "g" {
    affinity {
      attribute = "${meta.disk}"
      regexp    = "ssd"
    }
    spread {
      attribute = "${node.datacenter}"
    }
    task "t" {
      driver = "raw_exec"
      affinity {
        attribute        = "${attr.cpu.arch}"
        set_contains_any = "amd64"
        weight           = -20
      }
    }
  }
}
)";
  Job y = must_parse(yaml);
  Job h = must_parse(hcl);
  Job j = must_parse(json{{"Job", to_json(y)}}.dump());
  EXPECT_EQ(to_json(y).dump(2), to_json(h).dump(2));
  EXPECT_EQ(j, y);
  EXPECT_EQ(y.placement.affinities.at(0), (Affinity{"${node.datacenter}", "=", "dc1", 80}));
  EXPECT_EQ(y.placement.spreads.at(0).targets.at(1), (SpreadTarget{"r2", 30}));
  EXPECT_EQ(y.groups[0].placement.affinities.at(0).weight, 50);  // Nomad's default
  EXPECT_EQ(y.groups[0].tasks[0].placement.affinities.at(0).op, "set_contains_any");
}

TEST(JobSemantics, SystemAndSysbatchTakeTheirTypesRestartDefaults) {
  auto job = [](const char* type) {
    return must_parse(std::string("job:\n  id: x\n  type: ") + type +
                      "\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]\n");
  };
  Job system = job("system");
  EXPECT_EQ(system.type, JobType::System);
  EXPECT_EQ(system.groups[0].restart, (RestartPolicy{2, 30min, 15s, "fail"}));
  EXPECT_EQ(system.groups[0].count, 1);
  Job sysbatch = job("sysbatch");
  EXPECT_EQ(sysbatch.type, JobType::SysBatch);
  EXPECT_EQ(sysbatch.groups[0].restart, (RestartPolicy{3, 24h, 15s, "fail"}));
  EXPECT_TRUE(runs_to_completion(JobType::SysBatch));
  EXPECT_FALSE(runs_to_completion(JobType::System));
  EXPECT_STREQ(to_string(JobType::SysBatch), "sysbatch");
}

TEST(JobSemantics, SystemJobsRunOneAllocAndTakeNoAffinityOrSpread) {
  std::string p = problems_of(R"(
job:
  id: x
  type: sysbatch
  affinities: [{attribute: "${node.datacenter}", value: dc1}]
  groups: [{name: g, count: 3, spreads: [{attribute: "${meta.rack}"}], tasks: [{name: t, driver: raw_exec}]}]
)");
  EXPECT_TRUE(has_line(p,
                       "groups[0].count: must be 1 (or left out) in a sysbatch job: it runs one "
                       "alloc on each node (got 3)"))
      << p;
  EXPECT_TRUE(has_line(p, "affinities: system and sysbatch jobs may not have affinities")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].spreads: system and sysbatch jobs may not have spreads")) << p;
}

TEST(JobSemantics, BadConstraintsAreRefusedNamingTheField) {
  std::string p = problems_of(R"(
job:
  id: x
  constraints:
    - {attribute: "${attr.a}", operator: regexp, value: "(unclosed"}
    - {attribute: "${attr.b}", operator: version, value: ">= banana"}
    - {attribute: "${attr.c}", operator: "=~", value: x}
    - {operator: "="}
    - {attribute: "${attr.d}", operator: is_set, value: x}
    - {attribute: "${meta.rack}", operator: distinct_property, value: "0"}
    - {attribute: "${attr.e}", operator: semver, value: "~> 1.2"}
  groups: [{name: g, affinities: [{attribute: "${attr.f}", value: y, weight: 0}], tasks: [{name: t, driver: raw_exec}]}]
)");
  EXPECT_NE(p.find("constraints[0].value: not a regular expression: "), std::string::npos) << p;
  EXPECT_TRUE(has_line(p,
                       "constraints[1].value: not a version constraint (e.g. \">= 1.2, < 2.0\" "
                       "or \"~> 1.2\")"))
      << p;
  EXPECT_NE(p.find("constraints[2].operator: unknown operator \"=~\""), std::string::npos) << p;
  EXPECT_NE(p.find("constraints[3].attribute: is required"), std::string::npos) << p;
  EXPECT_TRUE(has_line(p, "constraints[3].value: is required by operator \"=\"")) << p;
  EXPECT_TRUE(has_line(p, "constraints[4].value: operator is_set takes no value")) << p;
  EXPECT_TRUE(has_line(p, "constraints[5].value: must be a positive number of allocs per value"))
      << p;
  EXPECT_TRUE(has_line(p, "constraints[6].value: not a semver constraint (e.g. \">= 1.2, < 2.0\")"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].affinities[0].weight: must not be 0")) << p;
}

// Nomad's namespace names: letters, digits and '-' (a namespace is a part of keys and paths).
TEST(JobSemantics, ANamespaceIsANomadNamespaceName) {
  EXPECT_EQ(must_parse("job:\n  id: x\n  namespace: team-A-2\n  groups: [{name: g, tasks: "
                       "[{name: t, driver: raw_exec, config: {command: /bin/true}}]}]\n")
                .namespace_name,
            "team-A-2");
  for (const char* bad : {"a.b", "a/b", "a_b", "\"\""}) {
    std::string p = problems_of(std::string("job:\n  id: x\n  namespace: ") + bad +
                                "\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true}}]}]\n");
    EXPECT_EQ(p.rfind("namespace: ", 0), 0u) << bad << ": " << p;
  }
}

TEST(JobSemantics, NomadJsonProblemsUseJsonNamesEverywhere) {
  std::string p = problems_of(R"({"Job": {"ID": "x",
    "Spreads": [{"Attribute": "", "Weight": 200, "SpreadTarget": [{"Value": "a", "Percent": 101}]}],
    "TaskGroups": [{"Name": "g", "ShutdownDelay": -1, "Tasks": [{"Name": "t", "Driver": "raw_exec",
      "Config": {"args_x": 1},
      "Services": [{"Name": "web", "PortLabel": "http", "Checks": [
        {"Type": "http", "Path": "nope", "Interval": 1000000000, "Timeout": 1000000000}]}]}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.Spreads[0].Attribute: is required (e.g. \"${node.datacenter}\")"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.Spreads[0].Weight: must be at most 100")) << p;
  EXPECT_TRUE(has_line(p, "Job.Spreads[0].SpreadTarget[0].Percent: must be at most 100")) << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].ShutdownDelay: must not be negative")) << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[0].Services[0].PortLabel: \"http\" is not a port "
                       "label of the group's network (it has no ports)"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[0].Services[0].Checks[0].Path: must start with "
                       "'/' (got \"nope\")"))
      << p;
}

TEST(JobSemantics, ABareJobObjectIsAJob) {
  // What GET /v1/job/:id returns: no {"Job": ...} wrapper.
  Job bare = must_parse(R"({"ID": "x", "Type": "batch", "TaskGroups": [{"Name": "g",
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]})");
  Job wrapped = must_parse(R"({"Job": {"ID": "x", "Type": "batch", "TaskGroups": [{"Name": "g",
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_EQ(bare, wrapped);
  // The canonical JSON the API serves reads back as itself.
  EXPECT_EQ(must_parse(to_json(wrapped).dump()), wrapped);
  // Its problems keep the JSON paths.
  std::string p = problems_of(R"({"ID": "x", "TaskGroups": [{"Name": "g", "Count": 0,
    "Tasks": [{"Name": "t", "Driver": "raw_exec"}]}]})");
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Count: must be at least 1")) << p;
}

TEST(JobSemantics, DistinctHostsFalseInHclIsNoConstraint) {
  Job job = must_parse(R"(job "x" {
  constraint {
    distinct_hosts = false
  }
  constraint {
    distinct_property = "${meta.rack}"
    value             = 2
  }
  group "g" {
    task "t" { driver = "raw_exec" }
  }
}
)");
  ASSERT_EQ(job.placement.constraints.size(), 1u);
  EXPECT_EQ(job.placement.constraints[0], (Constraint{"${meta.rack}", "distinct_property", "2"}));
}

// ---- the operators, on resolved values ----------------------------------------------------

TEST(ConstraintOperators, EqualityAndInequality) {
  EXPECT_TRUE(check_operand("=", "linux", "linux"));
  EXPECT_TRUE(check_operand("==", "linux", "linux"));
  EXPECT_TRUE(check_operand("is", "linux", "linux"));
  EXPECT_FALSE(check_operand("=", "linux", "windows"));
  EXPECT_FALSE(check_operand("=", std::nullopt, "linux"));
  EXPECT_TRUE(check_operand("!=", "linux", "windows"));
  EXPECT_TRUE(check_operand("not", "linux", "windows"));
  EXPECT_FALSE(check_operand("!=", "linux", "linux"));
  // Nomad: a missing attribute is "" to !=.
  EXPECT_TRUE(check_operand("!=", std::nullopt, "linux"));
}

TEST(ConstraintOperators, OrderIsNumericWhenBothAreNumbersElseLexical) {
  EXPECT_TRUE(check_operand("<", "9", "10"));  // as strings "9" > "10"
  EXPECT_TRUE(check_operand("<=", "10", "10"));
  EXPECT_TRUE(check_operand(">", "2.5", "2.25"));
  EXPECT_TRUE(check_operand(">=", "3", "2.5"));
  EXPECT_TRUE(check_operand("<", "abc", "abd"));
  EXPECT_FALSE(check_operand(">", "abc", "abd"));
  EXPECT_FALSE(check_operand("<", std::nullopt, "1"));
}

TEST(ConstraintOperators, RegexpSearchesTheValue) {
  EXPECT_TRUE(check_operand("regexp", "Intel(R) Xeon(R) Gold", "Xeon"));
  EXPECT_TRUE(check_operand("regexp", "gpu-large", "^gpu-(small|large)$"));
  EXPECT_FALSE(check_operand("regexp", "cpu", "^gpu"));
  EXPECT_FALSE(check_operand("regexp", "x", "(bad"));
  EXPECT_TRUE(constraint_value_problem("regexp", "(bad").has_value());
}

TEST(ConstraintOperators, SetContainsAllAnyAndPlain) {
  EXPECT_TRUE(check_operand("set_contains", "a, b,c", "c,a"));
  EXPECT_TRUE(check_operand("set_contains_all", "a,b,c", "a,b"));
  EXPECT_FALSE(check_operand("set_contains_all", "a,b", "a,z"));
  EXPECT_TRUE(check_operand("set_contains_any", "a,b", "z,b"));
  EXPECT_FALSE(check_operand("set_contains_any", "a,b", "y,z"));
  EXPECT_FALSE(check_operand("set_contains", std::nullopt, "a"));
}

TEST(ConstraintOperators, IsSetAndIsNotSet) {
  EXPECT_TRUE(check_operand("is_set", "", std::nullopt));
  EXPECT_FALSE(check_operand("is_set", std::nullopt, std::nullopt));
  EXPECT_TRUE(check_operand("is_not_set", std::nullopt, std::nullopt));
  EXPECT_FALSE(check_operand("is_not_set", "x", std::nullopt));
}

TEST(ConstraintOperators, DistinctOperatorsAreCountsNotComparisons) {
  EXPECT_TRUE(check_operand("distinct_hosts", std::nullopt, std::nullopt));
  EXPECT_TRUE(check_operand("distinct_property", std::nullopt, "1"));
  EXPECT_FALSE(check_operand("bogus", "a", "a"));
  EXPECT_TRUE(known_constraint_operator("distinct_property"));
  EXPECT_FALSE(known_constraint_operator("=~"));
}

TEST(ConstraintOperators, VersionIsGoVersionLenient) {
  EXPECT_TRUE(check_operand("version", "1.4.2", ">= 1.2, < 2.0"));
  EXPECT_FALSE(check_operand("version", "2.0.0", ">= 1.2, < 2.0"));
  EXPECT_TRUE(check_operand("version", "v1.2", "= 1.2.0"));
  EXPECT_TRUE(check_operand("version", "6.1.0.4", ">= 6"));  // segments beyond 3
  // A kernel's "-amd64" reads as a prerelease, as in Nomad.
  EXPECT_FALSE(check_operand("version", "6.1.0-18-amd64", ">= 6"));
  EXPECT_TRUE(check_operand("version", "1.2.9", "~> 1.2.3"));
  EXPECT_FALSE(check_operand("version", "1.3.0", "~> 1.2.3"));
  EXPECT_TRUE(check_operand("version", "1.9", "~> 1.2"));
  EXPECT_FALSE(check_operand("version", "2.0", "~> 1.2"));
  EXPECT_TRUE(check_operand("version", "1.2.3", "!= 1.2.4"));
  // go-version: a prerelease never satisfies a constraint without one.
  EXPECT_FALSE(check_operand("version", "1.6.0-beta1", ">= 1.0"));
  EXPECT_TRUE(check_operand("version", "1.6.0-beta2", ">= 1.6.0-beta1"));
  EXPECT_FALSE(check_operand("version", "banana", ">= 1.0"));
  EXPECT_FALSE(constraint_value_problem("version", ">= 1.2, < 2.0").has_value());
  EXPECT_TRUE(constraint_value_problem("version", ">= 1.2 <").has_value());
}

TEST(ConstraintOperators, SemverIsStrictAndOrdersPrereleases) {
  EXPECT_TRUE(check_operand("semver", "1.6.0-beta1", ">= 1.0"));
  EXPECT_FALSE(check_operand("semver", "1.6.0-beta1", ">= 1.6.0"));
  EXPECT_TRUE(check_operand("semver", "1.0.0-rc.10", "> 1.0.0-rc.9"));
  EXPECT_TRUE(check_operand("semver", "1.0.0-alpha.beta", "> 1.0.0-alpha.1"));
  EXPECT_FALSE(check_operand("semver", "1.2.3.4", ">= 1.0"));  // four segments: not semver
  EXPECT_TRUE(constraint_value_problem("semver", "~> 1.2").has_value());
  EXPECT_EQ(version_matches("0.11.0", ">= 0.10.0, < 0.12", true), true);
}

// Nomad's group max_run_duration: read from every format, batch and sysbatch only.
TEST(JobSemantics, MaxRunDurationIsReadAndOnlyForBatchJobs) {
  Job hcl = must_parse(R"(job "j" {
  type = "batch"
  group "g" {
    max_run_duration = "90m"
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
)");
  EXPECT_EQ(hcl.groups[0].max_run_duration, std::chrono::minutes(90));
  Job from_json = must_parse(R"({"Job": {"ID": "j", "Type": "sysbatch", "TaskGroups": [{"Name": "g",
    "MaxRunDuration": 5000000000, "Tasks": [{"Name": "t", "Driver": "raw_exec"}]}]}})");
  EXPECT_EQ(from_json.groups[0].max_run_duration, std::chrono::seconds(5));
  auto p = problems_of(
      "job: {id: j, groups: [{name: g, max_run_duration: 1m, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_TRUE(has_line(p,
                       "groups[0].max_run_duration: job type \"service\" does not allow "
                       "max_run_duration (batch and sysbatch jobs do)"))
      << p;
}

}  // namespace
}  // namespace drover::jobspec
