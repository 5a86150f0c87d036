// GPUs handed to tasks through the real nvidia device plugin, with a fake NVML (a real shared
// library built by the tests) describing the node's GPUs.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <vector>

#include "agent_process.hpp"
#include "cluster_processes.hpp"

using drover::testing::AgentProcess;
using drover::testing::EtcdProcess;
using drover::testing::ServerProcess;
using namespace std::chrono_literals;
using drover::testing::make_temp_dir;
using drover::testing::write_file;
using nlohmann::json;

namespace {

// `models`: each GPU's name, by index (an H100 where it names none).
std::unique_ptr<AgentProcess> gpu_agent(int gpus, const std::string& data_dir = "",
                                        const std::string& extra_config = "",
                                        const std::vector<std::string>& models = {}) {
  json config = {{"gpus", json::array()}};
  for (int i = 0; i < gpus; ++i)
    config["gpus"].push_back({{"uuid", "GPU-0000000" + std::to_string(i)},
                              {"name", i < static_cast<int>(models.size())
                                           ? models[i]
                                           : std::string("NVIDIA H100 80GB HBM3")},
                              {"memory_mib", 81559},
                              {"memory_used_mib", 1024 * (i + 1)},
                              {"utilization", {40 + i, 10}},
                              {"temperature_c", 50 + i},
                              {"minor", i},
                              {"bus_id", "00000000:0" + std::to_string(i) + ":00.0"}});
  auto path = make_temp_dir("fake-nvml") + "/gpus.json";
  write_file(path, config.dump());
  setenv("FAKE_NVML_CONFIG", path.c_str(), 1);
  AgentProcess::Options opts;
  opts.data_dir = data_dir;
  opts.config_yaml =
      std::string("plugin:\n  nvidia:\n    config:\n      nvml_path: ") + FAKE_NVML + "\n" + extra_config;
  auto agent = AgentProcess::start(opts);
  unsetenv("FAKE_NVML_CONFIG");
  return agent;
}

std::string gpu_job(const std::string& id, const std::string& devices) {
  return "job:\n  id: " + id +
         "\n  type: service\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
         "          driver: raw_exec\n          kill_timeout: 1s\n"
         "          resources:\n            memory: 32\n            devices: " + devices + "\n"
         "          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"echo $NVIDIA_VISIBLE_DEVICES; sleep 1000\"]\n";
}

std::string visible(const AgentProcess& a, const std::string& alloc) {
  for (int i = 0; i < 100; ++i) {
    auto out = a.get("/v1/client/fs/logs/" + alloc + "?task=t").body;
    if (!out.empty()) return out.substr(0, out.find('\n'));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

}  // namespace

TEST(Devices, NodeListsItsGpusWithAttributesAndUnits) {
  auto agent = gpu_agent(2);
  auto node = agent->get("/v1/node").json();
  auto devices = node["NodeResources"]["Devices"];
  ASSERT_EQ(devices.size(), 1u) << node.dump(2);
  EXPECT_EQ(devices[0]["Vendor"], "nvidia");
  EXPECT_EQ(devices[0]["Name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(devices[0]["Attributes"]["memory"]["Unit"], "MiB");
  EXPECT_EQ(devices[0]["Instances"].size(), 2u);
}

TEST(Devices, HostStatsReportEachGpusUtilisationMemoryAndTemperature) {
  auto agent = gpu_agent(2);
  auto stats = agent->get("/v1/client/stats").json();
  auto groups = stats["DeviceStats"];
  ASSERT_EQ(groups.size(), 1u) << stats.dump(2);
  EXPECT_EQ(groups[0]["Name"], "NVIDIA H100 80GB HBM3");
  auto gpu1 = groups[0]["InstanceStats"]["GPU-00000001"]["Stats"];
  EXPECT_EQ(gpu1["GPU utilization"]["Value"], 41) << groups.dump(2);
  EXPECT_EQ(gpu1["GPU utilization"]["Unit"], "%");
  EXPECT_EQ(gpu1["Memory used"]["Value"], 2048);
  EXPECT_EQ(gpu1["Temperature"]["Value"], 51);
  EXPECT_EQ(gpu1["Temperature"]["Unit"], "C");
}

TEST(Devices, TasksGetDistinctGpusAndAnAllocThatCannotBeSatisfiedIsRefused) {
  auto agent = gpu_agent(2);
  auto a = agent->submit(gpu_job("one", "[{name: nvidia/gpu, count: 1}]"));
  auto b = agent->submit(gpu_job("two", "[{name: gpu, count: 1}]"));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  agent->wait_client_status(a[0], "running");
  agent->wait_client_status(b[0], "running");
  auto va = visible(*agent, a[0]), vb = visible(*agent, b[0]);
  EXPECT_EQ((std::set<std::string>{va, vb}), (std::set<std::string>{"GPU-00000000", "GPU-00000001"}));
  auto third = agent->post("/v1/jobs", gpu_job("three", "[{name: nvidia/gpu, count: 1}]"));
  EXPECT_EQ(third.status, 409) << third.body;
  EXPECT_NE(third.body.find("nvidia/gpu"), std::string::npos) << third.body;
  // Released when the task ends.
  ASSERT_EQ(agent->del("/v1/job/one").status, 200);
  agent->wait_client_status(a[0], "complete");
  auto again = agent->submit(gpu_job("three", "[{name: nvidia/gpu, count: 1}]"));
  ASSERT_EQ(again.size(), 1u);
  agent->wait_client_status(again[0], "running");
  EXPECT_EQ(visible(*agent, again[0]), va);
}

TEST(Devices, ConstraintsOnAttributesWithUnits) {
  auto agent = gpu_agent(1);
  auto big = agent->post("/v1/jobs", gpu_job("big", "[{name: nvidia/gpu, count: 1, constraints: "
                                                     "[{attribute: \"${device.attr.memory}\", operator: \">=\", value: \"100 GiB\"}]}]"));
  EXPECT_EQ(big.status, 409) << big.body;
  auto fits = agent->submit(gpu_job("fits", "[{name: nvidia/gpu, count: 1, constraints: "
                                            "[{attribute: \"${device.attr.memory}\", operator: \">=\", value: \"40 GiB\"}]}]"));
  ASSERT_EQ(fits.size(), 1u);
  agent->wait_client_status(fits[0], "running");
}

// A device affinity (Nomad's) on a node with two models: the task gets the model it prefers,
// and the other when that one is taken; without one, the first group the node lists.
TEST(Devices, AnAffinityPicksTheGpuModelItPrefersAndNeverRefuses) {
  auto agent = gpu_agent(2, "", "", {"NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"});
  auto node = agent->get("/v1/node").json();
  ASSERT_EQ(node["NodeResources"]["Devices"].size(), 2u) << node.dump(2);
  const std::string prefer_a100 =
      "[{name: nvidia/gpu, count: 1, affinities: [{attribute: \"${device.model}\", value: "
      "\"NVIDIA A100-SXM4-40GB\", weight: 100}]}]";
  auto a = agent->submit(gpu_job("a100", prefer_a100));
  ASSERT_EQ(a.size(), 1u);
  agent->wait_client_status(a[0], "running");
  EXPECT_EQ(visible(*agent, a[0]), "GPU-00000001");
  // The A100 is taken: the same preference still runs, on the H100.
  auto b = agent->submit(gpu_job("again", prefer_a100));
  ASSERT_EQ(b.size(), 1u);
  agent->wait_client_status(b[0], "running");
  EXPECT_EQ(visible(*agent, b[0]), "GPU-00000000");
  ASSERT_EQ(agent->del("/v1/job/a100").status, 200);
  ASSERT_EQ(agent->del("/v1/job/again").status, 200);
  agent->wait_client_status(a[0], "complete");
  agent->wait_client_status(b[0], "complete");
  auto plain = agent->submit(gpu_job("plain", "[{name: nvidia/gpu, count: 1}]"));
  ASSERT_EQ(plain.size(), 1u);
  agent->wait_client_status(plain[0], "running");
  EXPECT_EQ(visible(*agent, plain[0]), "GPU-00000000");
}

TEST(Devices, ReservationIsKeptAcrossAnAgentRestart) {
  auto dir = make_temp_dir("drover-gpu");
  std::string held;
  std::string first_alloc;
  {
    auto agent = gpu_agent(2, dir);
    auto a = agent->submit(gpu_job("keep", "[{name: nvidia/gpu, count: 1}]"));
    ASSERT_EQ(a.size(), 1u);
    first_alloc = a[0];
    agent->wait_client_status(a[0], "running");
    held = visible(*agent, a[0]);
    agent->kill(SIGKILL);
  }
  auto agent = gpu_agent(2, dir);
  EXPECT_EQ(agent->alloc(first_alloc)["ClientStatus"], "running");
  auto b = agent->submit(gpu_job("other", "[{name: nvidia/gpu, count: 1}]"));
  ASSERT_EQ(b.size(), 1u);
  agent->wait_client_status(b[0], "running");
  EXPECT_NE(visible(*agent, b[0]), held);
  EXPECT_EQ(agent->post("/v1/jobs", gpu_job("more", "[{name: nvidia/gpu, count: 1}]")).status, 409);
}

// In a cluster the server places GPU work by the node's GPUs as its agent registered them:
// never more allocs on a node than it has healthy GPUs, the rest blocked with the reason.
TEST(Devices, AServerPlacesGpuAllocsByTheNodesGpusAndBlocksTheRest) {
  if (!EtcdProcess::installed()) GTEST_SKIP() << "etcd-server and etcd-client are not installed";
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.start());
  auto agent = gpu_agent(2, "",
                         "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + etcd.endpoint() +
                             "\"]\n    prefix: /drover\n    heartbeat_ttl: 3s\n");
  auto server = ServerProcess::start(
      "s1", "leader_ttl: 3s\netcd:\n  endpoints: [\"" + etcd.endpoint() + "\"]\n  prefix: /drover\n");
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        auto nodes = server->get("/v1/nodes").json();
        auto leader = server->get("/v1/status/leader").json();  // a write before one is a 503
        return nodes.is_array() && nodes.size() == 1 && nodes[0].value("Status", "") == "ready" &&
               leader.is_string() && !leader.get<std::string>().empty();
      },
      20s))
      << server->log();
  std::string job = gpu_job("train", "[{name: nvidia/gpu, count: 1}]");
  job.replace(job.find("  groups:\n    - name: g\n"), 24, "  groups:\n    - name: g\n      count: 3\n");
  auto r = server->post("/v1/jobs", job);
  ASSERT_EQ(r.status, 200) << r.body << server->log();
  std::vector<std::string> running;
  ASSERT_TRUE(drover::testing::eventually(
      [&] {
        running.clear();
        for (const auto& a : server->get("/v1/job/train/allocations").json())
          if (a.value("ClientStatus", "") == "running") running.push_back(a.value("ID", ""));
        return running.size() == 2;
      },
      30s))
      << server->get("/v1/job/train/allocations").body << agent->log();
  // Each has its own GPU.
  EXPECT_EQ((std::set<std::string>{visible(*agent, running[0]), visible(*agent, running[1])}),
            (std::set<std::string>{"GPU-00000000", "GPU-00000001"}));
  auto allocs = server->get("/v1/job/train/allocations").json();
  EXPECT_EQ(allocs.size(), 2u) << allocs.dump(2);
  json blocked;
  for (const auto& e : server->get("/v1/job/train/evaluations").json())
    if (e.value("Status", "") == "blocked") blocked = e;
  ASSERT_TRUE(blocked.is_object()) << server->get("/v1/job/train/evaluations").body;
  EXPECT_EQ(blocked["FailedTGAllocs"]["g"]["DimensionExhausted"]["devices"], 1) << blocked.dump(2);
  server->del("/v1/job/train");
  for (const auto& id : running) agent->wait_client_status(id, "complete");
}

