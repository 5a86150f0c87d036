// Network modes bridge and none, end to end (docs/networking.md, "Bridge mode"): the real agent
// gives an exec alloc its own network namespace wired by the CNI plugins, publishes its port
// from the host to the `to` port inside, keeps the namespace across an agent SIGKILL, and
// leaves no namespace, veth or iptables rule behind when the alloc stops; mode none has only
// loopback; raw_exec in bridge mode is refused at submit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent_process.hpp"
#include "bridge_probes.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::fetch;
using drover::testing::host_veth;
using drover::testing::sh;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string bridge_job(const std::string& id) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: web\n      network:\n        mode: bridge\n        ports:\n"
         "          http: {to: 8080}\n      tasks:\n        - name: httpd\n          driver: exec\n"
         "          kill_timeout: 1s\n          resources: {memory: 64}\n          config:\n"
         "            command: /bin/sh\n"
         "            args: [\"-c\", \"echo hello-bridge > /local/index.html; env | grep ^NOMAD_ > "
         "/local/env.txt; exec busybox httpd -f -p 8080 -h /local\"]\n";
}

bool exec_healthy(const AgentProcess& a) {
  auto node = a.get("/v1/node").json();
  return node["Drivers"].contains("exec") && node["Drivers"]["exec"].value("Healthy", false);
}

}  // namespace

class BridgeMode : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "bridge mode needs root";
    if (!std::filesystem::exists("/usr/lib/cni/bridge")) GTEST_SKIP() << "no CNI plugins here";
    agent_ = AgentProcess::start(opts_);
    if (!exec_healthy(*agent_)) GTEST_SKIP() << "exec driver not healthy here";
  }
  AgentProcess::Options opts_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(BridgeMode, ExecHttpdInsideTheNamespaceIsReachedThroughThePublishedPort) {
  auto ids = agent_->submit(bridge_job("bridged"));
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "running", 30s);
  const auto& net = a["AllocatedResources"]["Shared"]["Networks"][0];
  EXPECT_EQ(net["Mode"], "bridge") << a.dump(2);
  int port = a["AllocatedResources"]["Shared"]["Ports"][0]["Value"];
  EXPECT_EQ(a["AllocatedResources"]["Shared"]["Ports"][0]["To"], 8080);
  // The alloc's address, as Nomad's NetworkStatus shows it, and in `alloc status`.
  ASSERT_TRUE(a["NetworkStatus"].is_object()) << a.dump(2);
  EXPECT_EQ(a["NetworkStatus"]["InterfaceName"], "eth0");
  const std::string ip = a["NetworkStatus"].value("Address", "");
  EXPECT_EQ(ip.rfind("172.26.", 0), 0u) << ip;
  const auto status = agent_->cli({"alloc", "status", ids[0]});
  EXPECT_NE(status.out.find("Alloc IP"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(ip + " (eth0)"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("Allocation Addresses (mode = \"bridge\")"), std::string::npos)
      << status.out;

  std::string body;
  ASSERT_TRUE(eventually([&] { return !(body = fetch(port, "/index.html")).empty(); }, 15s))
      << agent_->log();
  EXPECT_EQ(body, "hello-bridge\n");
  // Nothing listens on the host's 8080 for it: the task's port is inside its namespace.
  const std::string env = "\n" + fetch(port, "/env.txt");
  EXPECT_NE(env.find("\nNOMAD_ALLOC_PORT_http=8080\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nNOMAD_PORT_http=8080\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nNOMAD_HOST_PORT_http=" + std::to_string(port) + "\n"), std::string::npos)
      << env;
  EXPECT_NE(env.find("\nNOMAD_HOST_ADDR_http=127.0.0.1:" + std::to_string(port) + "\n"),
            std::string::npos)
      << env;
  EXPECT_NE(env.find("\nNOMAD_ALLOC_IP_http=172.26."), std::string::npos) << env;
  EXPECT_NE(env.find("\nNOMAD_ALLOC_ADDR_http=172.26."), std::string::npos) << env;

  const std::string netns = "/run/drover/netns/" + ids[0];
  ASSERT_TRUE(std::filesystem::exists(netns));
  const std::string veth = host_veth(netns);
  ASSERT_FALSE(veth.empty());
  EXPECT_TRUE(std::filesystem::exists("/sys/class/net/" + veth));
  EXPECT_NE(sh("iptables-save").out.find(ids[0]), std::string::npos);

  // An agent SIGKILL keeps the namespace (the task still serves) and a new agent recovers it.
  agent_->kill(SIGKILL);
  EXPECT_FALSE(fetch(port, "/index.html").empty());
  AgentProcess::Options again;
  again.data_dir = agent_->data_dir();
  agent_ = AgentProcess::start(again);
  agent_->wait_client_status(ids[0], "running", 30s);
  EXPECT_EQ(host_veth(netns), veth);
  EXPECT_EQ(fetch(port, "/index.html"), "hello-bridge\n");

  ASSERT_EQ(agent_->del("/v1/job/bridged").status, 200);
  agent_->wait_client_status(ids[0], "complete", 30s);
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(netns); }, 10s)) << agent_->log();
  // The kernel removes a namespace's devices asynchronously once it is gone.
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists("/sys/class/net/" + veth); }, 10s))
      << veth;
  EXPECT_EQ(sh("iptables-save").out.find(ids[0]), std::string::npos) << sh("iptables-save").out;
}

