// Nomad JSON jobs ({"Job": {...}}): every field lands, server fields are ignored, and a key
// drover does not support is refused when it carries a value, never silently dropped.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

constexpr const char* kFullJob = R"({
  "Job": {
    "ID": "web-app",
    "Name": "Web App",
    "Type": "service",
    "Datacenters": ["dc1", "dc2"],
    "Priority": 70,
    "Meta": {"owner": "ops"},
    "Update": {"HealthCheck": "task_states", "MinHealthyTime": 20000000000,
               "HealthyDeadline": 600000000000},
    "TaskGroups": [{
      "Name": "web",
      "Count": 3,
      "RestartPolicy": {"Attempts": 5, "Interval": 3600000000000, "Delay": 10000000000,
                        "Mode": "delay"},
      "EphemeralDisk": {"SizeMB": 300, "Sticky": false, "Migrate": false},
      "Update": {"MinHealthyTime": 30000000000},
      "Meta": {"tier": "front"},
      "Tasks": [{
        "Name": "server",
        "Driver": "raw_exec",
        "User": "nobody",
        "Config": {"command": "/bin/sh", "args": ["-c", "echo hi"], "port": 8080},
        "Env": {"PORT": "8080"},
        "Resources": {"CPU": 500, "Cores": 0, "MemoryMB": 256, "MemoryMaxMB": 512, "Pids": 200,
                      "Devices": [{"Name": "nvidia/gpu", "Count": 2, "Constraints": [
                        {"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "4 GiB"}]}]},
        "Lifecycle": null,
        "Leader": true,
        "KillTimeout": 20000000000,
        "KillSignal": "SIGINT",
        "LogConfig": {"MaxFiles": 3, "MaxFileSizeMB": 15, "Disabled": false},
        "Services": null,
        "Meta": {"role": "main"}
      }, {
        "Name": "setup",
        "Driver": "exec",
        "Lifecycle": {"Hook": "prestart", "Sidecar": true},
        "Resources": {"Cores": 2},
        "LogConfig": {"Disabled": true}
      }]
    }]
  }
})";

TEST(ParseNomadJson, EveryFieldLands) {
  Job job = must_parse(kFullJob);
  EXPECT_EQ(job.id, "web-app");
  EXPECT_EQ(job.name, "Web App");
  EXPECT_EQ(job.type, JobType::Service);
  EXPECT_EQ(job.datacenters, (std::vector<std::string>{"dc1", "dc2"}));
  EXPECT_EQ(job.priority, 70);
  EXPECT_EQ(job.meta.at("owner"), "ops");
  ASSERT_TRUE(job.update.has_value());
  EXPECT_EQ(job.update->health_check, "task_states");
  EXPECT_EQ(job.update->min_healthy_time, 20s);
  EXPECT_EQ(job.update->healthy_deadline, 10min);

  const TaskGroup& g = job.groups.at(0);
  EXPECT_EQ(g.name, "web");
  EXPECT_EQ(g.count, 3);
  EXPECT_EQ(g.restart.attempts, 5);
  EXPECT_EQ(g.restart.interval, 1h);
  EXPECT_EQ(g.restart.delay, 10s);
  EXPECT_EQ(g.restart.mode, "delay");
  ASSERT_TRUE(g.update.has_value());
  EXPECT_EQ(g.update->min_healthy_time, 30s);
  EXPECT_EQ(g.update->health_check, "task_states");
  EXPECT_EQ(g.meta.at("tier"), "front");

  const Task& t = g.tasks.at(0);
  EXPECT_EQ(t.name, "server");
  EXPECT_EQ(t.driver, "raw_exec");
  EXPECT_EQ(t.user, "nobody");
  EXPECT_EQ(t.config,
            json::parse(R"({"command": "/bin/sh", "args": ["-c", "echo hi"], "port": 8080})"));
  EXPECT_EQ(t.env.at("PORT"), "8080");
  EXPECT_EQ(t.resources.cpu_mhz, 500);
  EXPECT_EQ(t.resources.memory_mb, 256);
  EXPECT_EQ(t.resources.memory_max_mb, 512);
  EXPECT_EQ(t.resources.pids, 200);
  ASSERT_EQ(t.resources.devices.size(), 1u);
  EXPECT_EQ(t.resources.devices[0].name, "nvidia/gpu");
  EXPECT_EQ(t.resources.devices[0].count, 2);
  EXPECT_EQ(
      t.resources.devices[0].constraints,
      json::parse(R"([{"attribute":"${device.attr.memory}","operator":">=","value":"4 GiB"}])"));
  EXPECT_EQ(t.lifecycle.hook, "");
  EXPECT_TRUE(t.leader);
  EXPECT_EQ(t.kill_timeout, 20s);
  EXPECT_EQ(t.kill_signal, "SIGINT");
  EXPECT_EQ(t.logs.max_files, 3);
  EXPECT_EQ(t.logs.max_file_size_mb, 15);
  EXPECT_FALSE(t.logs.disabled);
  EXPECT_EQ(t.meta.at("role"), "main");

  const Task& s = g.tasks.at(1);
  EXPECT_EQ(s.lifecycle.hook, "prestart");
  EXPECT_TRUE(s.lifecycle.sidecar);
  EXPECT_EQ(s.resources.cores, 2);
  EXPECT_EQ(s.resources.cpu_mhz, 0);
  EXPECT_TRUE(s.logs.disabled);
  EXPECT_EQ(s.logs.max_files, 10);
}

TEST(ParseNomadJson, NullBlocksGetDefaults) {
  Job job = must_parse(R"({"Job": {"ID": "b", "Type": "batch", "Name": null, "Update": null,
    "TaskGroups": [{"Name": "g", "Count": null, "RestartPolicy": null, "Tasks": [
      {"Name": "t", "Driver": "raw_exec", "Resources": null, "LogConfig": null,
       "KillTimeout": null, "Config": null, "Env": null}]}]}})");
  EXPECT_EQ(job.name, "b");
  const TaskGroup& g = job.groups.at(0);
  EXPECT_EQ(g.count, 1);
  EXPECT_EQ(g.restart.attempts, 3);
  EXPECT_EQ(g.restart.interval, 24h);
  const Task& t = g.tasks.at(0);
  EXPECT_EQ(t.resources.cpu_mhz, 100);
  EXPECT_EQ(t.resources.memory_mb, 300);
  EXPECT_EQ(t.logs.max_files, 10);
  EXPECT_EQ(t.kill_timeout, 5s);
  EXPECT_TRUE(t.config.is_object());
}

// What `nomad job inspect` prints: server fields, Nomad's own defaults for keys drover has
// no use for, and the group's restart policy copied into each task.
TEST(ParseNomadJson, InspectOutputRuns) {
  Job job = must_parse(R"({"Job": {
    "ID": "i", "Name": "i", "Type": "service", "Namespace": "default", "Region": "global",
    "NodePool": "default", "CreateIndex": 12, "ModifyIndex": 14, "JobModifyIndex": 12,
    "SubmitTime": 1700000000000000000, "Status": "running", "StatusDescription": "",
    "Stable": true, "Version": 3, "Dispatched": false, "VaultToken": "",
    "AllAtOnce": false, "Constraints": null, "Affinities": null, "Spreads": null,
    "Periodic": null, "ParameterizedJob": null, "Stop": false, "ParentID": "",
    "Update": {"Stagger": 30000000000, "MaxParallel": 1, "HealthCheck": "",
               "MinHealthyTime": 0, "HealthyDeadline": 0, "ProgressDeadline": 0,
               "AutoRevert": false, "AutoPromote": false, "Canary": 0},
    "TaskGroups": [{
      "Name": "g", "Count": 1, "Networks": [], "Services": null, "Volumes": null,
      "Consul": {"Namespace": "", "Cluster": "default"},
      "ReschedulePolicy": {"Attempts": 0, "Interval": 0, "Delay": 30000000000,
                           "DelayFunction": "exponential", "MaxDelay": 3600000000000,
                           "Unlimited": true},
      "Migrate": {"MaxParallel": 1, "HealthCheck": "checks", "MinHealthyTime": 10000000000,
                  "HealthyDeadline": 300000000000},
      "RestartPolicy": {"Attempts": 2, "Interval": 1800000000000, "Delay": 15000000000,
                        "Mode": "fail"},
      "EphemeralDisk": {"Sticky": false, "SizeMB": 300, "Migrate": false},
      "Update": {"Stagger": 30000000000, "MaxParallel": 1, "HealthCheck": "checks",
                 "MinHealthyTime": 10000000000, "HealthyDeadline": 300000000000,
                 "ProgressDeadline": 600000000000, "AutoRevert": false, "Canary": 0},
      "Tasks": [{
        "Name": "t", "Driver": "raw_exec", "User": "", "Config": {"command": "/bin/true"},
        "Env": null, "Services": null, "Vault": null, "Templates": null, "Artifacts": null,
        "Constraints": null, "Affinities": null, "ShutdownDelay": 0, "Kind": "",
        "RestartPolicy": {"Attempts": 2, "Interval": 1800000000000, "Delay": 15000000000,
                          "Mode": "fail"},
        "Resources": {"CPU": 100, "Cores": 0, "MemoryMB": 300, "MemoryMaxMB": 0, "DiskMB": 0,
                      "IOPS": 0, "Networks": null, "Devices": null, "NUMA": null},
        "LogConfig": {"MaxFiles": 10, "MaxFileSizeMB": 10, "Disabled": false, "Enabled": null},
        "KillTimeout": 5000000000, "KillSignal": "", "Leader": false, "Lifecycle": null,
        "Meta": null
      }]
    }]
  }})");
  EXPECT_EQ(job.id, "i");
  EXPECT_FALSE(job.update.has_value())
      << "a job-level update with only zero health fields is unset";
  ASSERT_TRUE(job.groups.at(0).update.has_value());
  EXPECT_EQ(job.groups[0].update->health_check, "checks");
  EXPECT_EQ(job.groups[0].update->healthy_deadline, 5min);
}

