// A group's scaling block (docs/jobspec.md, "scaling"): read alike from HCL, YAML and Nomad
// JSON, count and min defaulted from each other as Nomad does, refused with the field's path
// when its bounds do not hold, and the bounds then held by `job scale` (jobspec/scaling.hpp).
#include <gtest/gtest.h>

#include "jobspec/scaling.hpp"
#include "test_util.hpp"

using namespace drover::jobspec;
using drover::jobspec::testing::has_line;
using drover::jobspec::testing::must_parse;
using drover::jobspec::testing::problems_of;
using nlohmann::json;

namespace {

const char* kHcl = R"(job "web" {
  group "api" {
    count = 3
    scaling {
      enabled = true
      min     = 1
      max     = 10
      policy {
        cooldown = "1m"
        check "cpu" {
          source = "nomad-apm"
          strategy "target-value" {
            target = 70
          }
        }
      }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)";

// A YAML job whose only group carries `group_yaml` (indented under the group).
std::string yaml_job(const std::string& group_yaml) {
  return "job:\n  id: web\n  groups:\n    - name: api\n" + group_yaml +
         "      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config: {command: /bin/true}\n";
}

TEST(Scaling, HclBlockIsReadWithItsPolicyKeptAsNomadDecodesIt) {
  Job j = must_parse(kHcl);
  ASSERT_TRUE(j.groups.at(0).scaling.has_value());
  const Scaling& s = *j.groups[0].scaling;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 10);
  EXPECT_EQ(s.type, "horizontal");
  EXPECT_EQ(j.groups[0].count, 3);
  // Opaque to drover: attributes as written, blocks as lists of objects, one level per label.
  EXPECT_EQ(s.policy, json::parse(R"({"cooldown": "1m", "check": [{"cpu": [{
      "source": "nomad-apm",
      "strategy": [{"target-value": [{"target": 70}]}]}]}]})"))
      << s.policy.dump();
}

