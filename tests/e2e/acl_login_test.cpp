// Logging in with a JWT end to end (docs/security.md, "Logging in with a JWT"): an identity
// provider's token, signed by PyJWT with a key made by the openssl CLI, traded for an ACL
// token through the real agent's auth method and binding rules, set up with the real CLI;
// the forgeries that have broken JWT logins elsewhere refused (another key, an expired token,
// the alg switched to HMAC with the public key as its secret, "none"); and a task's own
// workload identity logging in through the agent's JWKS; and, in a cluster, a method made on
// one server serving a login on the other.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <regex>

#include "agent_process.hpp"
#include "cluster_processes.hpp"
#include "login_support.hpp"

using drover::testing::AgentProcess;
using drover::testing::CmdResult;
using drover::testing::run_shell;
using drover::testing::EtcdProcess;
using drover::testing::ServerProcess;
using drover::testing::eventually;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::write_file;
using drover::testing::bootstrap_secret;
using drover::testing::call;
using drover::testing::cli_field;
using drover::testing::error_of;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {


// A JWT of `claims` made by PyJWT with the PEM private key at `key_file` (`alg` ES256), or, for
// "HS256-with-public-key" and "none", the forgeries made by hand.
std::string token(const std::string& dir, const json& claims, const std::string& key_file,
                  const std::string& alg = "ES256") {
  write_file(dir + "/claims.json", claims.dump());
  write_file(dir + "/sign.py", R"(import base64, hashlib, hmac, json, sys, jwt
claims = json.load(open(sys.argv[1]))
key = open(sys.argv[2]).read()
alg = sys.argv[3]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
if alg == "HS256-with-public-key":
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    print(head + "." + b64(hmac.new(key.encode(), head.encode(), hashlib.sha256).digest()))
elif alg == "none":
    print(b64(json.dumps({"alg": "none"}).encode()) + "." + b64(json.dumps(claims).encode()) + ".")
else:
    print(jwt.encode(claims, key, algorithm=alg, headers={"kid": "ci-1"}))
)");
  auto r = run_shell("/usr/bin/python3 " + dir + "/sign.py " + dir + "/claims.json " + key_file + " " + alg);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

const char* kDeployers = R"(namespace "default" {
  policy = "write"
}
)";

}  // namespace