TEST(ParseNomadJson, UnsupportedKeysWithValuesRefused) {
  std::string p = problems_of(R"({"Job": {
    "ID": "x", "Multiregion": {"Regions": [{"Name": "eu"}]}, "Periodic": {"Spec": "* * * * *"},
    "TaskGroups": [{
      "Name": "g",
      "Networks": [{"Mode": "cni/my net"}],
      "EphemeralDisk": {"SizeMB": 300, "Sticky": true},
      "Update": {"Canary": 1, "MinHealthyTime": -1},
      "Tasks": [{"Name": "t", "Driver": "raw_exec",
                 "Services": [{"Name": "web", "Connect": {"Native": true}}],
                 "Templates": [{"EmbeddedTmpl": "x"}],
                 "RestartPolicy": {"Attempts": 9},
                 "Resources": {"MemoryMb": 300, "DiskMB": 500}}]
    }]}})");
  EXPECT_TRUE(has_line(p, "Job.Multiregion: not supported by drover")) << p;
  // Periodic is read now; on a service job it is Nomad's own refusal.
  EXPECT_TRUE(has_line(p, "Job.Periodic: only batch and sysbatch jobs can be periodic (the job's type is \"service\")")) << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Networks[0].Mode: \"cni/my net\" must name a CNI network "
                       "after \"cni/\": a letter or digit, then letters, digits, '_', '.' or '-'"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Update.MinHealthyTime: must not be negative")) << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[0].Services[0].Connect: not supported by drover")) << p;
  // Templates are read now (docs/templates.md); this one lacks its destination.
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[0].Templates[0].DestPath: is required (a file "
                       "beneath the task dir, e.g. \"local/app.conf\")"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[0].Resources.MemoryMb: not supported by "
                       "drover (did you mean \"MemoryMB\"?)"))
      << p;
  // Nomad ignores a task's DiskMB; so does drover, with a warning at submit.
  EXPECT_EQ(p.find("DiskMB"), std::string::npos) << p;
}