TEST(Scaling, JobJsonHasNomadsShapeAndReadsBackEqual) {
  Job j = must_parse(R"(job "web" {
  group "api" {
    scaling {
      min = 2
      max = 5
      policy { cooldown = "1m" }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
)");
  json doc = to_json(j);
  const json& s = doc["TaskGroups"][0]["Scaling"];
  EXPECT_EQ(s["Min"], 2);
  EXPECT_EQ(s["Max"], 5);
  EXPECT_EQ(s["Enabled"], true);
  EXPECT_EQ(s["Type"], "horizontal");
  EXPECT_EQ(s["Policy"], json({{"cooldown", "1m"}}));
  EXPECT_EQ(doc["TaskGroups"][0]["Count"], 2) << "no count: the scaling min, as in Nomad";
  EXPECT_EQ(job_from_json(doc), j);
  // What `nomad job inspect` prints (with the servers' ID, Target and indexes) runs as is.
  json inspected = {{"Job", doc}};
  inspected["Job"]["TaskGroups"][0]["Scaling"]["ID"] = "0b7ed0c8-5d27-4bd6-a17b-5d7c7e3e0000";
  inspected["Job"]["TaskGroups"][0]["Scaling"]["Target"] = {{"Job", "web"}, {"Group", "api"}};
  inspected["Job"]["TaskGroups"][0]["Scaling"]["CreateIndex"] = 12;
  Job again = must_parse(inspected.dump());
  EXPECT_EQ(again.groups.at(0).scaling, j.groups[0].scaling);
}

TEST(Scaling, YamlAndNomadJsonReadTheSameBlockAsHcl) {
  Job h = must_parse(kHcl);
  Job y = must_parse(yaml_job(
      "      count: 3\n"
      "      scaling:\n"
      "        enabled: true\n"
      "        min: 1\n"
      "        max: 10\n"
      "        policy:\n"
      "          cooldown: 1m\n"
      "          check:\n"
      "            - cpu:\n"
      "                - source: nomad-apm\n"));
  ASSERT_TRUE(y.groups.at(0).scaling.has_value());
  EXPECT_EQ(y.groups[0].scaling->min, h.groups[0].scaling->min);
  EXPECT_EQ(y.groups[0].scaling->max, h.groups[0].scaling->max);
  EXPECT_EQ(y.groups[0].count, 3);
  EXPECT_EQ(y.groups[0].scaling->policy["cooldown"], "1m");
  Job n = must_parse(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "api", "Count": 3,
    "Scaling": {"Min": 1, "Max": 10, "Enabled": true, "Type": "horizontal",
                "Policy": {"cooldown": "1m"}},
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  ASSERT_TRUE(n.groups.at(0).scaling.has_value());
  EXPECT_EQ(n.groups[0].scaling->min, 1);
  EXPECT_EQ(n.groups[0].scaling->max, 10);
  EXPECT_EQ(n.groups[0].scaling->policy, json({{"cooldown", "1m"}}));
}

TEST(Scaling, CountAndMinDefaultFromEachOtherAsInNomad) {
  Job no_count = must_parse(yaml_job("      scaling: {min: 4, max: 9}\n"));
  EXPECT_EQ(no_count.groups.at(0).count, 4) << "count unset: the scaling min";
  Job no_min = must_parse(yaml_job("      count: 6\n      scaling: {max: 9}\n"));
  EXPECT_EQ(no_min.groups.at(0).scaling->min, 6) << "min unset: the count";
  Job neither = must_parse(yaml_job("      scaling: {max: 9}\n"));
  EXPECT_EQ(neither.groups.at(0).count, 1);
  EXPECT_EQ(neither.groups[0].scaling->min, 1);
  Job zero = must_parse(yaml_job("      scaling: {min: 0, max: 3}\n"));
  EXPECT_EQ(zero.groups.at(0).count, 0) << "a group with min 0 starts with none";
}

TEST(Scaling, BoundsThatDoNotHoldAreRefusedNamingTheField) {
  auto p = problems_of(yaml_job("      count: 12\n      scaling: {min: 5, max: 3}\n"));
  EXPECT_TRUE(has_line(p, "groups[0].scaling.max: must not be less than min (5), got 3")) << p;
  EXPECT_TRUE(has_line(p, "groups[0].count: must not be greater than scaling.max (3), got 12"))
      << p;
  p = problems_of(yaml_job("      count: 1\n      scaling: {min: 2, max: 3}\n"));
  EXPECT_TRUE(has_line(p, "groups[0].count: must not be less than scaling.min (2), got 1")) << p;
  p = problems_of(yaml_job("      scaling: {min: 2}\n"));
  EXPECT_TRUE(has_line(p, "groups[0].scaling.max: required: the most allocs the group may be "
                          "scaled to"))
      << p;
  p = problems_of(yaml_job("      scaling: {max: 3, type: vertical_cpu, polcy: {}}\n"));
  EXPECT_TRUE(has_line(p, "groups[0].scaling.type: must be \"horizontal\" for a group (got "
                          "\"vertical_cpu\")"))
      << p;
  EXPECT_NE(p.find("groups[0].scaling.polcy: "), std::string::npos) << p;
}

TEST(Scaling, NomadJsonAndHclProblemsNameTheirOwnFields) {
  auto p = problems_of(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "api", "Count": 3,
    "Scaling": {"Min": 4, "Max": 2, "Policy": "fast"},
    "Tasks": [{"Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"}}]}]}})");
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Scaling.Policy: must be an object (got string)"))
      << p;
  EXPECT_TRUE(has_line(p, "Job.TaskGroups[0].Scaling.Max: must not be less than min (4), got 2"))
      << p;
  p = problems_of(R"(job "web" {
  group "api" {
    count = 20
    scaling {
      max = 10
      policy { a = 1 }
      policy { b = 2 }
    }
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      scaling "cpu" { max = 2 }
    }
  }
}
)");
  EXPECT_NE(p.find("group \"api\": count at line 3: must not be greater than scaling.max (10), "
                   "got 20"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("scaling.policy block at line 7: appears twice (the first is at line 6)"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("group \"api\" task \"t\": scaling block at line 12: belongs in a group"),
            std::string::npos)
      << p;
}

TEST(Scaling, SystemJobsHaveNoCountToScale) {
  auto p = problems_of("job:\n  id: s\n  type: system\n  groups:\n    - name: g\n"
                       "      scaling: {max: 3}\n      tasks:\n        - name: t\n"
                       "          driver: raw_exec\n          config: {command: /bin/true}\n");
  EXPECT_TRUE(has_line(p, "groups[0].scaling: a system job runs one alloc on each node and has "
                          "no count to scale"))
      << p;
}

TEST(ScaleRequest, IsHeldToTheGroupsBoundsWithNomadsWords) {
  json job = to_json(must_parse(kHcl));
  auto over = scaled_job(job, "api", 11);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.message(), "group count was greater than scaling policy maximum: 11 > 10");
  EXPECT_EQ(over.code(), drover::Errc::Invalid);
  auto under = scaled_job(job, "", 0);
  ASSERT_FALSE(under);
  EXPECT_EQ(under.message(), "group count was less than scaling policy minimum: 0 < 1");
  auto edge = scaled_job(job, "api", 10);
  ASSERT_TRUE(edge) << edge.message();
  EXPECT_EQ(edge.value()["TaskGroups"][0]["Count"], 10);
  auto body = scale_request_from_json({{"Count", "3"}});
  ASSERT_FALSE(body);
  EXPECT_NE(body.message().find("Count: must be an integer"), std::string::npos);
  auto ok = scale_request_from_json({{"Count", 4}, {"Target", {{"Group", "api"}}}});
  ASSERT_TRUE(ok) << ok.message();
  EXPECT_EQ(ok->group, "api");
  EXPECT_EQ(ok->count, 4);
}