TEST(AclLogin, AProvidersJwtLogsInWithTheRoleItsClaimsBindAndForgeriesDoNot) {
  const std::string dir = make_temp_dir("drover-acl-login");
  ASSERT_EQ(run_shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + dir +
                "/idp.key && openssl pkey -in " + dir + "/idp.key -pubout -out " + dir + "/idp.pub && " +
                "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + dir + "/other.key")
                .exit_code,
            0);
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  const std::string mgmt = bootstrap_secret(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  auto drover = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-token", mgmt});
    return agent->cli(args);
  };
  write_file(dir + "/deployers.hcl", kDeployers);
  ASSERT_EQ(drover({"acl", "policy", "apply", "deployers", dir + "/deployers.hcl"}).exit_code, 0);
  ASSERT_EQ(drover({"acl", "role", "create", "-name", "deploy-web", "-policy", "deployers"}).exit_code, 0);
  json config = {{"JWTValidationPubKeys", {read_file(dir + "/idp.pub")}},
                 {"BoundAudiences", {"drover"}},
                 {"BoundIssuer", {"https://ci.example"}},
                 {"SigningAlgs", {"ES256"}},
                 {"ClaimMappings", {{"project", "project"}}},
                 {"ListClaimMappings", {{"groups", "groups"}}}};
  write_file(dir + "/config.json", config.dump());
  auto made = drover({"acl", "auth-method", "create", "-name", "ci", "-type", "JWT", "-max-token-ttl", "30m",
                      "-token-name-format", "ci-${value.project}", "-default", "-config", "@" + dir + "/config.json"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_EQ(cli_field(made.out, "Max Token TTL"), "30m") << made.out;
  EXPECT_EQ(cli_field(made.out, "Default"), "true") << made.out;
  auto rule = drover({"acl", "binding-rule", "create", "-auth-method", "ci", "-bind-type", "role", "-bind-name",
                      "deploy-${value.project}", "-selector", "deployers in list.groups"});
  ASSERT_EQ(rule.exit_code, 0) << rule.out << rule.err;
  EXPECT_EQ(cli_field(rule.out, "Selector"), "\"deployers in list.groups\"") << rule.out;

  // The login page's list needs no token and shows no config.
  auto methods = call(*agent, "GET", "/v1/acl/auth-methods", "");
  ASSERT_TRUE(methods && methods->status == 200) << error_of(methods);
  ASSERT_EQ(json::parse(methods->body).size(), 1u);
  EXPECT_EQ(json::parse(methods->body)[0], (json{{"Name", "ci"}, {"Type", "JWT"}, {"Default", true},
                                                 {"CreateIndex", 0}, {"ModifyIndex", 0}}));
  EXPECT_EQ(call(*agent, "GET", "/v1/acl/auth-method/ci", "")->status, 403);

  const std::int64_t now = std::time(nullptr);
  const json good = {{"iss", "https://ci.example"}, {"aud", "drover"}, {"exp", now + 600},
                     {"project", "web"}, {"groups", {"builders", "deployers"}}};
  auto login = agent->cli({"login", "-login-token", token(dir, good, dir + "/idp.key")});
  ASSERT_EQ(login.exit_code, 0) << login.out << login.err;
  const std::string secret = cli_field(login.out, "Secret ID");
  ASSERT_EQ(secret.size(), 36u) << login.out;
  EXPECT_EQ(cli_field(login.out, "Name"), "ci-web") << login.out;
  EXPECT_EQ(cli_field(login.out, "Roles"), "deploy-web") << login.out;
  EXPECT_FALSE(cli_field(login.out, "Expiry Time").empty()) << login.out;
  // The token does what its role's policy says, and nothing more.
  auto submitted = call(*agent, "POST", "/v1/jobs", secret,
                        json{{"job", {{"id", "web"}, {"type", "batch"}, {"groups", {{{"name", "g"}, {"tasks", {{{"name", "t"}, {"driver", "raw_exec"}, {"config", {{"command", "/bin/true"}}}}}}}}}}}}.dump());
  EXPECT_TRUE(submitted && submitted->status == 200) << error_of(submitted);
  EXPECT_EQ(call(*agent, "GET", "/v1/acl/tokens", secret)->status, 403);
  EXPECT_EQ(call(*agent, "GET", "/v1/node", secret)->status, 403);

  auto refused = [&](const json& claims, const std::string& key, const std::string& alg = "ES256") {
    auto r = call(*agent, "POST", "/v1/acl/login", "",
                  json{{"AuthMethodName", "ci"}, {"LoginToken", token(dir, claims, key, alg)}}.dump());
    EXPECT_TRUE(r && r->status == 403) << (r ? r->body : "no reply");
    return error_of(r);
  };
  auto with = [&](json patch) {
    json c = good;
    c.merge_patch(patch);
    return c;
  };
  EXPECT_NE(refused(good, dir + "/other.key").find("the signature is not by any of the auth method's keys"),
            std::string::npos);
  EXPECT_NE(refused(with({{"exp", now - 3600}}), dir + "/idp.key").find("exp: the token expired"),
            std::string::npos);
  EXPECT_NE(refused(with({{"aud", "vault"}}), dir + "/idp.key").find("aud:"), std::string::npos);
  EXPECT_NE(refused(with({{"iss", "https://evil.example"}}), dir + "/idp.key").find("iss:"), std::string::npos);
  EXPECT_NE(refused(with({{"groups", {"builders"}}}), dir + "/idp.key").find("no binding rule"), std::string::npos);
  EXPECT_NE(refused(good, dir + "/idp.pub", "HS256-with-public-key").find("\"HS256\""), std::string::npos);
  EXPECT_NE(refused(good, dir + "/idp.key", "none").find("\"none\""), std::string::npos);
  // A project whose role does not exist binds nothing.
  EXPECT_NE(refused(with({{"project", "db"}}), dir + "/idp.key").find("no binding rule"), std::string::npos);

  // Bad records are refused naming the field; nothing is stored.
  auto bad_method = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                         json{{"Name", "sso"}, {"Type", "OIDC"}, {"MaxTokenTTL", "1h"}, {"Config", config}}.dump());
  EXPECT_EQ(bad_method->status, 400);
  EXPECT_NE(error_of(bad_method).find("Config.OIDCDiscoveryURL: required for an OIDC method"), std::string::npos)
      << error_of(bad_method);
  auto second_default = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                             json{{"Name", "ci2"}, {"Type", "JWT"}, {"MaxTokenTTL", "1h"}, {"Default", true},
                                  {"Config", config}}.dump());
  EXPECT_EQ(second_default->status, 400);
  EXPECT_NE(error_of(second_default).find("Default: \"ci\" is the default"), std::string::npos);
  auto bad_rule = call(*agent, "POST", "/v1/acl/binding-rule", mgmt,
                       json{{"AuthMethod", "ci"}, {"BindType", "role"}, {"BindName", "x"}, {"Selector", "a in"}}.dump());
  EXPECT_EQ(bad_rule->status, 400);
  EXPECT_NE(error_of(bad_rule).find("Selector:"), std::string::npos) << error_of(bad_rule);
  EXPECT_EQ(json::parse(call(*agent, "GET", "/v1/acl/auth-methods", "")->body).size(), 1u);

  // An update keeps what it does not name; a delete takes the method's rules with it.
  auto updated = drover({"acl", "auth-method", "update", "ci", "-max-token-ttl", "10m"});
  ASSERT_EQ(updated.exit_code, 0) << updated.out << updated.err;
  EXPECT_EQ(cli_field(updated.out, "Max Token TTL"), "10m");
  EXPECT_EQ(cli_field(updated.out, "Bound audiences"), "drover");
  ASSERT_EQ(drover({"acl", "auth-method", "delete", "ci"}).exit_code, 0);
  EXPECT_EQ(json::parse(call(*agent, "GET", "/v1/acl/binding-rules", mgmt)->body).size(), 0u);
  auto gone = call(*agent, "POST", "/v1/acl/login", "",
                   json{{"AuthMethodName", "ci"}, {"LoginToken", token(dir, good, dir + "/idp.key")}}.dump());
  EXPECT_EQ(gone->status, 400);
  EXPECT_NE(error_of(gone).find("AuthMethodName: no ACL auth method is named \"ci\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

// A CI job running on drover deploys with its own identity: its workload identity for the
// audience "drover-login", checked against the agent's published JWKS, binds a policy named
// after its job.
TEST(AclLogin, ATasksWorkloadIdentityLogsInThroughTheAgentsJwks) {
  const std::string dir = make_temp_dir("drover-acl-login-wid");
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\noidc_issuer: https://drover.test\n"});
  const std::string mgmt = bootstrap_secret(*agent);
  ASSERT_FALSE(mgmt.empty()) << agent->log();
  write_file(dir + "/deployers.hcl", kDeployers);
  ASSERT_EQ(agent->cli({"acl", "policy", "apply", "deployer-ci-runner", dir + "/deployers.hcl", "-token", mgmt}).exit_code, 0);
  const std::string jwks = "http://127.0.0.1:" + std::to_string(agent->port()) + "/.well-known/jwks.json";
  auto method = call(*agent, "POST", "/v1/acl/auth-method", mgmt,
                     json{{"Name", "workloads"}, {"Type", "JWT"}, {"MaxTokenTTL", "5m"},
                          {"Config", {{"JWKSURL", jwks}, {"BoundAudiences", {"drover-login"}},
                                      {"BoundIssuer", {"https://drover.test"}},
                                      {"ClaimMappings", {{"nomad_job_id", "job"}, {"nomad_namespace", "namespace"}}}}}}
                         .dump());
  ASSERT_TRUE(method && method->status == 200) << error_of(method);
  auto rule = call(*agent, "POST", "/v1/acl/binding-rule", mgmt,
                   json{{"AuthMethod", "workloads"}, {"BindType", "policy"}, {"BindName", "deployer-${value.job}"},
                        {"Selector", "value.namespace == default"}}
                       .dump());
  ASSERT_TRUE(rule && rule->status == 200) << error_of(rule);

  const std::string job = R"(job:
  id: ci-runner
  groups:
    - name: g
      tasks:
        - name: t
          driver: raw_exec
          identity: {file: true}
          identities:
            - name: login
              aud: [drover-login]
              file: true
          config:
            command: /bin/sh
            args: ["-c", "exec sleep 300"]
)";
  httplib::Client c("127.0.0.1", agent->port());
  auto submitted = c.Post("/v1/jobs", {{"X-Nomad-Token", mgmt}}, job, "application/yaml");
  ASSERT_TRUE(submitted && submitted->status == 200) << (submitted ? submitted->body : "no reply");
  const std::string alloc = json::parse(submitted->body)["AllocIDs"][0];
  const std::string jwt_file = agent->data_dir() + "/alloc/" + alloc + "/t/secrets/nomad_login.jwt";
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(jwt_file); }, 20s)) << agent->log();
  auto login = call(*agent, "POST", "/v1/acl/login", "",
                    json{{"AuthMethodName", "workloads"}, {"LoginToken", read_file(jwt_file)}}.dump());
  ASSERT_TRUE(login && login->status == 200) << error_of(login);
  const json token = json::parse(login->body);
  EXPECT_EQ(token["Policies"], json::array({"deployer-ci-runner"})) << login->body;
  EXPECT_EQ(token["Name"], "JWT-workloads");
  EXPECT_EQ(call(*agent, "GET", "/v1/job/ci-runner", token.value("SecretID", ""))->status, 200);
  // The task's default identity (for the agent's own API) is not for this audience.
  auto env_token = read_file(agent->data_dir() + "/alloc/" + alloc + "/t/secrets/nomad_token");
  auto wrong_aud = call(*agent, "POST", "/v1/acl/login", "",
                        json{{"AuthMethodName", "workloads"}, {"LoginToken", env_token}}.dump());
  ASSERT_FALSE(env_token.empty());
  EXPECT_EQ(wrong_aud->status, 403) << wrong_aud->body;
  EXPECT_NE(error_of(wrong_aud).find("aud:"), std::string::npos) << error_of(wrong_aud);
  c.Delete("/v1/job/ci-runner?purge=true", {{"X-Nomad-Token", mgmt}});
  std::filesystem::remove_all(dir);
}

