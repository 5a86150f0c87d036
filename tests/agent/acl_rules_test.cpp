// Nomad ACL policies (api/acl_policy.hpp) and the check of a request against a token's
// policies (api/request_authz.hpp), docs/security.md "ACL policies": what an operator who
// writes Nomad's policy files sees granted and refused.
#include <gtest/gtest.h>

#include "api/acl_policy.hpp"
#include "api/events_endpoint.hpp"
#include "api/request_authz.hpp"
#include "jobspec/job.hpp"

using drover::api::Acl;
using drover::api::AclPolicyRecord;
using drover::api::AclRules;
using drover::api::authorize;
using drover::api::parse_acl_rules;
using drover::api::Policy;
using drover::api::RequestFacts;
using drover::api::TokenInfo;

namespace {

Acl acl_of(const std::string& text) {
  auto rules = parse_acl_rules(text);
  EXPECT_TRUE(rules) << rules.message();
  static std::vector<AclRules> keep;  // Acl::merge reads them
  keep.push_back(rules ? rules.value() : AclRules{});
  return Acl::merge({&keep.back()});
}

// A stored policy of these rules, attached to a job's tasks when `to` is given.
AclPolicyRecord policy(const std::string& name, const std::string& rules,
                       std::optional<AclPolicyRecord::JobAcl> to = std::nullopt) {
  AclPolicyRecord p;
  p.name = name;
  p.rules = rules;
  p.parsed = std::make_shared<const AclRules>(parse_acl_rules(rules).value());
  p.job_acl = std::move(to);
  return p;
}

// Tokens by secret: "client" holds the policies given, "reader" drover's built-in read.
class Tokens : public drover::api::TokenStore {
 public:
  explicit Tokens(const std::string& rules) {
    auto r = parse_acl_rules(rules);
    EXPECT_TRUE(r) << r.message();
    rules_ = r.value();
  }
  std::optional<TokenInfo> authenticate(std::string_view secret) const override {
    TokenInfo t;
    if (secret == "reader") return t;
    if (secret != "client") return std::nullopt;
    t.policies = {"team"};
    t.acl = std::make_shared<Acl>(Acl::merge({&rules_}));
    return t;
  }
  drover::Result<std::pair<TokenInfo, std::string>> create(
      const std::string&, Policy, std::chrono::nanoseconds, const std::vector<std::string>&,
      const std::vector<TokenInfo::RoleLink>&) override {
    return drover::make_error("unused");
  }
  drover::Result<std::vector<TokenInfo>> list() const override { return std::vector<TokenInfo>{}; }
  RevokeError revoke(const std::string&, std::string*) override { return RevokeError::store; }
  drover::Result<std::vector<AclPolicyRecord>> policies() const override {
    return std::vector<AclPolicyRecord>{};
  }
  drover::Status put_policy(const AclPolicyRecord&) override { return {}; }
  drover::Status delete_policy(const std::string&) override { return {}; }
  drover::Result<std::vector<drover::api::AclRoleRecord>> roles() const override {
    return std::vector<drover::api::AclRoleRecord>{};
  }
  drover::Status put_role(const drover::api::AclRoleRecord&) override { return {}; }
  drover::Status delete_role(const std::string&) override { return {}; }
  drover::Result<std::vector<std::string>> records(const std::string&) const override {
    return std::vector<std::string>{};
  }
  drover::Status put_record(const std::string&, const std::string&, const std::string&) override {
    return {};
  }
  drover::Status delete_record(const std::string&, const std::string&) override { return {}; }

 private:
  AclRules rules_;
};

// The status of a refusal, or 200.
int check(const Tokens& tokens, const std::string& secret, std::string_view method,
          std::string_view path, std::optional<std::string> ns = std::nullopt) {
  auto lookup = [](const std::string& id) -> drover::Result<std::string> {
    if (id == "a1") return std::string("team-a");
    if (id == "d1") return std::string("default");
    return drover::make_error("alloc \"" + id + "\" not found", drover::Errc::NotFound);
  };
  auto r = authorize(tokens, RequestFacts{method, path, secret, ns}, "this agent", lookup);
  return r ? r->status : 200;
}

}  // namespace

