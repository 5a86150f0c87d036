// Named workload identities end to end (docs/variables.md, "Workload identities"): a task's
// named identity in its env var and file, checked by a real relying party (PyJWT fetching the
// agent's JWKS, as Vault's JWT auth or a cloud's OIDC federation would), renewed before it
// expires with the change signal sent, renewed still after the agent was killed and started
// again, and never honoured by the agent's own API.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::CmdResult;
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
  const std::string cmd = "/usr/bin/python3 " + dir + "/check.py '" + url + "' \"$(cat " + dir +
                          "/token)\" '" + audience + "' '" + kIssuer + "' 2>&1";
  CmdResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  for (size_t n; p && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = p ? ::pclose(p) : -1;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove_all(dir);
  return r;
}

json claims_of(const std::string& token) {
  auto first = token.find('.'), second = token.rfind('.');
  std::string part = token.substr(first + 1, second - first - 1);
  for (auto& c : part) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (part.size() % 4) part += '=';
  // base64 through the shell's coreutils: no decoder of the agent's in the check.
  const std::string dir = make_temp_dir("drover-claims");
  write_file(dir + "/b64", part);
  FILE* p = ::popen(("base64 -d " + dir + "/b64").c_str(), "r");
  std::string out;
  char buf[4096];
  for (size_t n; p && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (p) ::pclose(p);
  std::filesystem::remove_all(dir);
  return json::parse(out, nullptr, false);
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
  auto ids = agent->submit(job("gpu-train"));
  ASSERT_EQ(ids.size(), 1u);
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