TEST(AclLogin, AMethodMadeOnOneServerServesALoginOnTheOther) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  const std::string dir = make_temp_dir("drover-acl-login-cluster");
  ASSERT_EQ(run_shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + dir +
                "/idp.key && openssl pkey -in " + dir + "/idp.key -pubout -out " + dir + "/idp.pub")
                .exit_code,
            0);
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto s1 = ServerProcess::start("s1", drover::testing::acl_server_yaml(etcd, dir, "s1"));
  auto s2 = ServerProcess::start("s2", drover::testing::acl_server_yaml(etcd, dir, "s2"));
  const std::string mgmt = drover::testing::bootstrap_token(dir, {"s1", "s2"});
  ASSERT_FALSE(mgmt.empty()) << s1->log() << s2->log();
  s1->use_token(mgmt);
  ASSERT_EQ(s1->post("/v1/acl/policy/deployers", json{{"Rules", kDeployers}}.dump(), "application/json").status, 200);
  auto method = s1->post("/v1/acl/auth-method",
                         json{{"Name", "ci"}, {"Type", "JWT"}, {"MaxTokenTTL", "1h"},
                              {"Config", {{"JWTValidationPubKeys", {read_file(dir + "/idp.pub")}},
                                          {"SigningAlgs", {"ES256"}}}}}
                             .dump(),
                         "application/json");
  ASSERT_EQ(method.status, 200) << method.body;
  auto rule = s1->post("/v1/acl/binding-rule",
                       json{{"AuthMethod", "ci"}, {"BindType", "policy"}, {"BindName", "deployers"}}.dump(),
                       "application/json");
  ASSERT_EQ(rule.status, 200) << rule.body;

  const std::string jwt = token(dir, {{"sub", "pipeline-42"}, {"exp", std::time(nullptr) + 600}}, dir + "/idp.key");
  s2->use_token("");
  EXPECT_EQ(s2->get("/v1/acl/auth-methods").json().size(), 1u);
  auto login = s2->post("/v1/acl/login", json{{"AuthMethodName", "ci"}, {"LoginToken", jwt}}.dump(), "application/json");
  ASSERT_EQ(login.status, 200) << login.body << s2->log();
  EXPECT_EQ(login.json()["Policies"], json::array({"deployers"}));
  // The token is the cluster's: the server that did not make it honours it at once.
  s1->use_token(login.json().value("SecretID", ""));
  EXPECT_EQ(s1->get("/v1/jobs").status, 200);
  EXPECT_EQ(s1->get("/v1/acl/tokens").status, 403);
  std::filesystem::remove_all(dir);
}
