// The `template` block in all three job formats: the same Job from YAML, Nomad JSON and HCL,
// the canonical JSON round trip, and what is refused at submit (a bad template with its line,
// a destination outside the task dir, Consul and Vault functions, vault blocks).
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::has_line;
using testing::must_parse;
using testing::problems_of;

const char* kYaml = R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          config: {command: /bin/cat, args: [local/app.conf]}
          templates:
            - data: "port={{ env \"NOMAD_PORT_http\" }}\n"
              destination: local/app.conf
              change_mode: signal
              change_signal: SIGHUP
              perms: "0600"
              uid: 1000
              splay: 1s
              wait: {min: 2s, max: 10s}
              error_on_missing_key: true
            - source: local/in.tpl
              destination: secrets/file.env
              env: true
              change_mode: script
              change_script: {command: /bin/reload, args: [a], timeout: 3s, fail_on_error: true}
              left_delimiter: "[["
              right_delimiter: "]]"
              once: true
)";

const char* kJson = R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "g", "Tasks": [{
  "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/cat", "args": ["local/app.conf"]},
  "Templates": [
    {"EmbeddedTmpl": "port={{ env \"NOMAD_PORT_http\" }}\n", "DestPath": "local/app.conf",
     "ChangeMode": "signal", "ChangeSignal": "SIGHUP", "Perms": "0600", "Uid": 1000, "Gid": null,
     "Splay": 1000000000, "Wait": {"Min": 2000000000, "Max": 10000000000}, "ErrMissingKey": true,
     "ChangeScript": {"Command": "", "Args": null, "Timeout": 5000000000, "FailOnError": false},
     "VaultGrace": 0, "SourcePath": "", "Envvars": false, "LeftDelim": "{{", "RightDelim": "}}"},
    {"SourcePath": "local/in.tpl", "DestPath": "secrets/file.env", "Envvars": true,
     "ChangeMode": "script",
     "ChangeScript": {"Command": "/bin/reload", "Args": ["a"], "Timeout": 3000000000, "FailOnError": true},
     "LeftDelim": "[[", "RightDelim": "]]", "Once": true}
  ]}]}]}})";

const char* kHcl = R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/cat"
        args    = ["local/app.conf"]
      }
      template {
        data          = <<EOT
port={{ env "NOMAD_PORT_http" }}
EOT
        destination   = "local/app.conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        perms         = "0600"
        uid           = 1000
        splay         = "1s"
        wait {
          min = "2s"
          max = "10s"
        }
        error_on_missing_key = true
      }
      template {
        source          = "local/in.tpl"
        destination     = "secrets/file.env"
        env             = true
        change_mode     = "script"
        change_script {
          command       = "/bin/reload"
          args          = ["a"]
          timeout       = "3s"
          fail_on_error = true
        }
        left_delimiter  = "[["
        right_delimiter = "]]"
        once            = true
      }
    }
  }
}
)";

TEST(TemplateBlock, TheSameJobFromYamlNomadJsonAndHcl) {
  Job y = must_parse(kYaml), j = must_parse(kJson), h = must_parse(kHcl);
  ASSERT_EQ(y.groups.at(0).tasks.at(0).templates.size(), 2u);
  const auto& a = y.groups[0].tasks[0].templates[0];
  EXPECT_EQ(a.data, "port={{ env \"NOMAD_PORT_http\" }}\n");
  EXPECT_EQ(a.destination, "local/app.conf");
  EXPECT_EQ(a.change_mode, "signal");
  EXPECT_EQ(a.change_signal, "SIGHUP");
  EXPECT_EQ(a.perms, "0600");
  EXPECT_EQ(a.uid, 1000);
  EXPECT_FALSE(a.gid);
  EXPECT_EQ(a.splay, std::chrono::seconds(1));
  ASSERT_TRUE(a.wait);
  EXPECT_EQ(a.wait->max, std::chrono::seconds(10));
  EXPECT_TRUE(a.error_on_missing_key);
  EXPECT_FALSE(a.change_script);
  const auto& b = y.groups[0].tasks[0].templates[1];
  EXPECT_TRUE(b.env);
  EXPECT_TRUE(b.once);
  ASSERT_TRUE(b.change_script);
  EXPECT_EQ(b.change_script->command, "/bin/reload");
  EXPECT_EQ(b.change_script->timeout, std::chrono::seconds(3));
  EXPECT_EQ(b.left_delimiter, "[[");
  EXPECT_EQ(y.groups[0].tasks[0], j.groups[0].tasks[0]);
  EXPECT_EQ(y.groups[0].tasks[0], h.groups[0].tasks[0]);
}

