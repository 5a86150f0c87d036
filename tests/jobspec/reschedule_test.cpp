// The reschedule block (docs/jobspec.md, "reschedule"): read from HCL, YAML and Nomad JSON,
// merged job -> group over the job type's default as Nomad merges it, kept in the job JSON,
// and refused with Nomad's rules.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace drover::jobspec;
using namespace std::chrono_literals;
using drover::jobspec::testing::has_line;
using drover::jobspec::testing::must_parse;
using drover::jobspec::testing::problems_of;

namespace {

const char* kHcl = R"(job "web" {
  reschedule {
    delay          = "10s"
    delay_function = "fibonacci"
    max_delay      = "2m"
  }
  group "a" {
    reschedule {
      attempts  = 3
      interval  = "1h"
      unlimited = false
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
  group "b" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)";

TEST(Reschedule, HclGroupBlockIsMergedOverTheJobsOverTheServiceDefault) {
  Job j = must_parse(kHcl);
  ASSERT_TRUE(j.reschedule.has_value());
  ASSERT_TRUE(j.groups.at(0).reschedule.has_value());
  const auto& a = *j.groups[0].reschedule;
  EXPECT_EQ(a.attempts, 3);
  EXPECT_EQ(a.interval, 1h);
  EXPECT_FALSE(a.unlimited);
  EXPECT_EQ(a.delay, 10s) << "from the job's block";
  EXPECT_EQ(a.delay_function, "fibonacci");
  EXPECT_EQ(a.max_delay, 2min);
  ASSERT_TRUE(j.groups.at(1).reschedule.has_value()) << "the job's block alone";
  EXPECT_TRUE(j.groups[1].reschedule->unlimited) << "the service default underneath";
  EXPECT_EQ(j.groups[1].reschedule->delay, 10s);
}

TEST(Reschedule, TheJobJsonKeepsThePolicyAndReadsBackEqual) {
  Job j = must_parse(kHcl);
  auto doc = to_json(j);
  EXPECT_EQ(doc["Reschedule"]["DelayFunction"], "fibonacci");
  EXPECT_EQ(doc["TaskGroups"][0]["ReschedulePolicy"]["Attempts"], 3);
  EXPECT_EQ(doc["TaskGroups"][0]["ReschedulePolicy"]["Interval"], 3600'000'000'000LL);
  EXPECT_EQ(job_from_json(doc), j);
  Job plain = must_parse(
      "job:\n  id: x\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
      "          driver: raw_exec\n          config: {command: /bin/true}\n");
  EXPECT_FALSE(plain.groups[0].reschedule.has_value());
  EXPECT_FALSE(to_json(plain)["TaskGroups"][0].contains("ReschedulePolicy"));
}

TEST(Reschedule, YamlAndNomadJsonReadTheSameBlock) {
  Job y = must_parse(R"(job:
  id: b
  type: batch
  groups:
    - name: g
      reschedule: {attempts: 2, interval: 10m, delay_function: exponential, max_delay: 1m}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  const auto& r = y.groups.at(0).reschedule.value();
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.interval, 10min);
  EXPECT_EQ(r.delay, 5s) << "the batch default";
  EXPECT_EQ(r.delay_function, "exponential");
  EXPECT_EQ(r.max_delay, 1min);
  EXPECT_FALSE(r.unlimited);
  Job n = must_parse(R"({"Job": {"ID": "b", "Type": "batch",
    "Reschedule": {"Attempts": 2, "Interval": 600000000000},
    "TaskGroups": [{"Name": "g",
      "ReschedulePolicy": {"DelayFunction": "exponential", "MaxDelay": 60000000000},
      "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_EQ(n.groups.at(0).reschedule, y.groups[0].reschedule);
}

TEST(Reschedule, NomadsRulesRefuseABadPolicyNamingTheField) {
  auto p = problems_of(R"(job "w" {
  group "g" {
    reschedule {
      attempts       = 2
      interval       = "30s"
      delay          = "20s"
      delay_function = "constant"
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  EXPECT_NE(p.find("cannot fit 2 attempts 20s apart in 30s"), std::string::npos) << p;
  p = problems_of(R"(job:
  id: w
  groups:
    - name: g
      reschedule: {delay: 1s, delay_function: linear, attempts: 1, unlimited: true}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_NE(p.find("groups[0].reschedule.delay_function: must be \"constant\", \"exponential\" "
                   "or \"fibonacci\" (got \"linear\")"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("groups[0].reschedule.unlimited: cannot be true with attempts 1"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("groups[0].reschedule.delay: must be at least 5s (got 1s)"), std::string::npos)
      << p;
}

TEST(Reschedule, AttemptsZeroWithoutUnlimitedTurnsReschedulingOff) {
  Job j = must_parse(R"(job:
  id: w
  groups:
    - name: g
      reschedule: {attempts: 0, unlimited: false, delay: 1s}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  auto r = reschedule_policy_of(j.groups[0], j.type);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_FALSE(r.unlimited);
}

TEST(Reschedule, NomadsDefaultsPerJobType) {
  auto s = default_reschedule_policy(JobType::Service);
  EXPECT_TRUE(s.unlimited);
  EXPECT_EQ(s.delay, 30s);
  EXPECT_EQ(s.delay_function, "exponential");
  EXPECT_EQ(s.max_delay, 1h);
  auto b = default_reschedule_policy(JobType::Batch);
  EXPECT_EQ(b.attempts, 1);
  EXPECT_EQ(b.interval, 24h);
  EXPECT_EQ(b.delay, 5s);
  EXPECT_EQ(b.delay_function, "constant");
  EXPECT_FALSE(b.unlimited);
  auto sys = default_reschedule_policy(JobType::System);
  EXPECT_FALSE(sys.unlimited);
  EXPECT_EQ(sys.attempts, 0);
}

}  // namespace

namespace {

TEST(Migrate, ReadFromEachFormatAndCheckedByNomadsRules) {
  Job y = must_parse(R"(job:
  id: m
  groups:
    - name: g
      migrate: {max_parallel: 2, health_check: task_states, min_healthy_time: 5s, healthy_deadline: 1m}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  ASSERT_TRUE(y.groups[0].migrate.has_value());
  EXPECT_EQ(y.groups[0].migrate->max_parallel, 2);
  EXPECT_EQ(y.groups[0].migrate->health_check, "task_states");
  EXPECT_EQ(y.groups[0].migrate->min_healthy_time, 5s);
  EXPECT_EQ(y.groups[0].migrate->healthy_deadline, 1min);
  EXPECT_EQ(job_from_json(to_json(y)), y);
  Job h = must_parse(R"(job "m" {
  group "g" {
    migrate {
      max_parallel     = 2
      health_check     = "task_states"
      min_healthy_time = "5s"
      healthy_deadline = "1m"
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  EXPECT_EQ(h.groups.at(0).migrate, y.groups[0].migrate);
  auto p = problems_of(R"(job:
  id: m
  groups:
    - name: g
      migrate: {health_check: manual, min_healthy_time: 2m, healthy_deadline: 1m}
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
)");
  EXPECT_TRUE(has_line(p,
                       "groups[0].migrate.health_check: must be \"checks\" or \"task_states\" "
                       "(got \"manual\")"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].migrate.healthy_deadline: must be longer than "
                       "min_healthy_time (2m)"))
      << p;
}

}  // namespace