// Nomad's `numa { devices }` (docs/cgroups.md, "NUMA"): the GPU on the NUMA node of the task's
// cores. GPU 0's bus (0000:00:00.0) is a device of this host whose kernel gives it no NUMA
// node (-1: it is near every node); GPU 1's bus is no device here, so its node is unknown and
// it is never taken for such a task.
TEST(Devices, NumaDevicesTakeOnlyAGpuOnTheNodeOfTheCores) {
  if (!std::filesystem::exists("/sys/bus/pci/devices/0000:00:00.0/numa_node"))
    GTEST_SKIP() << "this host has no PCI device 0000:00:00.0 to stand for GPU 0's bus";
  auto agent = gpu_agent(2);
  auto numa_job = [](const std::string& id) {
    return "job:\n  id: " + id +
           "\n  groups:\n    - name: g\n      tasks:\n        - name: t\n"
           "          driver: raw_exec\n          kill_timeout: 1s\n"
           "          resources:\n            memory: 32\n            cores: 1\n"
           "            numa: {affinity: require, devices: [nvidia/gpu]}\n"
           "            devices: [{name: nvidia/gpu, count: 1}]\n"
           "          config:\n            command: /bin/sh\n"
           "            args: [\"-c\", \"echo $NVIDIA_VISIBLE_DEVICES; sleep 1000\"]\n";
  };
  auto a = agent->submit(numa_job("near"));
  ASSERT_EQ(a.size(), 1u);
  agent->wait_client_status(a[0], "running");
  EXPECT_EQ(visible(*agent, a[0]), "GPU-00000000");
  // The other GPU is free, but not known to be near any core: refused at submit, saying why.
  auto second = agent->post("/v1/jobs", numa_job("far"));
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(second.body.find("beside its devices (numa affinity require)"), std::string::npos)
      << second.body;
  // A task without the numa block still gets it.
  auto plain = agent->submit(gpu_job("plain", "[{name: nvidia/gpu, count: 1}]"));
  ASSERT_EQ(plain.size(), 1u);
  agent->wait_client_status(plain[0], "running");
  EXPECT_EQ(visible(*agent, plain[0]), "GPU-00000001");
  // numa devices must name one of the task's device blocks.
  auto bad = agent->post("/v1/jobs", "job:\n  id: bad\n  groups:\n    - name: g\n      tasks:\n"
                                     "        - name: t\n          driver: raw_exec\n"
                                     "          config: {command: /bin/true}\n"
                                     "          resources: {cores: 1, numa: {affinity: require, "
                                     "devices: [nvidia/fpga]}}\n");
  ASSERT_EQ(bad.status, 400) << bad.body;
  auto problem = bad.json()["problems"][0];
  EXPECT_EQ(problem["path"], "groups[0].tasks[0].resources.numa.devices[0]") << bad.body;
  EXPECT_EQ(problem["message"], "\"nvidia/fpga\" is not one of the task's device blocks");
}