TEST_F(BridgeMode, ModeNoneHasOnlyLoopback) {
  auto ids = agent_->submit(
      "job:\n  id: isolated\n  type: batch\n  groups:\n    - name: g\n      network: {mode: none}\n"
      "      tasks:\n        - name: t\n          driver: exec\n          resources: {memory: 64}\n"
      "          config: {command: /bin/ls, args: [/sys/class/net]}\n");
  agent_->wait_client_status(ids[0], "complete", 30s);
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "lo\n");
  EXPECT_TRUE(
      eventually([&] { return !std::filesystem::exists("/run/drover/netns/" + ids[0]); }, 10s));
}

// The group network's dns block (docs/networking.md, "DNS"): an exec task's /etc/resolv.conf
// says it, in bridge mode and in host mode, and the alloc's NetworkStatus shows it; a raw_exec
// task, which reads the host's file, gets a submit warning instead.
TEST_F(BridgeMode, DnsBlockIsTheResolvConfOfExecTasksAndAWarningForRawExec) {
  auto job = [](const std::string& id, const std::string& mode, const std::string& driver) {
    return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n      network:\n"
           "        mode: " + mode + "\n        dns: {servers: [10.9.8.7, \"fd00::53\"], searches: "
           "[svc.local, corp], options: [\"ndots:2\"]}\n      tasks:\n        - name: t\n"
           "          driver: " + driver + "\n          resources: {memory: 64}\n"
           "          config: {command: /bin/cat, args: [/etc/resolv.conf]}\n";
  };
  const std::string want =
      "nameserver 10.9.8.7\nnameserver fd00::53\nsearch svc.local corp\noptions ndots:2\n";
  for (const std::string mode : {"bridge", "host"}) {
    SCOPED_TRACE(mode);
    auto r = agent_->post("/v1/jobs", job("dns-" + mode, mode, "exec"));
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string id = r.json()["AllocIDs"][0];
    auto a = agent_->wait_client_status(id, "complete", 30s);
    const std::string out = agent_->get("/v1/client/fs/logs/" + id + "?task=t").body;
    EXPECT_NE(out.find(want), std::string::npos) << out;
    if (mode == "bridge") {
      EXPECT_EQ(a["NetworkStatus"]["DNS"]["Servers"], json({"10.9.8.7", "fd00::53"})) << a["NetworkStatus"].dump();
      EXPECT_EQ(a["NetworkStatus"]["DNS"]["Searches"], json({"svc.local", "corp"}));
    }
  }
  auto raw = agent_->post("/v1/jobs", job("dns-raw", "host", "raw_exec"));
  ASSERT_EQ(raw.status, 200) << raw.body;
  const std::string warnings = raw.json().value("Warnings", "");  // Nomad's: one string
  EXPECT_NE(warnings.find("groups[0].network.dns: task \"t\" (driver \"raw_exec\") shares the host's filesystem"),
            std::string::npos)
      << raw.body;
}