TEST(TemplateBlock, CanonicalJsonRoundTripsWithNomadsNames) {
  Job y = must_parse(kYaml);
  json out = to_json(y);
  const json& t = out["TaskGroups"][0]["Tasks"][0]["Templates"][0];
  EXPECT_EQ(t["DestPath"], "local/app.conf");
  EXPECT_EQ(t["EmbeddedTmpl"], "port={{ env \"NOMAD_PORT_http\" }}\n");
  EXPECT_EQ(t["Splay"], 1000000000);
  EXPECT_EQ(t["Wait"]["Min"], 2000000000);
  EXPECT_EQ(job_from_json(out), y);
  // And as Nomad JSON for a submit: the same job again.
  EXPECT_EQ(must_parse(json{{"Job", out}}.dump()), y);
}

TEST(TemplateBlock, DefaultsAreNomads) {
  Job j = must_parse(R"(job:
  id: x
  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: {command: /bin/true},
    templates: [{data: "x", destination: local/x}]}]}]
)");
  const auto& t = j.groups[0].tasks[0].templates.at(0);
  EXPECT_EQ(t.change_mode, "restart");
  EXPECT_EQ(t.perms, "0644");
  EXPECT_EQ(t.splay, std::chrono::seconds(5));
  EXPECT_EQ(t.left_delimiter, "{{");
  EXPECT_FALSE(t.env);
}

std::string yaml_with_template(const std::string& fields) {
  return "job:\n  id: x\n  groups: [{name: g, tasks: [{name: t, driver: raw_exec, config: "
         "{command: "
         "/bin/true},\n    templates: [" +
         fields + "]}]}]\n";
}

TEST(TemplateBlock, ABadTemplateIsRefusedWithItsLine) {
  auto p = problems_of(
      yaml_with_template(R"({data: "line one\n{{ if .x }}\nno end", destination: local/x.conf})"));
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[0].data: template: local/x.conf:2:4: "
                       "unexpected EOF: {{if}} has no {{end}}"))
      << p;
}

TEST(TemplateBlock, ConsulAndVaultFunctionsAreRefusedByName) {
  auto p = problems_of(yaml_with_template(
      R"({data: "{{ key \"a\" }}", destination: local/a}, {data: "\n{{ with secret \"kv/x\" }}{{ end }}", destination: local/b})"));
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[0].data: template: local/a:1:4: function "
                       "\"key\" needs Consul, which drover does not connect to"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[1].data: template: local/b:2:9: function "
                       "\"secret\" needs Vault, which drover does not connect to"))
      << p;
}

TEST(TemplateBlock, ADestinationOutsideTheTaskDirAndTheSharedDirIsRefused) {
  auto p = problems_of(yaml_with_template(
      R"({data: "x", destination: ../../etc/passwd}, {data: "x", destination: /etc/passwd}, {data: "x", destination: local/../..}, {data: "x", destination: ../other/local/x}, {data: "x", destination: "${NOMAD_ALLOC_DIR}"})"));
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[0].destination: \"../../etc/passwd\" "
                       "escapes the alloc dir"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[1].destination: must be relative to the "
                       "task dir (e.g. \"local/app.conf\"), got \"/etc/passwd\""))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[2].destination: \"local/../..\" is the "
                       "alloc dir itself"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[3].destination: \"../other/local/x\" is "
                       "neither in the task dir nor in the alloc's shared dir (../alloc/..., "
                       "${NOMAD_ALLOC_DIR}/...)"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[4].destination: \"${NOMAD_ALLOC_DIR}\" "
                       "names a dir; it must name a file (e.g. \"local/app.conf\")"))
      << p;
}

