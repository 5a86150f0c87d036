// periodic, parameterized and dispatch_payload in all three job formats: the same Job from
// YAML, Nomad JSON and HCL, its canonical JSON round trip, and the problems a user sees.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

const char* kYaml = R"(job:
  id: report
  type: batch
  periodic:
    crons: ["*/2 * * * * * *", "@daily"]
    prohibit_overlap: true
    time_zone: Europe/Berlin
    enabled: true
  parameterized:
    payload: required
    meta_required: [customer]
    meta_optional: [format]
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/true}
          dispatch_payload: {file: input.json}
)";

const char* kJson = R"({"Job": {
  "ID": "report", "Type": "batch",
  "Periodic": {"Enabled": true, "Specs": ["*/2 * * * * * *", "@daily"], "SpecType": "cron",
               "ProhibitOverlap": true, "TimeZone": "Europe/Berlin"},
  "ParameterizedJob": {"Payload": "required", "MetaRequired": ["customer"],
                       "MetaOptional": ["format"]},
  "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "raw_exec",
      "Config": {"command": "/bin/true"}, "DispatchPayload": {"File": "input.json"}}]}]}})";

const char* kHcl = R"(job "report" {
  type = "batch"
  periodic {
    crons            = ["*/2 * * * * * *", "@daily"]
    prohibit_overlap = true
    time_zone        = "Europe/Berlin"
    enabled          = true
  }
  parameterized {
    payload       = "required"
    meta_required = ["customer"]
    meta_optional = ["format"]
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      dispatch_payload { file = "input.json" }
    }
  }
}
)";

TEST(JobLaunches, TheSameJobFromYamlNomadJsonAndHcl) {
  Job yaml = must_parse(kYaml);
  ASSERT_TRUE(yaml.periodic);
  EXPECT_EQ(yaml.periodic->crons, (std::vector<std::string>{"*/2 * * * * * *", "@daily"}));
  EXPECT_TRUE(yaml.periodic->prohibit_overlap);
  EXPECT_EQ(yaml.periodic->time_zone, "Europe/Berlin");
  ASSERT_TRUE(yaml.parameterized);
  EXPECT_EQ(yaml.parameterized->payload, "required");
  EXPECT_EQ(yaml.parameterized->meta_required, std::vector<std::string>{"customer"});
  ASSERT_TRUE(yaml.groups[0].tasks[0].dispatch_payload);
  EXPECT_EQ(yaml.groups[0].tasks[0].dispatch_payload->file, "input.json");
  EXPECT_TRUE(launches_children(yaml));
  EXPECT_EQ(must_parse(kJson), yaml);
  EXPECT_EQ(must_parse(kHcl), yaml);
}

TEST(JobLaunches, CanonicalJsonRoundTripsAndIsNomads) {
  Job job = must_parse(kYaml);
  job.parent_id = "parent";
  job.dispatched = true;
  job.payload = std::string("bytes\0and\xff", 10);
  json j = to_json(job);
  EXPECT_EQ(j["Periodic"]["SpecType"], "cron");
  EXPECT_EQ(j["ParameterizedJob"]["MetaOptional"], json::array({"format"}));
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["DispatchPayload"]["File"], "input.json");
  EXPECT_EQ(j["Payload"], "Ynl0ZXMAYW5k/w==");
  EXPECT_EQ(job_from_json(j), job);
  // One cron is Nomad's Spec.
  job.periodic->crons = {"0 * * * *"};
  EXPECT_EQ(to_json(job)["Periodic"]["Spec"], "0 * * * *");
  EXPECT_EQ(job_from_json(to_json(job)), job);
  // A plain job keeps null blocks and no payload.
  Job plain = must_parse("job: {id: p, groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_TRUE(to_json(plain)["Periodic"].is_null());
  EXPECT_TRUE(to_json(plain)["Payload"].is_null());
  EXPECT_FALSE(launches_children(plain));
  EXPECT_EQ(job_from_json(to_json(plain)), plain);
}

