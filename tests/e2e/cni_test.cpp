// Network mode cni/<name>, end to end (docs/networking.md, "CNI networks"): the real agent wires
// an exec alloc with the operator's own network config from cni_config_dir (the reference
// bridge and portmap plugins, and a plugin of the test's that records what it is given),
// publishes its port, passes the job's `cni { args }` as CNI_ARGS to ADD and DEL, lists the
// network in its node fingerprint, and gives the address back when the alloc stops. A network
// the node does not have is refused at submit, naming it; a config dropped in while the agent
// runs is offered after the next fingerprint.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "agent_process.hpp"
#include "bridge_probes.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::fetch;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::sh;
using drover::testing::write_cni_bridge_network;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A CNI plugin that appends "<command> <ifname> <args>" to the file its config names and, on
// ADD, hands the previous plugin's result on (the spec's chained plugin).
constexpr const char* kRecorder = R"(#!/usr/bin/python3
import json, os, sys
conf = json.load(sys.stdin)
with open(conf["log"], "a") as f:
    f.write("%s %s %s\n" % (os.environ["CNI_COMMAND"], os.environ.get("CNI_IFNAME", ""),
                            os.environ.get("CNI_ARGS", "")))
if os.environ["CNI_COMMAND"] == "ADD":
    json.dump(conf["prevResult"], sys.stdout)
elif os.environ["CNI_COMMAND"] == "VERSION":
    json.dump({"cniVersion": "1.0.0", "supportedVersions": ["0.4.0", "1.0.0"]}, sys.stdout)
)";

bool exec_healthy(const AgentProcess& a) {
  auto node = a.get("/v1/node").json();
  return node["Drivers"].contains("exec") && node["Drivers"]["exec"].value("Healthy", false);
}

bool node_has_network(const AgentProcess& a, const std::string& mode) {
  for (const auto& n : a.get("/v1/node").json()["NodeResources"].value("Networks", json::array()))
    if (n.value("Mode", "") == mode) return true;
  return false;
}

}  // namespace

