// A task's `identity { env, file }` (its workload identity, docs/variables.md) in all three
// job formats: the same Job from YAML, Nomad JSON and HCL, the canonical JSON round trip, and
// the problems a user sees.
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
    "Identity": {"Name": "default", "Audience": ["nomad.io"], "Env": true, "File": true,
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

// Nomad 1.7 job files carry a named identity beside the default one (for Vault, Consul, a
// cloud's OIDC): refused naming it, not as a second identity block.
TEST(JobIdentity, ANamedIdentityIsRefusedNamingIt) {
  auto p = problems_of(R"(job "j" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      identity {
        env = true
      }
      identity {
        name = "vault_default"
        aud  = ["vault.io"]
      }
    }
  }
}
)");
  EXPECT_NE(p.find("identity \"vault_default\" block at line 8: named identities (for Vault, "
                   "Consul or another audience) are not supported by drover"),
            std::string::npos)
      << p;
  EXPECT_EQ(p.find("appears twice"), std::string::npos) << p;
}

}  // namespace
}  // namespace drover::jobspec
