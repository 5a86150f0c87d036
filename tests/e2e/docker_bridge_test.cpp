// docker tasks in network mode bridge (docs/networking.md, "docker in bridge mode"): the real
// agent, docker.so and dockerd. The driver makes one pause container per alloc, the agent wires
// its namespace with CNI, and the alloc's docker tasks join it with network mode
// container:<pause>; exec tasks of the same alloc join the same namespace. The pause container
// survives an agent SIGKILL (recovered, not made again) and goes with the alloc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent_process.hpp"
#include "bridge_probes.hpp"
#include "docker_registry.hpp"

using drover::testing::AgentProcess;
using drover::testing::docker_cli;
using drover::testing::eventually;
using drover::testing::fetch;
using drover::testing::host_veth;
using drover::testing::kBusyboxImage;
using drover::testing::sh;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// No registry here: the pause container is the fixture's busybox, told to wait.
std::string infra_config() {
  return std::string("plugin:\n  docker:\n    config:\n      infra_image: ") + kBusyboxImage +
         "\n      infra_command: [sleep, \"2147483647\"]\n";
}

std::string docker_task(const std::string& name, const std::string& script) {
  return "        - name: " + name +
         "\n          driver: docker\n          kill_timeout: 1s\n"
         "          resources: {memory: 64}\n          config:\n            image: " +
         kBusyboxImage + "\n            command: sh\n            args: [\"-c\", \"" + script +
         "\"]\n";
}

std::string bridge_group(const std::string& id, const std::string& ports,
                         const std::string& tasks) {
  return "job:\n  id: " + id +
         "\n  groups:\n    - name: g\n      network:\n        mode: bridge\n" + ports +
         "      tasks:\n" + tasks;
}

// The pause container of the alloc ("" when none), by the driver's labels.
std::string pause_of(const std::string& alloc_id) {
  return docker_cli("ps -aq --no-trunc -f label=com.drover.alloc_id=" + alloc_id +
                    " -f label=com.drover.infra=true");
}

bool healthy(const AgentProcess& a, const std::string& driver) {
  auto node = a.get("/v1/node").json();
  return node["Drivers"].contains(driver) && node["Drivers"][driver].value("Healthy", false);
}

}  // namespace

class DockerBridge : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "bridge mode needs root";
    if (!std::filesystem::exists("/usr/lib/cni/bridge")) GTEST_SKIP() << "no CNI plugins here";
    agent_ = AgentProcess::start({.config_yaml = infra_config()});
    ASSERT_TRUE(eventually([&] { return healthy(*agent_, "docker"); }, 20s)) << agent_->log();
  }
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(DockerBridge, HttpdInAContainerIsReachedOnThePublishedPort) {
  auto ids = agent_->submit(bridge_group(
      "dbridge", "        ports:\n          http: {to: 8080}\n",
      docker_task("httpd", "echo hello-docker-bridge > /tmp/index.html; exec httpd -f -p 8080 "
                           "-h /tmp")));
  ASSERT_EQ(ids.size(), 1u);
  const std::string& id = ids[0];
  auto a = agent_->wait_client_status(id, "running", 60s);
  int port = a["AllocatedResources"]["Shared"]["Ports"][0]["Value"];
  std::string body;
  ASSERT_TRUE(eventually([&] { return !(body = fetch(port, "/index.html")).empty(); }, 20s))
      << agent_->log();
  EXPECT_EQ(body, "hello-docker-bridge\n");

  // One pause container holds the namespace; the task's container joins its network.
  const std::string pause = pause_of(id);
  ASSERT_FALSE(pause.empty()) << docker_cli("ps -a");
  const std::string task = docker_cli("ps -q --no-trunc -f label=com.drover.alloc_id=" + id +
                                      " -f label=com.drover.task=httpd");
  ASSERT_FALSE(task.empty());
  EXPECT_EQ(docker_cli("inspect -f '{{.HostConfig.NetworkMode}}' " + task), "container:" + pause);
  const std::string netns = "/run/drover/netns/" + id;
  const std::string veth = host_veth(netns);
  ASSERT_FALSE(veth.empty());

  // An agent SIGKILL: the new agent finds the namespace and its pause container again.
  agent_->kill(SIGKILL);
  agent_ = AgentProcess::start({.data_dir = agent_->data_dir(), .config_yaml = infra_config()});
  agent_->wait_client_status(id, "running", 60s);
  EXPECT_EQ(pause_of(id), pause);
  EXPECT_EQ(host_veth(netns), veth);
  EXPECT_EQ(fetch(port, "/index.html"), "hello-docker-bridge\n");

  // Stopped: no pause container, namespace, veth or iptables rule is left.
  ASSERT_EQ(agent_->del("/v1/job/dbridge").status, 200);
  agent_->wait_client_status(id, "complete", 30s);
  EXPECT_TRUE(eventually([&] { return pause_of(id).empty(); }, 20s)) << agent_->log();
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(netns); }, 10s)) << agent_->log();
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists("/sys/class/net/" + veth); }, 10s));
  EXPECT_EQ(sh("iptables-save").out.find(id), std::string::npos);
}

