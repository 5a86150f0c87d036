// The cluster's API behind TLS and ACL tokens (docs/security.md, "Cluster"), end to end with
// real processes on loopback: etcd, two `drover server`s and, for TLS, an agent. A user sees
// https only, the CLI working with the CA, tokens made on one server honoured by the other,
// and each refusal naming the policy it needed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::AgentProcess;
using drover::testing::EtcdProcess;
using drover::testing::eventually;
using drover::testing::read_file;
using drover::testing::run_drover;
using drover::testing::ServerProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kTtl = 3;  // seconds: the agents' heartbeat and the servers' leader lease

std::string etcd_block(const EtcdProcess& e) {
  return "etcd:\n  endpoints: [\"" + e.endpoint() + "\"]\n  prefix: /drover\n";
}

// A CA and one certificate it signed for 127.0.0.1 and localhost, which every process of the
// test uses (as a server's and an agent's cert, and as a server's client cert).
std::string make_pki() {
  auto dir = drover::testing::make_temp_dir("drover-cluster-pki");
  std::string cmd =
      "cd " + dir + " && exec >log 2>&1 && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=test-ca && "
      "openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=localhost && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem "
      "-days 2 -extfile san.ext";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_file(dir + "/log");
  return dir;
}

std::string tls_block(const std::string& pki) {
  return "tls:\n  cert_file: " + pki + "/node.pem\n  key_file: " + pki +
         "/node.key\n  ca_file: " + pki + "/ca.pem\n";
}

std::string sleeper(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          kill_timeout: 1s\n"
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo started; exec sleep 300\"]\n"
         "          resources:\n            cpu: 50\n            memory: 32\n";
}

// The server of the two that does not lead now (nullptr until one leads).
ServerProcess* follower_of(ServerProcess& a, ServerProcess& b) {
  auto leader = a.get("/v1/status/leader");
  if (leader.status != 200 || !leader.json().is_string()) return nullptr;
  auto addr = leader.json().get<std::string>();
  if (addr.empty()) return nullptr;
  return a.address().find(addr) != std::string::npos ? &b : &a;
}

// An agent of the cluster in `etcd` with ACLs of its own (docs/security.md, "Cluster").
std::unique_ptr<AgentProcess> acl_agent(const EtcdProcess& etcd) {
  AgentProcess::Options o;
  o.config_yaml = "acl:\n  enabled: true\nupstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" +
                  etcd.endpoint() +
                  "\"]\n    prefix: /drover\n    heartbeat_ttl: " + std::to_string(kTtl) + "s\n";
  return AgentProcess::start(o);
}

// A server with ACLs, writing its bootstrap token's secret to dir/s1.token.
std::unique_ptr<ServerProcess> acl_server(const EtcdProcess& etcd, const std::string& dir) {
  return ServerProcess::start(
      "s1", "leader_ttl: " + std::to_string(kTtl) + "s\n" + etcd_block(etcd) +
                "acl:\n  enabled: true\n  bootstrap_token_file: " + dir + "/s1.token\n");
}

// The bootstrap secret acl_server wrote; "" until it has.
std::string bootstrap_of(const std::string& dir) {
  std::string secret = read_file(dir + "/s1.token");
  secret.erase(secret.find_last_not_of("\n") + 1);
  return secret;
}

std::string error_of(const drover::testing::HttpReply& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("error", r.body) : r.body;
}

}  // namespace