// Nomad's rule: from the task dir, into it or the group's shared alloc dir, the dir variables
// read as such whatever the driver shows the task (docs/templates.md, "Paths").
TEST(TemplateBlock, TheSharedAllocDirAndTheDirVariablesAreAccepted) {
  auto j = must_parse(yaml_with_template(
      R"({data: "x", destination: "${NOMAD_ALLOC_DIR}/shared.env"}, {data: "x", destination: ../alloc/data/x}, {data: "x", destination: "${NOMAD_SECRETS_DIR}/a"}, {source: "${NOMAD_ALLOC_DIR}/in.tpl", destination: "${NOMAD_TASK_DIR}/out"})"));
  ASSERT_EQ(j.groups[0].tasks[0].templates.size(), 4u);
}

TEST(TemplateBlock, ChangeModesNeedTheirSettings) {
  auto p = problems_of(yaml_with_template(
      R"({data: "x", destination: local/a, change_mode: signal}, {data: "x", destination: local/b, change_mode: script}, {data: "x", destination: local/c, change_mode: reboot, change_signal: SIGNOPE, perms: "999"}, {destination: local/d})"));
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[0].change_signal: is required with "
                       "change_mode \"signal\""))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[1].change_script.command: is required "
                       "with change_mode \"script\""))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[2].change_mode: must be \"noop\", "
                       "\"restart\", \"signal\" or \"script\" (got \"reboot\")"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[2].change_signal: must be a signal name "
                       "like \"SIGHUP\" (got \"SIGNOPE\")"))
      << p;
  EXPECT_TRUE(has_line(p,
                       "groups[0].tasks[0].templates[2].perms: must be an octal mode like "
                       "\"0644\" (got \"999\")"))
      << p;
  EXPECT_TRUE(has_line(p, "groups[0].tasks[0].templates[3]: needs data or source")) << p;
}

TEST(TemplateBlock, NomadJsonProblemsUseNomadsNames) {
  auto p = problems_of(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Templates": [{"EmbeddedTmpl": "{{ end }}", "DestPath": "/abs"}]}]}]}})");
  EXPECT_NE(p.find("Job.TaskGroups[0].Tasks[0].Templates[0].EmbeddedTmpl: template: /abs:1:4: "
                   "unexpected {{end}}"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("Job.TaskGroups[0].Tasks[0].Templates[0].DestPath: must be relative"),
            std::string::npos)
      << p;
}

TEST(TemplateBlock, HclProblemsNameTheBlockAndLine) {
  auto p = problems_of(R"(job "x" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      template {
        data        = "{{ nomadVar }}{{ frob }}"
        destination = "local/x"
      }
    }
  }
}
)");
  EXPECT_NE(p.find("template.data at line 7"), std::string::npos) << p;
  EXPECT_NE(p.find("function \"frob\" not defined"), std::string::npos) << p;
}

TEST(TemplateBlock, VaultBlocksAreRefusedByName) {
  auto hcl = problems_of(R"(job "x" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
      vault { policies = ["p"] }
    }
  }
}
)");
  EXPECT_NE(hcl.find("vault block at line 6: not supported by drover (no Vault integration)"),
            std::string::npos)
      << hcl;
  auto js = problems_of(R"({"Job": {"ID": "x", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec", "Config": {"command": "/bin/true"},
    "Vault": {"Policies": ["p"]}}]}]}})");
  EXPECT_NE(js.find("Job.TaskGroups[0].Tasks[0].Vault: not supported by drover"), std::string::npos)
      << js;
}

}  // namespace
}  // namespace drover::jobspec
