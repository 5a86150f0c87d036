// Named workload identities end to end (docs/variables.md, "Workload identities"): a task's
// named identity in its env var and file, checked by a real relying party (PyJWT fetching the
// agent's JWKS, as Vault's JWT auth or a cloud's OIDC federation would), renewed before it
// expires with the change signal sent, renewed still after the agent was killed and started
// again, never honoured by the agent's own API, and checked as well against the JWKS of a
// server given the agents' keyring_file.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::AgentProcess;
using drover::testing::CmdResult;
using drover::testing::run_shell;
using drover::testing::EtcdProcess;
using drover::testing::ServerProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kIssuer = "https://drover.test";


// PyJWT as a relying party: the signing key looked up by the token's kid in the JWKS at `url`,
// then the signature, audience, issuer and expiry checked. Prints the claims.
CmdResult relying_party_check(const std::string& url, const std::string& token,
                              const std::string& audience) {
  const std::string dir = make_temp_dir("drover-rp");
  write_file(dir + "/check.py", R"(import json, sys, jwt
url, token, aud, iss = sys.argv[1:5]
key = jwt.PyJWKClient(url).get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=aud, issuer=iss)
print(json.dumps(claims))
)");
  write_file(dir + "/token", token);
  // Debian's python3, which has python3-jwt (scripts/setup.sh), whatever else is on PATH.
  auto r = run_shell("/usr/bin/python3 " + dir + "/check.py '" + url + "' \"$(cat " + dir + "/token)\" '" +
              audience + "' '" + kIssuer + "'");
  std::filesystem::remove_all(dir);
  return r;
}

json claims_of(const std::string& token) {
  auto first = token.find('.'), second = token.rfind('.');
  std::string part = token.substr(first + 1, second - first - 1);
  for (auto& c : part) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (part.size() % 4) part += '=';
  // base64 through coreutils: no decoder of the agent's in the check.
  const std::string dir = make_temp_dir("drover-claims");
  write_file(dir + "/b64", part);
  auto out = run_shell("base64 -d " + dir + "/b64");
  std::filesystem::remove_all(dir);
  return json::parse(out.out, nullptr, false);
}

std::string job(const std::string& id) {
  return R"(job:
  id: )" + id + R"(
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {env: true}
          identities:
            - name: aws
              aud: [sts.amazonaws.com]
              env: true
              file: true
              ttl: 3s
              change_mode: signal
              change_signal: SIGHUP
              extra_claims: {unique: "${job.id}-${task.name}"}
          config:
            command: /bin/sh
            args: ["-c", "trap 'echo hup >> local/hups' HUP; printf %s \"$NOMAD_TOKEN_aws\" > local/env_aws.tmp; mv local/env_aws.tmp local/env_aws; printf %s \"$NOMAD_TOKEN\" > local/env_default; while :; do sleep 0.2; done"]
)";
}

}  // namespace

TEST(WorkloadIdentities, ANamedIdentityChecksAgainstTheJwksAndIsRenewedBeforeItExpires) {
  const std::string data = make_temp_dir("drover-wid");
  auto agent = AgentProcess::start(
      {.data_dir = data, .config_yaml = std::string("oidc_issuer: ") + kIssuer + "\n"});
  auto submitted = agent->post("/v1/jobs", job("gpu-train"));
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const auto ids = submitted.json()["AllocIDs"].get<std::vector<std::string>>();
  ASSERT_EQ(ids.size(), 1u);
  // Its env var is not renewed (change_mode signal): the submit says so.
  EXPECT_NE(submitted.json().value("Warnings", "").find(
                "groups[0].tasks[0].identities[0].env: NOMAD_TOKEN_aws is set at the task's start "
                "only"),
            std::string::npos)
      << submitted.body;
  const std::string task_dir = data + "/alloc/" + ids[0] + "/t";
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(task_dir + "/local/env_aws"); }, 20s))
      << agent->log();
  const std::string env_token = read_file(task_dir + "/local/env_aws");
  const std::string first = read_file(task_dir + "/secrets/nomad_aws.jwt");
  ASSERT_FALSE(env_token.empty());
  EXPECT_EQ(first, env_token);  // the env var and the file start with the same token

  // A relying party checks it with nothing but the agent's public keys.
  const std::string jwks_url = "http://127.0.0.1:" + std::to_string(agent->port()) + "/.well-known/jwks.json";
  auto checked = relying_party_check(jwks_url, first, "sts.amazonaws.com");
  ASSERT_EQ(checked.exit_code, 0) << checked.out;
  json claims = json::parse(checked.out, nullptr, false);
  EXPECT_EQ(claims["sub"], "global:default:gpu-train:g:t:aws");
  EXPECT_EQ(claims["nomad_allocation_id"], ids[0]);
  EXPECT_EQ(claims["unique"], "gpu-train-t");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 3);
  // ... and refuses it for another audience.
  EXPECT_NE(relying_party_check(jwks_url, first, "vault.io").exit_code, 0);
  auto discovery = agent->get("/.well-known/openid-configuration").json();
  EXPECT_EQ(discovery["issuer"], kIssuer);
  EXPECT_EQ(discovery["jwks_uri"], std::string(kIssuer) + "/.well-known/jwks.json");

  // The API honours the default identity and never the named one.
  httplib::Client c("127.0.0.1", agent->port());
  const std::string default_token = read_file(task_dir + "/local/env_default");
  auto own = c.Get("/v1/vars?prefix=nomad/jobs", httplib::Headers{{"X-Nomad-Token", default_token}});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  auto named = c.Get("/v1/vars?prefix=nomad/jobs", httplib::Headers{{"X-Nomad-Token", first}});
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 403) << named->body;

  // Two thirds into its 3 s the file holds a new token, and the task got its SIGHUP.
  std::string renewed;
  ASSERT_TRUE(eventually(
      [&] {
        renewed = read_file(task_dir + "/secrets/nomad_aws.jwt");
        return !renewed.empty() && renewed != first &&
               std::filesystem::exists(task_dir + "/local/hups");
      },
      20s))
      << agent->log();
  EXPECT_GT(claims_of(renewed)["iat"].get<int64_t>(), claims["iat"].get<int64_t>());
  auto again = relying_party_check(jwks_url, renewed, "sts.amazonaws.com");
  EXPECT_EQ(again.exit_code, 0) << again.out;

  // An agent killed and started again goes on renewing the running task's token.
  agent->kill(SIGKILL);
  const std::string before = read_file(task_dir + "/secrets/nomad_aws.jwt");
  agent = AgentProcess::start(
      {.data_dir = data, .config_yaml = std::string("oidc_issuer: ") + kIssuer + "\n"});
  ASSERT_TRUE(eventually(
      [&] {
        auto now = read_file(task_dir + "/secrets/nomad_aws.jwt");
        return !now.empty() && now != before;
      },
      20s))
      << agent->log();
  EXPECT_EQ(agent->alloc(ids[0])["ClientStatus"], "running");
  EXPECT_EQ(agent->alloc(ids[0])["TaskStates"]["t"]["Restarts"], 0);
  EXPECT_EQ(agent->del("/v1/job/gpu-train").status, 200);
}