TEST(ClusterSecurity, ServersWithTlsAnswerHttpsOnlyAndCallTheLeaderAndAgentsOverHttps) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  const auto pki = make_pki();
  const auto ca = pki + "/ca.pem";
  AgentProcess::Options o;
  o.config_yaml = "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + etcd.endpoint() +
                  "\"]\n    prefix: /drover\n    heartbeat_ttl: " + std::to_string(kTtl) +
                  "s\n" + tls_block(pki);
  o.ca_file = ca;
  auto agent = AgentProcess::start(o);
  const std::string cfg =
      "leader_ttl: " + std::to_string(kTtl) + "s\n" + etcd_block(etcd) + tls_block(pki);
  auto s1 = ServerProcess::start("s1", cfg, ca);
  auto s2 = ServerProcess::start("s2", cfg, ca);
  ServerProcess* follower = nullptr;
  ASSERT_TRUE(eventually([&] { return (follower = follower_of(*s1, *s2)) != nullptr; }, 20s))
      << s1->log();
  EXPECT_EQ(follower->address().rfind("https://", 0), 0u);

  // Plain http to the TLS port: no answer worth the name.
  auto plain = drover::testing::api_client(
      "http://" + follower->address().substr(std::string("https://").size()), "", 3);
  auto p = plain->Get("/v1/jobs");
  EXPECT_TRUE(!p || p->status >= 400);

  // The CLI with the CA: a write through the follower reaches the leader over https.
  auto dir = drover::testing::make_temp_dir("drover-cluster-tls-job");
  drover::testing::write_file(dir + "/web.yaml", sleeper("web"));
  const std::vector<std::string> with_ca = {"DROVER_CACERT=" + ca};
  auto run = run_drover({"job", "run", "-detach", dir + "/web.yaml"}, follower->address(), with_ca);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << follower->log();
  // Without the CA the CLI does not trust the server: it says so and does nothing.
  auto untrusted = run_drover({"job", "status"}, follower->address());
  EXPECT_NE(untrusted.exit_code, 0) << untrusted.out;

  // The agent (https too) runs it; its logs come through the follower from the node over https.
  std::string alloc;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = follower->get("/v1/job/web/allocations").json();
        if (!list.is_array() || list.size() != 1 ||
            list[0].value("ClientStatus", "") != "running")
          return false;
        alloc = list[0].value("ID", "");
        return true;
      },
      30s))
      << follower->get("/v1/job/web/allocations").body << agent->log();
  auto logs = run_drover({"alloc", "logs", alloc.substr(0, 8), "t"}, follower->address(), with_ca);
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("started"), std::string::npos) << logs.out << logs.err;
  auto members = run_drover({"server", "members"}, follower->address(), with_ca);
  EXPECT_EQ(members.exit_code, 0) << members.err;
  EXPECT_NE(members.out.find("s1"), std::string::npos) << members.out;
  EXPECT_NE(members.out.find("s2"), std::string::npos) << members.out;
  run_drover({"job", "stop", "web"}, follower->address(), with_ca);
  s1.reset();
  s2.reset();
  agent.reset();
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(pki);
}