TEST_F(DockerBridge, DockerAndExecTasksOfOneAllocReachEachOtherOnLocalhost) {
  if (!healthy(*agent_, "exec")) GTEST_SKIP() << "exec driver not healthy here";
  // Each serves one word on its own port and fetches the other's from 127.0.0.1.
  const std::string exec_task =
      "        - name: e\n          driver: exec\n          kill_timeout: 1s\n"
      "          resources: {memory: 64}\n          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"echo from-exec > /local/index.html; busybox httpd -p 8082 -h "
      "/local; until busybox wget -q -O - http://127.0.0.1:8081/index.html; do sleep 0.2; done; "
      "exec sleep 3600\"]\n";
  auto ids = agent_->submit(bridge_group(
      "dmixed", "",
      docker_task("d", "echo from-docker > /tmp/index.html; httpd -p 8081 -h /tmp; until wget -q "
                       "-O - http://127.0.0.1:8082/index.html; do sleep 0.2; done; exec sleep "
                       "3600") +
          exec_task));
  ASSERT_EQ(ids.size(), 1u);
  const std::string& id = ids[0];
  agent_->wait_client_status(id, "running", 60s);
  auto log = [&](const std::string& task) {
    return agent_->get("/v1/client/fs/logs/" + id + "?task=" + task).body;
  };
  EXPECT_TRUE(eventually([&] { return log("d").find("from-exec") != std::string::npos; }, 30s))
      << log("d") << agent_->log();
  EXPECT_TRUE(eventually([&] { return log("e").find("from-docker") != std::string::npos; }, 30s))
      << log("e") << agent_->log();

  ASSERT_EQ(agent_->del("/v1/job/dmixed").status, 200);
  agent_->wait_client_status(id, "complete", 30s);
  EXPECT_TRUE(eventually([&] { return pause_of(id).empty(); }, 20s)) << agent_->log();
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists("/run/drover/netns/" + id); }, 10s));
}

// An agent that comes back without the alloc (its state store lost while it was down) removes
// what the alloc's network left: the namespace and, through the driver, the pause container.
TEST_F(DockerBridge, WhatAVanishedAllocsNetworkLeftIsRemovedAtStart) {
  auto ids = agent_->submit(
      bridge_group("dgone", "", docker_task("t", "exec sleep 3600")));
  ASSERT_EQ(ids.size(), 1u);
  const std::string& id = ids[0];
  agent_->wait_client_status(id, "running", 60s);
  ASSERT_FALSE(pause_of(id).empty());
  agent_->kill(SIGKILL);
  const std::string dir = agent_->data_dir();
  for (const char* f : {"state.db", "state.db-wal", "state.db-shm"})
    std::filesystem::remove(std::filesystem::path(dir) / f);
  agent_ = AgentProcess::start({.data_dir = dir, .config_yaml = infra_config()});
  EXPECT_TRUE(eventually([&] { return pause_of(id).empty(); }, 30s)) << agent_->log();
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists("/run/drover/netns/" + id); }, 10s));
  EXPECT_TRUE(eventually(
      [&] { return docker_cli("ps -aq -f label=com.drover.alloc_id=" + id).empty(); }, 30s));
  EXPECT_EQ(sh("iptables-save").out.find(id), std::string::npos);
}