TEST(ParseNomadJson, UnsupportedKeysThatSayNothingAccepted) {
  Job job = must_parse(R"({"Job": {"ID": "x", "Periodic": null, "Spreads": [],
    "Constraints": [], "Multiregion": null, "ConsulToken": "", "AllAtOnce": false,
    "TaskGroups": [{"Name": "g", "Networks": null, "Scaling": null, "ShutdownDelay": 0,
      "Tasks": [{"Name": "t", "Driver": "raw_exec", "Services": [], "Vault": null,
                 "Resources": {"DiskMB": 0, "Networks": []}}]}]}})");
  EXPECT_EQ(job.groups.at(0).tasks.at(0).name, "t");
}

TEST(ParseNomadJson, ValidationPathsUseJsonKeys) {
  std::string p = problems_of(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Count": 0,
    "Tasks": [{"Name": "a", "Driver": "raw_exec"},
              {"Name": "b", "Driver": "raw_exec", "KillTimeout": -1,
               "Resources": {"MemoryMB": 5, "CPU": 200, "Cores": 1}}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Count: must be at least 1")) << p;
  EXPECT_TRUE(
      has_line(p, "Job.TaskGroups[0].Tasks[1].Resources.MemoryMB: must be at least 10 (MB)"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[1].Resources.CPU: cannot be set together with "
                       "cores (ask for cpu or cores, not both)"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[1].KillTimeout: must not be negative")) << p;
}

TEST(ParseNomadJson, WrongTypesNamed) {
  std::string p = problems_of(R"({"Job": {"ID": 7, "Priority": "high", "TaskGroups": [{
    "Name": "g", "Count": 1.5,
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "KillTimeout": "5s", "Env": {"A": 1},
               "Leader": "yes"}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.ID: must be a string (got number)")) << p;
  EXPECT_TRUE(has_line(p, "Job.Priority: must be an integer (got \"high\")")) << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Count: must be an integer (got 1.5)")) << p;
  EXPECT_TRUE(has_line(p,
                       "Job.TaskGroups[0].Tasks[0].KillTimeout: must be an integer number of "
                       "nanoseconds (got \"5s\")"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[0].Env.A: must be a string (got number)")) << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Tasks[0].Leader: must be true or false (got \"yes\")"))
      << p;
}

TEST(ParseNomadJson, MalformedJsonGivesLineAndColumn) {
  ParseResult r = parse_job("{\"Job\": {\"ID\": \"x\",\n  \"Name\": oops}}");
  ASSERT_EQ(r.problems.size(), 1u) << format_problems(r.problems);
  EXPECT_TRUE(r.problems[0].path.empty());
  EXPECT_NE(r.problems[0].message.find("malformed JSON at line 2, column 11"), std::string::npos)
      << r.problems[0].message;
}

TEST(ParseNomadJson, AnUnknownJobTypeIsRefused) {
  std::string p = problems_of(R"({"Job": {"ID": "x", "Type": "daemon", "TaskGroups": [
    {"Name": "g", "Tasks": [{"Name": "t", "Driver": "raw_exec"}]}]}})");
  EXPECT_TRUE(has_line(p,
                       "Job.Type: must be \"service\", \"batch\", \"system\" or \"sysbatch\" "
                       "(got \"daemon\")"))
      << p;
}

}  // namespace
}  // namespace drover::jobspec