TEST(ClusterSecurity, ATokenMadeOnOneServerIsHonouredByTheOtherAndEachRefusalNamesThePolicy) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto dir = drover::testing::make_temp_dir("drover-cluster-acl");
  auto cfg = [&](const std::string& name) {
    return "leader_ttl: " + std::to_string(kTtl) + "s\n" + etcd_block(etcd) +
           "acl:\n  enabled: true\n  bootstrap_token_file: " + dir + "/" + name + ".token\n";
  };
  auto s1 = ServerProcess::start("s1", cfg("s1"));
  auto s2 = ServerProcess::start("s2", cfg("s2"));
  // The first leader made the one bootstrap token and wrote it to its file; the other none.
  // (Who leads is itself behind a token: the file says it.)
  ServerProcess* leader = nullptr;
  std::string management;
  ASSERT_TRUE(eventually(
      [&] {
        for (auto* s : {s1.get(), s2.get()}) {
          management = read_file(dir + "/" + s->name() + ".token");
          if (!management.empty()) leader = s;
          if (leader) return true;
        }
        return false;
      },
      20s))
      << s1->log() << s2->log();
  ServerProcess* follower = leader == s1.get() ? s2.get() : s1.get();
  management.erase(management.find_last_not_of("\n") + 1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + follower->name() + ".token"));
  EXPECT_NE(leader->log().find(management), std::string::npos) << "printed once to its log";

  // No token: 403 naming the policy the request needed; the health probe stays open.
  auto anonymous = follower->get("/v1/jobs");
  EXPECT_EQ(anonymous.status, 403);
  EXPECT_NE(error_of(anonymous).find("needs a token with policy read"), std::string::npos)
      << anonymous.body;
  EXPECT_EQ(follower->get("/v1/agent/health").status, 200);

  // A read token made on the leader is honoured by the follower: it lists, it cannot register.
  leader->use_token(management);
  auto made = leader->post("/v1/acl/token", R"({"Name":"viewer","Policy":"read"})",
                           "application/json");
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string reader = made.json().value("SecretID", "");
  const std::string reader_accessor = made.json().value("AccessorID", "");
  follower->use_token(reader);
  EXPECT_EQ(follower->get("/v1/jobs").status, 200);
  auto refused = follower->post("/v1/jobs", sleeper("web"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(error_of(refused).find("needs a token with policy submit (this one has read)"),
            std::string::npos)
      << refused.body;
  // A submit token registers through the follower (which forwards the token to the leader),
  // but cannot drain a node: that is the operator's.
  made = follower->post("/v1/acl/token", R"({"Name":"ci","Policy":"submit"})", "application/json");
  EXPECT_EQ(made.status, 403) << "a read token cannot make tokens";
  follower->use_token(management);
  made = follower->post("/v1/acl/token", R"({"Name":"ci","Policy":"submit"})", "application/json");
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string submitter = made.json().value("SecretID", "");
  follower->use_token(submitter);
  auto registered = follower->post("/v1/jobs", sleeper("web"));
  EXPECT_EQ(registered.status, 200) << registered.body << leader->log();
  auto drain = follower->post("/v1/node/abc/drain", R"({"DrainSpec":{"Deadline":0}})",
                              "application/json");
  EXPECT_EQ(drain.status, 403);
  EXPECT_NE(error_of(drain).find("policy operate"), std::string::npos) << drain.body;

  // The CLI with DROVER_TOKEN.
  auto status = run_drover({"job", "status", "web"}, follower->address(), {"DROVER_TOKEN=" + reader});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  auto stop = run_drover({"job", "stop", "web"}, follower->address(), {"DROVER_TOKEN=" + reader});
  EXPECT_NE(stop.exit_code, 0) << stop.out;
  EXPECT_NE((stop.out + stop.err).find("policy submit"), std::string::npos) << stop.out << stop.err;

  // etcd holds the tokens' hashes, never a secret.
  auto stored = etcd.ctl("get --prefix /drover/acl/tokens/");
  EXPECT_NE(stored.find("SecretHash"), std::string::npos) << stored;
  EXPECT_EQ(stored.find(reader), std::string::npos);
  EXPECT_EQ(stored.find(management), std::string::npos);

  // Revoked on the follower: refused there at once, and by the leader as soon as its copy of
  // the tokens hears of it (its etcd watch: milliseconds).
  follower->use_token(management);
  EXPECT_EQ(follower->del("/v1/acl/token/" + reader_accessor).status, 200);
  follower->use_token(reader);
  EXPECT_EQ(follower->get("/v1/jobs").status, 403);
  leader->use_token(reader);
  drover::testing::HttpReply revoked;
  EXPECT_TRUE(eventually([&] { return (revoked = leader->get("/v1/jobs")).status == 403; }, 10s))
      << revoked.body;
  EXPECT_NE(error_of(revoked).find("not valid"), std::string::npos) << revoked.body;
  follower->use_token(management);

  // A new leader makes no second bootstrap token.
  const std::string second = follower->name();
  leader->kill(SIGTERM);
  ASSERT_TRUE(eventually(
      [&] {
        return follower->log().find("bootstrap token was made before") != std::string::npos;
      },
      20s))
      << follower->log();
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + second + ".token"));
  auto tokens = follower->get("/v1/acl/tokens").json();
  int bootstraps = 0;
  for (const auto& t : tokens) bootstraps += t.value("Name", "") == "Bootstrap Token";
  EXPECT_EQ(bootstraps, 1) << tokens.dump(2);
  s1.reset();
  s2.reset();
  std::filesystem::remove_all(dir);
}