TEST(AclRules, PolicyShorthandsExpandAsNomadsAndCapabilitiesAdd) {
  auto acl = acl_of(R"(
namespace "team-a" {
  policy = "read"
  capabilities = ["read-logs"]
}
namespace "team-b" {
  policy = "write"
}
namespace "scaler" {
  policy = "scale"
}
)");
  EXPECT_TRUE(acl.allow_namespace("team-a", "list-jobs"));
  EXPECT_TRUE(acl.allow_namespace("team-a", "read-job"));
  EXPECT_TRUE(acl.allow_namespace("team-a", "read-logs"));
  EXPECT_FALSE(acl.allow_namespace("team-a", "submit-job"));
  EXPECT_FALSE(acl.allow_namespace("team-a", "read-fs"));
  for (const char* c : {"submit-job", "dispatch-job", "read-fs", "alloc-exec", "alloc-lifecycle",
                        "scale-job", "host-volume-create"})
    EXPECT_TRUE(acl.allow_namespace("team-b", c)) << c;
  // Exec on the node itself (raw_exec) and registering a volume are never implied.
  EXPECT_FALSE(acl.allow_namespace("team-b", "alloc-node-exec"));
  EXPECT_FALSE(acl.allow_namespace("team-b", "host-volume-register"));
  EXPECT_TRUE(acl.allow_namespace("scaler", "scale-job"));
  EXPECT_FALSE(acl.allow_namespace("scaler", "submit-job"));
  EXPECT_FALSE(acl.allow_namespace("default", "list-jobs"));
}

// Nomad's rule choice: an exact label, else the glob matching with the most literal
// characters; only that one rule counts.
TEST(AclRules, TheMostSpecificNamespaceRuleDecides) {
  auto acl = acl_of(R"(
namespace "*" { policy = "read" }
namespace "*-web" { policy = "deny" }
namespace "team-*" { policy = "write" }
namespace "team-secret" { capabilities = ["list-jobs"] }
)");
  EXPECT_TRUE(acl.allow_namespace("anything", "read-job"));
  EXPECT_FALSE(acl.allow_namespace("production-web", "read-job"));
  EXPECT_TRUE(acl.allow_namespace("team-x", "submit-job"));
  EXPECT_TRUE(acl.allow_namespace("team-secret", "list-jobs"));
  EXPECT_FALSE(acl.allow_namespace("team-secret", "read-job"));
  EXPECT_FALSE(acl.any_in_namespace("production-web"));
}

TEST(AclRules, PoliciesOfOneTokenAddUpAndDenyWins) {
  auto a = parse_acl_rules(R"(namespace "default" { policy = "read" }
node { policy = "write" })");
  auto b = parse_acl_rules(R"(namespace "default" { capabilities = ["submit-job"] }
namespace "ops" { policy = "write" }
node { policy = "read" }
operator { policy = "read" })");
  auto c = parse_acl_rules(R"(namespace "ops" { policy = "deny" }
agent { policy = "deny" })");
  ASSERT_TRUE(a && b && c);
  auto acl = Acl::merge({&a.value(), &b.value(), &c.value()});
  EXPECT_TRUE(acl.allow_namespace("default", "read-job"));
  EXPECT_TRUE(acl.allow_namespace("default", "submit-job"));
  EXPECT_FALSE(acl.allow_namespace("ops", "read-job"));
  EXPECT_TRUE(acl.allow_level("node", "write"));
  EXPECT_TRUE(acl.allow_level("operator", "read"));
  EXPECT_FALSE(acl.allow_level("operator", "write"));
  EXPECT_FALSE(acl.allow_level("agent", "read"));
  EXPECT_FALSE(acl.allow_level("plugin", "list"));
}

TEST(AclRules, VariablePathsGrantTheirOwnCapabilitiesAndReadImpliesList) {
  auto acl = acl_of(R"(
namespace "default" {
  variables {
    path "app/*" { capabilities = ["read", "write"] }
    path "app/secret/*" { capabilities = ["deny"] }
  }
}
)");
  EXPECT_TRUE(acl.allow_variable("default", "app/db", "write"));
  EXPECT_TRUE(acl.allow_variable("default", "app/db", "list"));
  EXPECT_FALSE(acl.allow_variable("default", "app/db", "destroy"));
  EXPECT_FALSE(acl.allow_variable("default", "app/secret/key", "read"));
  EXPECT_FALSE(acl.allow_variable("default", "other", "read"));
  EXPECT_FALSE(acl.allow_variable("team-a", "app/db", "read"));
  // Variables alone grant nothing on jobs.
  EXPECT_FALSE(acl.allow_namespace("default", "read-job"));
}