TEST(JobLaunches, DefaultsAreNomads) {
  Job j = must_parse(
      "job: {id: p, type: batch, periodic: {cron: '@hourly'}, parameterized: {},"
      " groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_TRUE(j.periodic->enabled);
  EXPECT_EQ(j.periodic->time_zone, "UTC");
  EXPECT_FALSE(j.periodic->prohibit_overlap);
  EXPECT_EQ(j.parameterized->payload, "optional");
  Job h = must_parse(R"(job "p" {
  type = "batch"
  periodic { cron = "@hourly" }
  parameterized {}
  group "g" {
    task "t" { driver = "raw_exec" }
  }
})");
  EXPECT_EQ(h, j);
  // A disabled periodic job launches nothing but still never runs by itself (Nomad's rule).
  Job off = must_parse(
      "job: {id: p, type: batch, periodic: {cron: '@hourly', enabled: false},"
      " groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_TRUE(launches_children(off));
  // A dispatched child of a parameterized job runs.
  Job child = j;
  child.periodic.reset();
  child.dispatched = true;
  EXPECT_FALSE(launches_children(child));
}

TEST(JobLaunches, BadCronsAndZonesNameTheField) {
  auto p = problems_of(
      "job: {id: p, type: batch, periodic: {cron: '61 * * * *', time_zone: Mars/Base},"
      " groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_TRUE(
      has_line(p, "periodic.cron: \"61 * * * *\": minute field: \"61\" is not a minute (0-59)"))
      << p;
  EXPECT_NE(p.find("periodic.time_zone: unknown time zone \"Mars/Base\""), std::string::npos) << p;
  auto j = problems_of(R"({"Job": {"ID": "p", "Type": "batch",
      "Periodic": {"Specs": ["* * * * *", "bad"], "TimeZone": "../etc/passwd"},
      "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "raw_exec"}]}]}})");
  EXPECT_NE(j.find("Job.Periodic.Specs[1]: \"bad\": has 1 fields"), std::string::npos) << j;
  EXPECT_NE(j.find("Job.Periodic.TimeZone: \"../etc/passwd\" is not a time zone name"),
            std::string::npos)
      << j;
  auto h = problems_of(R"(job "p" {
  type = "batch"
  periodic {
    cron = "* * * * 9"
  }
  group "g" {
    task "t" { driver = "raw_exec" }
  }
})");
  EXPECT_NE(h.find("periodic.cron at line 4: \"* * * * 9\": day-of-week field"), std::string::npos)
      << h;
}

TEST(JobLaunches, NomadsRulesForTypesPayloadAndMeta) {
  auto p = problems_of(
      "job: {id: p, periodic: {cron: '@daily', crons: ['@hourly']},"
      " parameterized: {payload: sometimes, meta_required: [a, a], meta_optional: [a, 'x=y']},"
      " groups: [{name: g, tasks: [{name: t, driver: raw_exec,"
      " dispatch_payload: {file: ../../etc/cron.d/x}}]}]}");
  EXPECT_TRUE(has_line(p, "periodic.crons: use cron or crons, not both")) << p;
  EXPECT_TRUE(
      has_line(p, "periodic: only batch and sysbatch jobs can be periodic (the job's type is \"service\")"))
      << p;
  EXPECT_TRUE(has_line(
      p, "parameterized: only batch and sysbatch jobs can be parameterized (the job's type is \"service\")"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "parameterized.payload: must be \"optional\", \"required\" or \"forbidden\" "
                       "(got \"sometimes\")"))
      << p;
  EXPECT_TRUE(has_line(p, "parameterized.meta_required[1]: \"a\" is also in meta_required")) << p;
  EXPECT_TRUE(has_line(p, "parameterized.meta_optional[0]: \"a\" is also in meta_required")) << p;
  EXPECT_TRUE(has_line(p,
                       "parameterized.meta_optional[1]: must be a meta key (not empty, no '=' or "
                       "control characters)"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].dispatch_payload.file: \"../../etc/cron.d/x\" must name "
                       "a file under local/ (no empty, . or .. parts)"))
      << p;
  auto abs = problems_of(
      "job: {id: p, type: batch, parameterized: {}, groups: [{name: g, tasks: [{name: t,"
      " driver: raw_exec, dispatch_payload: {file: /etc/passwd}}]}]}");
  EXPECT_TRUE(has_line(
      abs, "groups[0].tasks[0].dispatch_payload.file: must be relative to the task's local/ dir"))
      << abs;
  auto unknown = problems_of(
      "job: {id: p, type: batch, periodic: {cron: '@daily', prohibit_overlaps: true},"
      " groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_NE(
      unknown.find("periodic.prohibit_overlaps: unknown key (did you mean \"prohibit_overlap\"?)"),
      std::string::npos)
      << unknown;
}

std::string example(const std::string& name) {
  std::ifstream in(std::string(DROVER_EXAMPLES_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JobLaunches, TheExamplesAreOneJobInEachFormat) {
  for (const std::string name : {"periodic-report", "dispatch-greeting"}) {
    Job yaml = must_parse(example(name + ".yaml"));
    EXPECT_TRUE(launches_children(yaml)) << name;
    EXPECT_EQ(must_parse(example(name + ".json")), yaml) << name;
    EXPECT_EQ(must_parse(example(name + ".nomad.hcl")), yaml) << name;
  }
}

}  // namespace
}  // namespace drover::jobspec
