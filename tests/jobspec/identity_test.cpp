// A task's `identity` blocks (its workload identities, docs/variables.md) in all three job
// formats: the same Job from YAML, Nomad JSON and HCL, the canonical JSON round trip, and the
// problems a user sees.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace drover::jobspec {
namespace {

using nlohmann::json;
using testing::must_parse;
using testing::problems_of;

TEST(JobIdentity, TheSameIdentityFromYamlNomadJsonAndHcl) {
  Job yaml = must_parse(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {env: true, file: true}
)");
  ASSERT_TRUE(yaml.groups[0].tasks[0].identity);
  EXPECT_TRUE(yaml.groups[0].tasks[0].identity->env);
  EXPECT_TRUE(yaml.groups[0].tasks[0].identity->file);
  // What `nomad job run -output` writes for the default identity.
  Job nomad = must_parse(R"({"Job": {"ID": "web", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec",
    "Identity": {"Name": "default", "Audience": ["nomadproject.io"], "Env": true, "File": true,
                 "ChangeMode": "", "ChangeSignal": "", "TTL": 0, "ServiceName": ""}}]}]}})");
  EXPECT_EQ(nomad, yaml);
  Job hcl = must_parse(R"(job "web" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      identity {
        env  = true
        file = true
      }
    }
  }
})");
  EXPECT_EQ(hcl, yaml);
  json j = to_json(yaml);
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Identity"]["Env"], true);
  EXPECT_EQ(job_from_json(j), yaml);
  Job plain = must_parse("job: {id: p, groups: [{name: g, tasks: [{name: t, driver: raw_exec}]}]}");
  EXPECT_FALSE(plain.groups[0].tasks[0].identity);
  EXPECT_TRUE(to_json(plain)["TaskGroups"][0]["Tasks"][0]["Identity"].is_null());
}

TEST(JobIdentity, ProblemsNameTheField) {
  auto all = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {env: yes-please, aud: x}
)");
  EXPECT_NE(all.find("groups[0].tasks[0].identity.env"), std::string::npos) << all;
  EXPECT_NE(all.find("groups[0].tasks[0].identity.aud"), std::string::npos) << all;
}

// Nomad 1.7's named identities (for Vault, a cloud's OIDC) beside the default one: the same
// from HCL, Nomad JSON and YAML, and through the canonical JSON.
TEST(JobIdentity, NamedIdentitiesReadAlikeFromHclNomadJsonAndYaml) {
  Job hcl = must_parse(R"(job "j" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      identity {
        env = true
      }
      identity {
        name          = "aws"
        aud           = ["sts.amazonaws.com"]
        file          = true
        ttl           = "1h"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        extra_claims  = { team = "gpu", unique = "${job.id}-${task.name}" }
      }
      identity {
        name = "vault_default"
        aud  = ["vault.io"]
        env  = true
      }
    }
  }
}
)");
  const Task& t = hcl.groups[0].tasks[0];
  ASSERT_TRUE(t.identity);
  EXPECT_TRUE(t.identity->env);
  EXPECT_EQ(t.identity->name, "");
  ASSERT_EQ(t.identities.size(), 2u);
  const Identity& aws = t.identities[0];
  EXPECT_EQ(aws.name, "aws");
  EXPECT_EQ(aws.audience, std::vector<std::string>{"sts.amazonaws.com"});
  EXPECT_TRUE(aws.file);
  EXPECT_EQ(aws.ttl, std::chrono::hours(1));
  EXPECT_EQ(aws.change_mode, "signal");
  EXPECT_EQ(aws.change_signal, "SIGHUP");
  EXPECT_EQ(aws.extra_claims.at("unique"), "${job.id}-${task.name}");
  EXPECT_EQ(t.identities[1].name, "vault_default");
  EXPECT_EQ(t.identities[1].change_mode, "noop");

  Job nomad = must_parse(R"({"Job": {"ID": "j", "TaskGroups": [{"Name": "g", "Tasks": [{
    "Name": "t", "Driver": "raw_exec",
    "Identity": {"Name": "default", "Env": true},
    "Identities": [
      {"Name": "aws", "Audience": ["sts.amazonaws.com"], "File": true, "TTL": 3600000000000,
       "ChangeMode": "signal", "ChangeSignal": "SIGHUP",
       "ExtraClaims": {"team": "gpu", "unique": "${job.id}-${task.name}"}},
      {"Name": "vault_default", "Audience": ["vault.io"], "Env": true}]}]}]}})");
  EXPECT_EQ(nomad, hcl);
  Job yaml = must_parse(R"(job:
  id: j
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {env: true}
          identities:
            - name: aws
              aud: [sts.amazonaws.com]
              file: true
              ttl: 1h
              change_mode: signal
              change_signal: SIGHUP
              extra_claims: {team: gpu, unique: "${job.id}-${task.name}"}
            - {name: vault_default, aud: [vault.io], env: true}
)");
  EXPECT_EQ(yaml, hcl);
  json j = to_json(hcl);
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Identities"][0]["TTL"], 3600000000000);
  EXPECT_EQ(job_from_json(j), hcl);
}

TEST(JobIdentity, NamedIdentityProblemsNameTheField) {
  auto p = problems_of(R"(job:
  id: web
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {aud: [vault.io]}
          identities:
            - {aud: [a]}
            - {name: a, ttl: 500ms, change_mode: signal}
            - {name: a, change_mode: reload, filepath: local/x}
            - {name: "no spaces", extra_claims: {sub: x, nomad_task: y, ok: "${node.id}"}}
)");
  for (const char* want :
       {"groups[0].tasks[0].identity.aud: the default identity is for this agent's API",
        "groups[0].tasks[0].identities[0].name: is required",
        "groups[0].tasks[0].identities[1].ttl: must be at least 1s",
        "groups[0].tasks[0].identities[1].change_signal: is required with change_mode \"signal\"",
        "groups[0].tasks[0].identities[2].name: \"a\" names two identities",
        "groups[0].tasks[0].identities[2].change_mode: must be \"noop\", \"restart\" or \"signal\"",
        "groups[0].tasks[0].identities[2].filepath: needs file = true",
        "groups[0].tasks[0].identities[3].name: must be at most 128 letters",
        "groups[0].tasks[0].identities[3].extra_claims.sub: is a claim drover sets",
        "groups[0].tasks[0].identities[3].extra_claims.nomad_task: is a claim drover sets",
        "groups[0].tasks[0].identities[3].extra_claims.ok: ${node.id} is not a claim variable"})
    EXPECT_NE(p.find(want), std::string::npos) << want << "\n" << p;
}

// HCL's own rule: one identity block may go without a name.
TEST(JobIdentity, TwoDefaultIdentitiesInHclAreRefused) {
  auto p = problems_of(R"(job "j" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      identity {
        env = true
      }
      identity {
        file = true
      }
    }
  }
}
)");
  EXPECT_NE(p.find("identity block at line 8: appears twice (the first is at line 5)"),
            std::string::npos)
      << p;
}

}  // namespace
}  // namespace drover::jobspec