// The JSON Nomad's API takes for the same rules reads the same.
TEST(AclRules, NomadsJsonFormReadsAsTheHcl) {
  auto acl = acl_of(R"({
    "namespace": {"team-a": {"policy": "write", "variables": {"path": {"cfg/*": {"capabilities": ["read"]}}}}},
    "host_volume": {"scratch": {"policy": "read"}},
    "node": {"policy": "read"}
  })");
  EXPECT_TRUE(acl.allow_namespace("team-a", "submit-job"));
  EXPECT_TRUE(acl.allow_variable("team-a", "cfg/x", "read"));
  EXPECT_TRUE(acl.allow_host_volume("scratch", "mount-readonly"));
  EXPECT_FALSE(acl.allow_host_volume("scratch", "mount-readwrite"));
  EXPECT_TRUE(acl.allow_level("node", "read"));
}

TEST(AclRules, AMistakeIsRefusedNamingTheBlockAndWhat) {
  auto bad = [](const std::string& text) {
    auto r = parse_acl_rules(text);
    EXPECT_FALSE(r) << text;
    return r ? std::string() : r.message();
  };
  EXPECT_NE(bad(R"(namespace "a" { capabilities = ["submit-jobs"] })")
                .find("namespace \"a\".capabilities: unknown capability \"submit-jobs\""),
            std::string::npos);
  EXPECT_NE(bad(R"(namespace "a" { policy = "admin" })").find("namespace \"a\".policy: \"admin\""),
            std::string::npos);
  EXPECT_NE(bad(R"(namespace "a/b" { policy = "read" })").find("invalid name"), std::string::npos);
  EXPECT_NE(bad(R"(nodes { policy = "read" })").find("unknown block \"nodes\""), std::string::npos);
  EXPECT_NE(bad(R"(node { policy = "list" })").find("node.policy"), std::string::npos);
  EXPECT_NE(bad(R"(namespace "a" { polcy = "read" })").find("unknown field \"polcy\""),
            std::string::npos);
  EXPECT_NE(bad("").find("grants nothing"), std::string::npos);
  EXPECT_NE(bad(R"(namespace "a" { variables { path "x" { capabilities = ["execute"] } } })")
                .find("unknown capability \"execute\""),
            std::string::npos);
  EXPECT_NE(bad("namespace \"a\" {").find("rules:"), std::string::npos);
}

