// A task's `action` blocks (Nomad 1.7, docs/jobspec.md "actions") in all three job formats: the
// same Job from YAML, Nomad JSON and HCL, the canonical JSON round trip, and the problems a
// user sees, each naming its field.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

TEST(JobActions, TheSameActionsFromYamlNomadJsonAndHcl) {
  Job yaml = must_parse(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          actions:
            - {name: flush-cache, command: /usr/bin/redis-cli, args: [FLUSHALL]}
            - {name: date, command: /bin/date}
)");
  const auto& actions = yaml.groups[0].tasks[0].actions;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].name, "flush-cache");
  EXPECT_EQ(actions[0].command, "/usr/bin/redis-cli");
  EXPECT_EQ(actions[0].args, std::vector<std::string>{"FLUSHALL"});
  EXPECT_TRUE(actions[1].args.empty());
  // What `nomad job run -output` writes.
  Job nomad = must_parse(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec",
    "Actions": [{"Name": "flush-cache", "Command": "/usr/bin/redis-cli", "Args": ["FLUSHALL"]},
                {"Name": "date", "Command": "/bin/date", "Args": null}]}]}]}})");
  EXPECT_EQ(nomad, yaml);
  Job hcl = must_parse(R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      action "flush-cache" {
        command = "/usr/bin/redis-cli"
        args    = ["FLUSHALL"]
      }
      action "date" {
        command = "/bin/date"
      }
    }
  }
})");
  EXPECT_EQ(hcl, yaml);
  json j = to_json(yaml);
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Actions"][0],
            json({{"Name", "flush-cache"}, {"Command", "/usr/bin/redis-cli"}, {"Args", {"FLUSHALL"}}}));
  EXPECT_EQ(job_from_json(j), yaml);
  Job plain = must_parse("job: {id: p, groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_FALSE(to_json(plain)["TaskGroups"][0]["Tasks"][0].contains("Actions"));
}

TEST(JobActions, ProblemsNameTheAction) {
  auto p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          actions:
            - {name: "two words", command: /bin/true}
            - {name: ok, command: ""}
            - {name: ok, command: /bin/true}
            - {name: "", command: /bin/true, argz: [x]}
)");
  const std::string at = "groups[0].tasks[0].actions";
  EXPECT_TRUE(has_line(p, at + "[0].name: must be 1 to 128 characters with no whitespace (got \"two words\")")) << p;
  EXPECT_TRUE(has_line(p, at + "[1].command: required")) << p;
  EXPECT_TRUE(has_line(p, at + "[2].name: another action of this task is named \"ok\"")) << p;
  EXPECT_NE(p.find(at + "[3].name: must be 1 to 128 characters"), std::string::npos) << p;
  EXPECT_NE(p.find(at + "[3].argz"), std::string::npos) << p;
  // HCL: an action needs its name as the label, and belongs in a task.
  auto unnamed = problems_of(R"(job "j" {
  group "g" {
    action {
      command = "/bin/true"
    }
    task "t" {
      driver = "raw_exec"
      action {
        command = "/bin/true"
      }
    }
  }
})");
  EXPECT_NE(unnamed.find("action block at line 3: belongs in a task"), std::string::npos) << unnamed;
  EXPECT_NE(unnamed.find("action block at line 8: needs 1 label"), std::string::npos) << unnamed;
}

}  // namespace
}  // namespace drover::jobspec