TEST(WorkloadIdentities, TheKeysArePublicEvenWithAcls) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  httplib::Client c("127.0.0.1", agent->port());
  auto jwks = c.Get("/.well-known/jwks.json");
  ASSERT_TRUE(jwks);
  ASSERT_EQ(jwks->status, 200) << jwks->body;
  auto keys = json::parse(jwks->body)["keys"];
  ASSERT_EQ(keys.size(), 1u) << jwks->body;
  EXPECT_EQ(keys[0]["alg"], "RS256");
  // The rest of the API still wants a token; discovery needs oidc_issuer.
  EXPECT_EQ(c.Get("/v1/jobs")->status, 403);
  auto discovery = c.Get("/.well-known/openid-configuration");
  ASSERT_TRUE(discovery);
  EXPECT_EQ(discovery->status, 404);
  EXPECT_NE(discovery->body.find("oidc_issuer"), std::string::npos) << discovery->body;
}

// In a cluster, relying parties want one address for the keys: a server given the agents'
// keyring_file publishes the same JWKS, and an agent's token checks against it.
TEST(WorkloadIdentities, AServerWithTheAgentsKeyringPublishesTheirKeys) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const std::string keyring = make_temp_dir("drover-wid-key") + "/keyring";
  write_file(keyring, run_shell("head -c 32 /dev/urandom | base64").out);
  ::chmod(keyring.c_str(), 0600);
  const std::string endpoints = "endpoints: [\"" + etcd.endpoint() + "\"]";
  const std::string keys = "keyring_file: " + keyring + "\noidc_issuer: " + kIssuer + "\n";
  auto agent = AgentProcess::start(
      {.config_yaml = "upstream:\n  backend: etcd\n  etcd:\n    " + endpoints +
                      "\n    prefix: /drover\n    heartbeat_ttl: 3s\n" + keys});
  auto server = ServerProcess::start(
      "s1", "leader_ttl: 3s\netcd:\n  " + endpoints + "\n  prefix: /drover\n" + keys);
  ASSERT_TRUE(eventually(
      [&] {
        auto nodes = server->get("/v1/nodes").json();
        auto leader = server->get("/v1/status/leader").json();
        return nodes.is_array() && nodes.size() == 1 && nodes[0].value("Status", "") == "ready" &&
               leader.is_string() && !leader.get<std::string>().empty();
      },
      20s))
      << server->log();
  EXPECT_EQ(server->get("/.well-known/jwks.json").json(), agent->get("/.well-known/jwks.json").json());
  auto r = server->post("/v1/jobs", job("cluster-wid"));
  ASSERT_EQ(r.status, 200) << r.body << server->log();
  std::string token;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& a : server->get("/v1/job/cluster-wid/allocations").json())
          if (a.value("ClientStatus", "") == "running")
            token = read_file(agent->data_dir() + "/alloc/" + a.value("ID", "") + "/t/secrets/nomad_aws.jwt");
        return !token.empty();
      },
      30s))
      << agent->log();
  auto checked = relying_party_check(server->address() + "/.well-known/jwks.json", token,
                                     "sts.amazonaws.com");
  EXPECT_EQ(checked.exit_code, 0) << checked.out;
  EXPECT_EQ(server->get("/.well-known/openid-configuration").json()["issuer"], kIssuer);
  EXPECT_EQ(server->del("/v1/job/cluster-wid").status, 200);
}