// What each endpoint asks of a client token, judged in the namespace the request touches.
TEST(AclRules, ARequestNeedsItsCapabilityInTheNamespaceItTouches) {
  Tokens tokens(R"(
namespace "team-a" { policy = "write" }
namespace "default" { capabilities = ["list-jobs"] }
node { policy = "read" }
)");
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/jobs"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/jobs", "team-a"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/job/web", "team-a"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/job/web"), 403);  // list-jobs is not read-job
  EXPECT_EQ(check(tokens, "client", "DELETE", "/v1/job/web", "team-a"), 200);
  EXPECT_EQ(check(tokens, "client", "DELETE", "/v1/job/web", "default"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/jobs", "ops"), 403);
  // An alloc's endpoints: its job's namespace, whatever the query says.
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/client/fs/logs/a1"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/client/fs/logs/d1", "team-a"), 403);
  EXPECT_EQ(check(tokens, "client", "POST", "/v1/client/allocation/a1/restart"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/allocation/nope"), 404);
  // Every namespace: the lists that filter by it, not the others.
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/allocations", "*"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/event/stream", "*"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/job/web", "*"), 403);
  // The body names the namespace: some namespace must grant it here, the handler checks which.
  EXPECT_EQ(check(tokens, "client", "POST", "/v1/jobs"), 200);
  EXPECT_EQ(check(tokens, "client", "POST", "/v1/jobs", "default"), 403);
  // Levels and management.
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/node"), 200);
  EXPECT_EQ(check(tokens, "client", "POST", "/v1/client/allocation/a1/gc"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/acl/tokens"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/acl/token/self"), 200);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/plugins"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/namespace/ops"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/namespace/default"), 200);
  // Node pools: its node_pool rules, none here.
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/node/pools"), 200);
  EXPECT_EQ(check(tokens, "client", "POST", "/v1/node/pools"), 403);
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/node/pool/gpu"), 403);
  // Open endpoints, unknown secrets, and drover's built-in policies as before.
  EXPECT_EQ(check(tokens, "", "GET", "/v1/agent/health"), 200);
  EXPECT_EQ(check(tokens, "nope", "GET", "/v1/jobs"), 403);
  EXPECT_EQ(check(tokens, "reader", "GET", "/v1/job/web", "ops"), 200);
  EXPECT_EQ(check(tokens, "reader", "POST", "/v1/jobs"), 403);
}

// What a handler asks once it knows the namespace: lists filtered, a job's namespace and its
// host volumes checked.
TEST(AclRules, HandlersFilterListsAndCheckTheSubmittedJob) {
  Tokens tokens(R"(
namespace "team-a" { policy = "write" }
namespace "default" { policy = "read" }
host_volume "data" { policy = "read" }
)");
  ASSERT_EQ(check(tokens, "client", "GET", "/v1/jobs", "*"), 200);
  EXPECT_TRUE(drover::api::request_lists_namespace("team-a"));
  EXPECT_TRUE(drover::api::request_lists_namespace("default"));
  EXPECT_FALSE(drover::api::request_lists_namespace("ops"));

  ASSERT_EQ(check(tokens, "client", "POST", "/v1/jobs"), 200);
  drover::jobspec::Job job;
  job.namespace_name = "default";
  EXPECT_NE(drover::api::job_submit_refusal(job).find("submit-job in namespace \"default\""),
            std::string::npos);
  job.namespace_name = "team-a";
  EXPECT_EQ(drover::api::job_submit_refusal(job), "");
  drover::jobspec::TaskGroup g;
  g.name = "g";
  drover::jobspec::VolumeRequest v;
  v.name = "d";
  v.source = "data";
  v.read_only = false;
  g.volumes.push_back(v);
  job.groups.push_back(g);
  EXPECT_NE(drover::api::job_submit_refusal(job).find("mount-readwrite on host volume \"data\""),
            std::string::npos);
  job.groups[0].volumes[0].read_only = true;
  EXPECT_EQ(drover::api::job_submit_refusal(job), "");

  // A built-in policy's token is not limited by namespace: nothing is filtered.
  ASSERT_EQ(check(tokens, "reader", "GET", "/v1/jobs", "*"), 200);
  EXPECT_TRUE(drover::api::request_lists_namespace("ops"));
  drover::api::clear_request_acl();
}

// A policy attached to a job (Nomad's JobACL) is its tasks': the job's, a group's or one task's.
TEST(AclRules, APolicyAttachedToAJobGrantsItsTasksOnly) {
  std::vector<AclPolicyRecord> known = {
      policy("job", R"(namespace "default" { capabilities = ["list-jobs"] })",
             AclPolicyRecord::JobAcl{"default", "web", "", ""}),
      policy("group", R"(namespace "default" { capabilities = ["read-job"] })",
             AclPolicyRecord::JobAcl{"default", "web", "api", ""}),
      policy("task", R"(namespace "default" { capabilities = ["submit-job"] })",
             AclPolicyRecord::JobAcl{"default", "web", "api", "main"}),
      policy("elsewhere", R"(namespace "default" { policy = "write" })",
             AclPolicyRecord::JobAcl{"team-a", "web", "", ""})};
  known.push_back(known.front());
  known.back().job_acl.reset();  // a token's policy, not a job's
  known.back().name = "token";
  auto main_task = drover::api::workload_acl(known, "default", "web", "api", "main");
  ASSERT_TRUE(main_task);
  EXPECT_TRUE(main_task->allow_namespace("default", "list-jobs"));
  EXPECT_TRUE(main_task->allow_namespace("default", "read-job"));
  EXPECT_TRUE(main_task->allow_namespace("default", "submit-job"));
  auto sidecar = drover::api::workload_acl(known, "default", "web", "api", "sidecar");
  ASSERT_TRUE(sidecar);
  EXPECT_TRUE(sidecar->allow_namespace("default", "read-job"));
  EXPECT_FALSE(sidecar->allow_namespace("default", "submit-job"));
  auto other_group = drover::api::workload_acl(known, "default", "web", "worker", "main");
  ASSERT_TRUE(other_group);
  EXPECT_FALSE(other_group->allow_namespace("default", "read-job"));
  EXPECT_FALSE(drover::api::workload_acl(known, "default", "db", "api", "main"));
}

// The event stream of a client token: namespaced events where it holds read-job and which
// the request asked for, node events with node read.
TEST(AclRules, AnEventStreamShowsAClientTokenItsNamespacesAndTheNodeIfAllowed) {
  auto rules = parse_acl_rules(R"(namespace "team-a" { policy = "read" }
node { policy = "read" })");
  ASSERT_TRUE(rules);
  auto acl = std::make_shared<const Acl>(Acl::merge({&rules.value()}));
  auto event = [](std::string ns) {
    drover::api::Event e;
    e.ns = std::move(ns);
    return e;
  };
  drover::api::EventScope all{acl, "*"}, team{acl, "team-a"}, other{acl, "default"};
  EXPECT_TRUE(visible(all, event("team-a")));
  EXPECT_FALSE(visible(all, event("default")));
  EXPECT_TRUE(visible(all, event("")));  // a node's
  EXPECT_TRUE(visible(team, event("team-a")));
  EXPECT_FALSE(visible(other, event("team-a")));
  auto no_node = parse_acl_rules(R"(namespace "team-a" { policy = "read" })");
  drover::api::EventScope without{std::make_shared<const Acl>(Acl::merge({&no_node.value()})), "*"};
  EXPECT_FALSE(visible(without, event("")));
  // Without a client token: what ?namespace= asked for ("default" when absent), as Nomad's.
  EXPECT_FALSE(visible(drover::api::EventScope{nullptr, "default"}, event("team-a")));
  EXPECT_TRUE(visible(drover::api::EventScope{nullptr, "*"}, event("team-a")));
  EXPECT_TRUE(visible(drover::api::EventScope{nullptr, "team-a"}, event("team-a")));
  EXPECT_TRUE(visible(drover::api::EventScope{nullptr, "default"}, event("")));
}

// node_pool rules: a pool matching the glob is the token's to apply and delete; the body of an
// apply names the pool, which its handler checks.
TEST(AclRules, NodePoolRulesGrantTheirPools) {
  Tokens tokens(R"(node_pool "gpu-*" { policy = "write" })");
  EXPECT_EQ(check(tokens, "client", "GET", "/v1/node/pool/gpu-a"), 200);
  EXPECT_EQ(check(tokens, "client", "DELETE", "/v1/node/pool/gpu-a"), 200);
  EXPECT_EQ(check(tokens, "client", "DELETE", "/v1/node/pool/cpu"), 403);
  ASSERT_EQ(check(tokens, "client", "POST", "/v1/node/pools"), 200);
  EXPECT_EQ(drover::api::request_node_pool_refusal("gpu-b", "write"), "");
  EXPECT_NE(drover::api::request_node_pool_refusal("cpu", "write"), "");
  EXPECT_TRUE(drover::api::request_lists_node_pool("gpu-b"));
  EXPECT_FALSE(drover::api::request_lists_node_pool("cpu"));
  drover::api::clear_request_acl();
}

// A token's roles add their policies to its own; a role gone grants nothing.
TEST(AclRules, ATokensRolesGrantTheirPolicies) {
  std::vector<AclPolicyRecord> policies = {
      policy("readers", R"(namespace "*" { policy = "read" })"),
      policy("team-a", R"(namespace "team-a" { policy = "write" })")};
  drover::api::AclRoleRecord role;
  role.id = "r1";
  role.name = "developers";
  role.policies = {"readers", "team-a"};
  TokenInfo t;
  t.roles = {{"r1", "developers"}};
  ASSERT_TRUE(t.client());
  auto acl = drover::api::token_acl(t, policies, {role});
  EXPECT_TRUE(acl->allow_namespace("default", "read-job"));
  EXPECT_TRUE(acl->allow_namespace("team-a", "submit-job"));
  EXPECT_FALSE(acl->allow_namespace("default", "submit-job"));
  auto gone = drover::api::token_acl(t, policies, {});
  EXPECT_FALSE(gone->allow_namespace("default", "read-job"));
}

// A job's action runs in the alloc of ?allocID=: judged in that alloc's namespace, so a job of
// the same name in another namespace is out of reach.
TEST(AclRules, AJobsActionIsJudgedInItsAllocsNamespace) {
  Tokens tokens(R"(namespace "team-a" { policy = "write" })");
  auto lookup = [](const std::string& id) -> drover::Result<std::string> {
    if (id == "a1") return std::string("team-a");
    if (id == "d1") return std::string("default");
    return drover::make_error("alloc \"" + id + "\" not found", drover::Errc::NotFound);
  };
  auto action = [&](const std::string& alloc) {
    RequestFacts f{"GET", "/v1/job/web/action", "client", std::string("team-a")};
    f.alloc_param = alloc;
    auto r = authorize(tokens, f, "this agent", lookup);
    return r ? r->status : 200;
  };
  EXPECT_EQ(action("a1"), 200);
  EXPECT_EQ(action("d1"), 403);
  EXPECT_EQ(action(""), 400);
}