// An agent with ACLs of its own honours the tokens the servers made (they are the cluster's),
// by the same policy table: a forwarded log read carries the caller's token to the node.
TEST(ClusterSecurity, AServersTokensCountOnAnAgentWithAclsOfItsOwn) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto dir = drover::testing::make_temp_dir("drover-cluster-agent-acl");
  auto agent = acl_agent(etcd);
  auto server = acl_server(etcd, dir);
  std::string management;
  ASSERT_TRUE(eventually([&] { return !(management = bootstrap_of(dir)).empty(); }, 20s))
      << server->log();
  server->use_token(management);
  auto made = server->post("/v1/acl/token", R"({"Name":"viewer","Policy":"read"})",
                           "application/json");
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string reader = made.json().value("SecretID", "");
  const std::string reader_accessor = made.json().value("AccessorID", "");

  ASSERT_EQ(server->post("/v1/jobs", sleeper("web")).status, 200);
  std::string alloc;
  ASSERT_TRUE(eventually(
      [&] {
        auto list = server->get("/v1/job/web/allocations").json();
        if (!list.is_array() || list.size() != 1 || list[0].value("ClientStatus", "") != "running")
          return false;
        alloc = list[0].value("ID", "");
        return true;
      },
      30s))
      << server->get("/v1/job/web/allocations").body << agent->log();

  // Through the server with the read token: the node checks it and answers.
  auto logs = run_drover({"alloc", "logs", alloc.substr(0, 8), "t"}, server->address(),
                         {"DROVER_TOKEN=" + reader});
  EXPECT_EQ(logs.exit_code, 0) << logs.out << logs.err << agent->log();
  EXPECT_NE(logs.out.find("started"), std::string::npos) << logs.out << logs.err;

  // At the agent itself: the server's read token reads, and cannot stop the alloc; no token
  // reads nothing.
  auto at_agent = [&](const std::string& method, const std::string& path, const std::string& token) {
    auto c = drover::testing::api_client(agent->address(), "", 10);
    httplib::Headers h;
    if (!token.empty()) h.emplace("X-Nomad-Token", token);
    auto r = method == "GET" ? c->Get(path, h) : c->Post(path, h, "{}", "application/json");
    return r ? r->status : -1;
  };
  EXPECT_EQ(at_agent("GET", "/v1/allocations", reader), 200);
  EXPECT_EQ(at_agent("GET", "/v1/allocations", ""), 403);
  EXPECT_EQ(at_agent("POST", "/v1/client/allocation/" + alloc + "/stop", reader), 403);

  // Revoked on the server: the agent refuses it as soon as its copy hears of it.
  server->use_token(management);
  ASSERT_EQ(server->del("/v1/acl/token/" + reader_accessor).status, 200);
  EXPECT_TRUE(eventually([&] { return at_agent("GET", "/v1/allocations", reader) == 403; }, 10s));
  // The management token stops the alloc at the agent, and the job through the server.
  EXPECT_EQ(at_agent("POST", "/v1/client/allocation/" + alloc + "/stop", management), 200);
  server->del("/v1/job/web");
  server.reset();
  agent.reset();
  std::filesystem::remove_all(dir);
}