class CniNetworks : public ::testing::Test {
 protected:
  // Its own bridge and subnet: the bridge-mode tests may run beside it.
  static constexpr const char* kBridge = "drovercni1";
  static constexpr const char* kSubnetPrefix = "10.203.1.";

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "CNI networks need root";
    if (!fs::exists("/usr/lib/cni/bridge")) GTEST_SKIP() << "no CNI plugins here";
    dir_ = make_temp_dir("drover-cni");
    fs::create_directories(dir_ + "/bin");
    write_file(dir_ + "/bin/record", kRecorder);
    ::chmod((dir_ + "/bin/record").c_str(), 0755);
    write_cni_bridge_network(dir_ + "/conf", "testnet", kBridge, kSubnetPrefix, dir_ + "/ipam",
                             {{{"type", "record"}, {"log", dir_ + "/calls.log"}}});
    AgentProcess::Options o;
    o.config_yaml = "cni_config_dir: " + dir_ + "/conf\ncni_path: /usr/lib/cni:" + dir_ +
                    "/bin\nfingerprint_period: 200ms\n";
    agent_ = AgentProcess::start(o);
    if (!exec_healthy(*agent_)) GTEST_SKIP() << "exec driver not healthy here";
  }
  void TearDown() override {
    agent_.reset();
    // Only a test that wired an alloc made the bridge: the other tests of this fixture run
    // beside it, in their own processes, and must leave it alone.
    if (wired_) sh(std::string("ip link del ") + kBridge + " 2>/dev/null");
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  bool wired_ = false;
  std::string dir_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(CniNetworks, ExecTaskRunsOnTheOperatorsNetworkWithItsArgsAndGivesTheAddressBack) {
  // The node offers the network it found in cni_config_dir.
  EXPECT_TRUE(node_has_network(*agent_, "cni/testnet")) << agent_->get("/v1/node").body;

  auto ids = agent_->submit(
      "job:\n  id: overlay\n  groups:\n    - name: web\n      network:\n"
      "        mode: cni/testnet\n        cni: {args: {tier: gold}}\n"
      "        ports:\n          http: {to: 8080}\n      tasks:\n        - name: httpd\n"
      "          driver: exec\n          kill_timeout: 1s\n          resources: {memory: 64}\n"
      "          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"echo hello-cni > /local/index.html; env | grep ^NOMAD_ > "
      "/local/env.txt; exec busybox httpd -f -p 8080 -h /local\"]\n");
  ASSERT_EQ(ids.size(), 1u);
  wired_ = true;
  auto a = agent_->wait_client_status(ids[0], "running", 30s);
  EXPECT_EQ(a["AllocatedResources"]["Shared"]["Networks"][0]["Mode"], "cni/testnet");
  ASSERT_TRUE(a["NetworkStatus"].is_object()) << a.dump(2);
  EXPECT_EQ(a["NetworkStatus"]["InterfaceName"], "eth0");
  const std::string ip = a["NetworkStatus"].value("Address", "");
  EXPECT_EQ(ip.rfind(kSubnetPrefix, 0), 0u) << ip;
  // host-local keeps one file per address it handed out.
  EXPECT_TRUE(fs::exists(dir_ + "/ipam/testnet/" + ip)) << ip;
  const auto status = agent_->cli({"alloc", "status", ids[0]});
  EXPECT_NE(status.out.find("Allocation Addresses (mode = \"cni/testnet\")"), std::string::npos)
      << status.out;

  // portmap published the port from the host to the task's 8080 inside the namespace.
  const int port = a["AllocatedResources"]["Shared"]["Ports"][0]["Value"];
  std::string body;
  ASSERT_TRUE(eventually([&] { return !(body = fetch(port, "/index.html")).empty(); }, 15s))
      << agent_->log();
  EXPECT_EQ(body, "hello-cni\n");
  const std::string env = "\n" + fetch(port, "/env.txt");
  EXPECT_NE(env.find("\nNOMAD_ALLOC_IP_http=" + ip + "\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nNOMAD_ALLOC_PORT_http=8080\n"), std::string::npos) << env;

  // Every plugin of the chain ran with the job's args; the recorder saw eth0.
  EXPECT_EQ(read_file(dir_ + "/calls.log"), "ADD eth0 IgnoreUnknown=true;tier=gold\n");

  ASSERT_EQ(agent_->del("/v1/job/overlay").status, 200);
  agent_->wait_client_status(ids[0], "complete", 30s);
  EXPECT_TRUE(eventually([&] { return !fs::exists("/run/drover/netns/" + ids[0]); }, 10s))
      << agent_->log();
  // DEL with the same args, and the address is free again.
  EXPECT_EQ(read_file(dir_ + "/calls.log"),
            "ADD eth0 IgnoreUnknown=true;tier=gold\nDEL eth0 IgnoreUnknown=true;tier=gold\n");
  EXPECT_FALSE(fs::exists(dir_ + "/ipam/testnet/" + ip));
  EXPECT_EQ(sh("iptables-save").out.find(ids[0]), std::string::npos) << sh("iptables-save").out;
}

TEST_F(CniNetworks, ANetworkTheNodeLacksIsRefusedAtSubmitAndANewConfigIsOfferedWhileRunning) {
  const std::string job =
      "job:\n  id: later\n  groups:\n    - name: g\n      network: {mode: cni/later}\n"
      "      tasks:\n        - name: t\n          driver: exec\n          resources: {memory: 64}\n"
      "          config: {command: /bin/true}\n";
  auto r = agent_->post("/v1/jobs", job);
  EXPECT_EQ(r.status, 400) << r.body;
  const auto problems = r.json().value("problems", json::array());
  ASSERT_EQ(problems.size(), 1u) << r.body;
  EXPECT_EQ(problems[0]["path"], "groups[0].network.mode");
  EXPECT_EQ(problems[0]["message"],
            "no CNI network \"later\" in " + dir_ + "/conf (cni_config_dir; it has testnet)");
  EXPECT_EQ(agent_->get("/v1/job/later").status, 404);
  EXPECT_FALSE(node_has_network(*agent_, "cni/later"));

  // Dropped in while the agent runs: the next fingerprint offers it, with a node event.
  write_file(dir_ + "/conf/20-later.conf",
             R"({"cniVersion": "1.0.0", "name": "later", "type": "loopback"})");
  EXPECT_TRUE(eventually([&] { return node_has_network(*agent_, "cni/later"); }, 15s))
      << agent_->get("/v1/node").body;
  EXPECT_NE(agent_->get("/v1/node").body.find("CNI networks now: later, testnet"), std::string::npos);
}