// The group network's dns block reaches docker tasks: through the pause container in bridge
// mode (containers that join it share its resolv.conf), on the task's own container in host
// mode; a task's own dns_servers win there, as in Nomad.
TEST_F(DockerBridge, DnsBlockIsTheResolvConfOfDockerTasksInBridgeAndHostMode) {
  const std::string dns =
      "        dns: {servers: [10.9.8.7], searches: [svc.local], options: [\"ndots:3\"]}\n";
  auto batch = [](std::string job) { return job.replace(job.find("\n  groups:"), 0, "\n  type: batch"); };
  auto bridge = agent_->submit(batch(bridge_group("ddns", dns, docker_task("t", "cat /etc/resolv.conf"))));
  ASSERT_EQ(bridge.size(), 1u);
  agent_->wait_client_status(bridge[0], "complete", 60s);
  std::string out = agent_->get("/v1/client/fs/logs/" + bridge[0] + "?task=t").body;
  EXPECT_NE(out.find("nameserver 10.9.8.7"), std::string::npos) << out;
  EXPECT_NE(out.find("search svc.local"), std::string::npos) << out;
  EXPECT_NE(out.find("ndots:3"), std::string::npos) << out;

  std::string host = "job:\n  id: ddnshost\n  groups:\n    - name: g\n      network:\n        mode: host\n" + dns +
                     "      tasks:\n" + docker_task("t", "cat /etc/resolv.conf") +
                     "            network_mode: none\n" + docker_task("own", "cat /etc/resolv.conf") +
                     "            network_mode: none\n            dns_servers: [10.1.1.1]\n";
  auto ids = agent_->submit(batch(host));
  ASSERT_EQ(ids.size(), 1u);
  agent_->wait_client_status(ids[0], "complete", 60s);
  out = agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  EXPECT_NE(out.find("nameserver 10.9.8.7"), std::string::npos) << out;
  EXPECT_NE(out.find("search svc.local"), std::string::npos) << out;
  std::string own = agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=own").body;
  EXPECT_NE(own.find("nameserver 10.1.1.1"), std::string::npos) << own;
  EXPECT_EQ(own.find("10.9.8.7"), std::string::npos) << own;
}

// The group network's hostname names the pause container, and the docker tasks that join it
// share it (one UTS namespace); their /etc/hosts maps it to the alloc's address, as Nomad's.
TEST_F(DockerBridge, TheNetworksHostnameIsTheHostnameOfTheAllocsDockerTasks) {
  std::string job = bridge_group("dname", "        hostname: web-${NOMAD_ALLOC_INDEX}\n",
                                 docker_task("t", "hostname; grep web-0 /etc/hosts"));
  job.replace(job.find("\n  groups:"), 0, "\n  type: batch");
  auto ids = agent_->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  auto a = agent_->wait_client_status(ids[0], "complete", 60s);
  const std::string ip = a["NetworkStatus"].value("Address", "");
  ASSERT_FALSE(ip.empty()) << a.dump(2);
  EXPECT_EQ(agent_->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body, "web-0\n" + ip + "\tweb-0\n");
}

// A docker task on the operator's CNI network (docs/networking.md, "CNI networks"): the pause
// container's namespace is wired with the network from cni_config_dir, the port is published
// by its portmap, and the address is given back when the alloc stops.
TEST_F(DockerBridge, DockerTaskOnACniNetworkIsReachedAndItsAddressGivenBack) {
  const std::string dir = drover::testing::make_temp_dir("drover-docker-cni");
  drover::testing::write_cni_bridge_network(dir + "/conf", "dockernet", "drovercni2", "10.203.2.",
                                            dir + "/ipam");
  agent_.reset();
  agent_ = AgentProcess::start(
      {.config_yaml = infra_config() + "cni_config_dir: " + dir + "/conf\n"});
  ASSERT_TRUE(eventually([&] { return healthy(*agent_, "docker"); }, 20s)) << agent_->log();
  std::string job = bridge_group(
      "dcni", "        ports:\n          http: {to: 8080}\n",
      docker_task("httpd", "echo hello-docker-cni > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"));
  job.replace(job.find("mode: bridge"), 12, "mode: cni/dockernet");
  auto ids = agent_->submit(job);
  ASSERT_EQ(ids.size(), 1u);
  const std::string& id = ids[0];
  auto a = agent_->wait_client_status(id, "running", 60s);
  const std::string ip = a["NetworkStatus"].value("Address", "");
  EXPECT_EQ(ip.rfind("10.203.2.", 0), 0u) << a.dump(2);
  int port = a["AllocatedResources"]["Shared"]["Ports"][0]["Value"];
  std::string body;
  ASSERT_TRUE(eventually([&] { return !(body = fetch(port, "/index.html")).empty(); }, 20s))
      << agent_->log();
  EXPECT_EQ(body, "hello-docker-cni\n");
  ASSERT_FALSE(pause_of(id).empty());
  EXPECT_TRUE(std::filesystem::exists(dir + "/ipam/dockernet/" + ip));

  ASSERT_EQ(agent_->del("/v1/job/dcni").status, 200);
  agent_->wait_client_status(id, "complete", 30s);
  EXPECT_TRUE(eventually([&] { return pause_of(id).empty(); }, 20s)) << agent_->log();
  EXPECT_FALSE(std::filesystem::exists(dir + "/ipam/dockernet/" + ip));
  agent_.reset();
  sh("ip link del drovercni2 2>/dev/null");
  std::filesystem::remove_all(dir);
}