// Nomad's ACL policies in a cluster (docs/security.md, "ACL policies"): a policy made on a
// server is the cluster's; a client token of it submits into its namespace through the server
// and nowhere else, sees only its namespace's allocs, and the agent judges the same token by
// the same policy when the server forwards a log read, and at once when the policy changes.
TEST(ClusterSecurity, AClusterPolicyHoldsATokenToItsNamespaceOnServerAndAgent) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto dir = drover::testing::make_temp_dir("drover-cluster-acl-policy");
  auto agent = acl_agent(etcd);
  auto server = acl_server(etcd, dir);
  std::string management;
  ASSERT_TRUE(eventually([&] { return !(management = bootstrap_of(dir)).empty(); }, 20s))
      << server->log();
  server->use_token(management);
  const json policy = {
      {"Description", "team A"},
      {"Rules",
       "namespace \"team-a\" {\n  policy = \"write\"\n}\nnode {\n  policy = \"read\"\n}\n"}};
  ASSERT_EQ(server->post("/v1/acl/policy/team-a", policy.dump(), "application/json").status, 200);
  auto made = server->post(
      "/v1/acl/token", json{{"Name", "alice"}, {"Type", "client"}, {"Policies", {"team-a"}}}.dump(),
      "application/json");
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string alice = made.json().value("SecretID", "");
  ASSERT_EQ(server->post("/v1/jobs", sleeper("theirs")).status, 200);

  server->use_token(alice);
  auto refused = server->post("/v1/jobs", sleeper("sneak"));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(error_of(refused).find("submit-job in namespace \"default\""), std::string::npos)
      << refused.body;
  ASSERT_EQ(server->post("/v1/jobs?namespace=team-a", sleeper("mine")).status, 200);
  std::string mine, theirs;
  ASSERT_TRUE(eventually(
      [&] {
        server->use_token(management);
        auto list = server->get("/v1/allocations?namespace=*").json();
        if (!list.is_array() || list.size() != 2) return false;
        for (const auto& a : list) {
          if (a.value("ClientStatus", "") != "running") return false;
          (a.value("JobID", "") == "mine" ? mine : theirs) = a.value("ID", "");
        }
        return !mine.empty() && !theirs.empty();
      },
      30s))
      << server->get("/v1/allocations?namespace=*").body << agent->log();

  server->use_token(alice);
  auto seen = server->get("/v1/allocations?namespace=*").json();
  ASSERT_TRUE(seen.is_array());
  ASSERT_EQ(seen.size(), 1u) << seen.dump();
  EXPECT_EQ(seen[0].value("ID", ""), mine);
  EXPECT_EQ(server->get("/v1/job/theirs").status, 403);
  EXPECT_EQ(server->get("/v1/allocation/" + theirs).status, 403);
  // The node's allocs (node read): its namespace's only.
  auto on_node = server->get("/v1/node/" + seen[0].value("NodeID", "") + "/allocations").json();
  ASSERT_TRUE(on_node.is_array()) << on_node.dump();
  ASSERT_EQ(on_node.size(), 1u) << on_node.dump();
  EXPECT_EQ(on_node[0].value("ID", ""), mine);
  // Through the server to the node: the agent judges the token by the cluster's policy.
  auto logs = run_drover({"alloc", "logs", mine.substr(0, 8), "t"}, server->address(),
                         {"DROVER_TOKEN=" + alice});
  EXPECT_EQ(logs.exit_code, 0) << logs.out << logs.err << agent->log();
  EXPECT_NE(logs.out.find("started"), std::string::npos) << logs.out << logs.err;
  auto other = run_drover({"alloc", "logs", theirs.substr(0, 8), "t"}, server->address(),
                          {"DROVER_TOKEN=" + alice});
  EXPECT_NE(other.exit_code, 0) << other.out;
  EXPECT_NE(other.err.find("Permission denied"), std::string::npos) << other.err;

  // The server's event stream from the start: its alloc's placement and status, none of the
  // other namespace's.
  const std::string cmd = "curl -sN -m 3 -H 'X-Nomad-Token: " + alice + "' '" + server->address() +
                          "/v1/event/stream?index=1&namespace=*' 2>/dev/null";
  std::string stream;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) stream.append(buf, n);
    ::pclose(p);
  }
  EXPECT_NE(stream.find("\"AllocationUpdated\",\"Key\":\"" + mine), std::string::npos) << stream;
  EXPECT_EQ(stream.find(theirs), std::string::npos) << stream;

  // The policy made read-only on the server: the agent refuses the stop as soon as its copy
  // hears of it.
  auto at_agent = [&](const std::string& path) {
    auto c = drover::testing::api_client(agent->address(), "", 10);
    auto r = c->Post(path, httplib::Headers{{"X-Nomad-Token", alice}}, "{}", "application/json");
    return r ? r->status : -1;
  };
  server->use_token(management);
  const json read_only = {{"Rules", "namespace \"team-a\" {\n  policy = \"read\"\n}\n"}};
  ASSERT_EQ(server->post("/v1/acl/policy/team-a", read_only.dump(), "application/json").status,
            200);
  EXPECT_TRUE(eventually(
      [&] { return at_agent("/v1/client/allocation/" + mine + "/signal") == 403; }, 10s));
  // A role of the cluster: its token reads through the server and at the agent alike.
  auto role = server->post(
      "/v1/acl/role",
      json{{"Name", "viewers"}, {"Policies", json::array({json{{"Name", "team-a"}}})}}.dump(),
      "application/json");
  ASSERT_EQ(role.status, 200) << role.body;
  auto viewer =
      server->post("/v1/acl/token",
                   json{{"Name", "v"}, {"Roles", json::array({json{{"Name", "viewers"}}})}}.dump(),
                   "application/json");
  ASSERT_EQ(viewer.status, 200) << viewer.body;
  const std::string viewer_secret = viewer.json().value("SecretID", "");
  server->use_token(viewer_secret);
  EXPECT_EQ(server->get("/v1/job/mine?namespace=team-a").status, 200);
  EXPECT_EQ(server->get("/v1/job/theirs").status, 403);
  EXPECT_TRUE(eventually(
      [&] {
        auto c = drover::testing::api_client(agent->address(), "", 10);
        auto r =
            c->Get("/v1/allocation/" + mine, httplib::Headers{{"X-Nomad-Token", viewer_secret}});
        return r && r->status == 200;
      },
      10s));
  server->use_token(management);
  server->del("/v1/job/mine?namespace=team-a");
  server->del("/v1/job/theirs");
  server.reset();
  agent.reset();
  std::filesystem::remove_all(dir);
}