TEST(ScalingEvents, AnEventWithoutACountIsRecordedAndTheNewestTwentyAreKept) {
  // The Nomad Autoscaler reports a failure so: no Count, an Error and a Message.
  auto failure = scale_request_from_json(
      {{"Target", {{"Group", "api"}}}, {"Error", true}, {"Message", "no capacity"},
       {"Meta", {{"reason", "quota"}}}});
  ASSERT_TRUE(failure) << failure.message();
  EXPECT_FALSE(failure->count);
  json e = scaling_event(*failure, 2, 1000, "");
  EXPECT_EQ(e["Count"], nullptr);
  EXPECT_EQ(e["PreviousCount"], 2);
  EXPECT_EQ(e["Error"], true);
  EXPECT_EQ(e["EvalID"], nullptr);
  EXPECT_EQ(e["Meta"], json({{"reason", "quota"}}));
  auto empty = scale_request_from_json({{"Target", {{"Group", "api"}}}});
  ASSERT_FALSE(empty) << "neither a count nor anything to record";
  EXPECT_NE(empty.message().find("Count: must be an integer"), std::string::npos);
  EXPECT_FALSE(scale_request_from_json({{"Count", 1}, {"Meta", "x"}}));

  json events;
  for (int i = 0; i < 25; ++i) {
    ScaleRequest r;
    r.count = i;
    add_scaling_event(events, "api", scaling_event(r, i - 1, i, "eval-" + std::to_string(i)));
  }
  ASSERT_EQ(events["api"].size(), 20u);
  EXPECT_EQ(events["api"][0]["Count"], 24) << "newest first";
  EXPECT_EQ(events["api"][19]["Count"], 5);
  EXPECT_EQ(events["api"][0]["EvalID"], "eval-24");

  json job = to_json(must_parse(kHcl));
  auto target = scale_target(job, "");
  ASSERT_TRUE(target) << target.message();
  EXPECT_EQ(target->first, "api");
  EXPECT_FALSE(scale_target(job, "nope"));
}

TEST(ScalingPolicies, ListOnePerScaledGroupWithAStableIdAndFindIt) {
  json scaled = to_json(must_parse(kHcl));
  json plain = to_json(must_parse(yaml_job("      count: 2\n")));
  plain["ID"] = "plain";
  std::vector<StoredJob> jobs = {{&scaled, "default", 7, false}, {&plain, "default", 3, false}};
  json list = scaling_policy_list(jobs, "", "");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["Target"], json({{"Namespace", "default"}, {"Job", "web"}, {"Group", "api"}}));
  EXPECT_EQ(list[0]["Type"], "horizontal");
  EXPECT_EQ(list[0]["Enabled"], true);
  EXPECT_EQ(list[0]["ModifyIndex"], 7);
  const std::string id = list[0]["ID"];
  EXPECT_EQ(id, scaling_policy_id("default", "web", "api")) << "the same on every call";
  EXPECT_NE(id, scaling_policy_id("other", "web", "api"));
  EXPECT_EQ(id.size(), 36u);
  EXPECT_TRUE(scaling_policy_list(jobs, "pla", "").empty()) << "?job= narrows by id";
  EXPECT_TRUE(scaling_policy_list(jobs, "", "vertical_cpu").empty()) << "?type= narrows";
  json found = find_scaling_policy(jobs, id);
  EXPECT_EQ(found["Min"], 1);
  EXPECT_EQ(found["Max"], 10);
  EXPECT_EQ(found["Policy"]["cooldown"], "1m");
  EXPECT_TRUE(find_scaling_policy(jobs, "nope").is_null());
  jobs[0].stopped = true;
  EXPECT_EQ(scaling_policy_list(jobs, "", "")[0]["Enabled"], false)
      << "a stopped job's policy is disabled, as in Nomad";
}

}  // namespace