// The group network's hostname (docs/networking.md, "Hostname"), interpolated with the alloc's
// variables: an exec task in bridge mode has it as its hostname and finds it in its /etc/hosts
// at the alloc's address; in host mode it is ignored with a submit warning.
TEST_F(BridgeMode, TheNetworksHostnameNamesAnExecTaskAndResolvesToTheAllocsAddress) {
  auto job = [](const std::string& id, const std::string& mode) {
    return "job:\n  id: " + id + "\n  type: batch\n  groups:\n    - name: g\n      network:\n"
           "        mode: " + mode + "\n        hostname: \"${NOMAD_JOB_NAME}-${NOMAD_ALLOC_INDEX}.svc\"\n"
           "      tasks:\n        - name: t\n          driver: exec\n          resources: {memory: 64}\n"
           "          config: {command: /bin/sh, args: [\"-c\", \"hostname; grep svc /etc/hosts || echo not-in-hosts\"]}\n";
  };
  auto r = agent_->post("/v1/jobs", job("named", "bridge"));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = r.json()["AllocIDs"][0];
  auto a = agent_->wait_client_status(id, "complete", 30s);
  const std::string ip = a["NetworkStatus"].value("Address", "");
  ASSERT_FALSE(ip.empty()) << a.dump(2);
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + id + "?task=t").body, "named-0.svc\n" + ip + "\tnamed-0.svc\n");

  auto host = agent_->post("/v1/jobs", job("named-host", "host"));
  ASSERT_EQ(host.status, 200) << host.body;
  EXPECT_NE(host.json().value("Warnings", "").find("groups[0].network.hostname: ignored in network mode \"host\""),
            std::string::npos)
      << host.body;
  const std::string host_id = host.json()["AllocIDs"][0];
  agent_->wait_client_status(host_id, "complete", 30s);
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + host_id + "?task=t").body, "t\nnot-in-hosts\n");

  // What the interpolation made is checked at start: the alloc fails naming it.
  std::string bad = job("named-bad", "bridge");
  bad.replace(bad.find("\n  type: batch"), 0, "\n  meta: {name: \"not a name\"}");
  bad.replace(bad.find("${NOMAD_JOB_NAME}"), 17, "${NOMAD_META_name}");
  auto refused = agent_->post("/v1/jobs", bad);
  ASSERT_EQ(refused.status, 200) << refused.body;
  auto failed = agent_->wait_client_status(refused.json()["AllocIDs"][0], "failed", 30s);
  EXPECT_NE(failed.dump().find("network hostname \\\"not a name-0.svc\\\" is not a host name"), std::string::npos)
      << failed.dump(2);
}

TEST_F(BridgeMode, RawExecInBridgeModeIsRefusedWithTheReason) {
  auto r = agent_->post("/v1/jobs",
                        "job:\n  id: raw\n  groups:\n    - name: g\n      network: {mode: bridge}\n"
                        "      tasks:\n        - name: t\n          driver: raw_exec\n"
                        "          config: {command: /bin/sleep, args: [\"60\"]}\n");
  EXPECT_EQ(r.status, 400) << r.body;
  auto problems = r.json()["problems"];
  ASSERT_EQ(problems.size(), 1u) << r.body;
  EXPECT_EQ(problems[0]["path"], "groups[0].tasks[0].driver");
  EXPECT_NE(problems[0]["message"].get<std::string>().find(
                "driver \"raw_exec\" cannot run a task in the alloc's network namespace"),
            std::string::npos)
      << r.body;
}

// address_mode decides what the catalog says (docs/networking.md): alloc is the alloc's own
// address and the port inside it; host (and auto, for exec) the published host address and
// port.
TEST_F(BridgeMode, ServiceAddressModeRegistersTheAllocOrTheHostAddress) {
  auto job = bridge_job("modes");
  job += "          services:\n"
         "            - {name: web-alloc, port: http, address_mode: alloc}\n"
         "            - {name: web-host, port: http, address_mode: host}\n"
         "            - {name: web-auto, port: http}\n";
  auto ids = agent_->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "running", 30s);
  const std::string ip = a["NetworkStatus"].value("Address", "");
  const auto& port = a["AllocatedResources"]["Shared"]["Ports"][0];
  auto one = [&](const std::string& name) {
    json list;
    eventually([&] { return (list = agent_->get("/v1/service/" + name).json()).size() == 1; }, 10s);
    return list.size() == 1 ? list[0] : json();
  };
  const json inside = one("web-alloc"), outside = one("web-host"), by_default = one("web-auto");
  EXPECT_EQ(inside["Address"], ip) << inside.dump();
  EXPECT_EQ(inside["Port"], 8080) << inside.dump();
  EXPECT_EQ(outside["Address"], port["HostIP"]) << outside.dump();
  EXPECT_EQ(outside["Port"], port["Value"]) << outside.dump();
  EXPECT_EQ(by_default["Address"], outside["Address"]);
  EXPECT_EQ(by_default["Port"], outside["Port"]);
  ASSERT_EQ(agent_->del("/v1/job/modes").status, 200);
  agent_->wait_client_status(ids[0], "complete", 30s);
  EXPECT_TRUE(
      eventually([&] { return !std::filesystem::exists("/run/drover/netns/" + ids[0]); }, 10s));
}
