// The nvidia device plugin as the agent sees it: the real nvidia.so loaded by the real
// PluginRegistry, talking to a fake NVML (fake_nvml/) that describes the GPUs of each test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "drover/loader/registry.hpp"

namespace fs = std::filesystem;
using drover::plugins::DevicePlugin;
using drover::plugins::PluginRegistry;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "drover-nvidia-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

json h100(int i) {
  char uuid[64];
  std::snprintf(uuid, sizeof uuid, "GPU-4a1c8a2e-0000-4000-8000-00000000000%d", i);
  char bus[32];
  std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", 0x18 + i);
  return {{"uuid", uuid},
          {"name", "NVIDIA H100 80GB HBM3"},
          {"memory_mib", 81559},
          {"memory_used_mib", 1024},
          {"minor", i},
          {"bus_id", bus},
          {"power_limit_mw", 700000},
          {"power_mw", 123000},
          {"bar1_mib", 131072},
          {"sm_clock_mhz", 1980},
          {"mem_clock_mhz", 2619},
          {"pcie_gen", 5},
          {"pcie_width", 16},
          {"compute_capability", {9, 0}},
          {"display", false},
          {"persistence", true},
          {"utilization", {37, 12}},
          {"temperature_c", 41},
          {"ecc_uncorrected", 0}};
}

json gpus(int n) {
  json a = json::array();
  for (int i = 0; i < n; ++i) a.push_back(h100(i));
  return a;
}

// One test's node: a plugin folder with only nvidia.so, a fake NVML description, and the
// registry that loaded them.
class Node {
 public:
  explicit Node(const json& nvml, json plugin_config = json::object()) {
    fs::copy_file(NVIDIA_SO, dir_.path() / "nvidia.so");
    const fs::path cfg = dir_.path() / "fake_nvml.json";
    std::ofstream(cfg) << nvml.dump();
    setenv("FAKE_NVML_CONFIG", cfg.c_str(), 1);
    if (!plugin_config.contains("nvml_path")) plugin_config["nvml_path"] = FAKE_NVML;
    registry_.load_dir(dir_.path(), {{"nvidia", plugin_config}});
  }
  PluginRegistry& registry() { return registry_; }
  DevicePlugin& plugin() {
    DevicePlugin* p = registry_.device("nvidia");
    if (p == nullptr) throw std::runtime_error("nvidia plugin not loaded");
    return *p;
  }
  // Every instance of every group, in order.
  std::vector<json> instances() {
    std::vector<json> out;
    const json fp = plugin().fingerprint();  // kept alive: the loop reads inside it
    for (const auto& g : fp["Devices"]) {
      for (const auto& i : g["Instances"]) out.push_back(i);
    }
    return out;
  }

 private:
  TempDir dir_;
  PluginRegistry registry_;
};

const std::string kGpu0 = "GPU-4a1c8a2e-0000-4000-8000-000000000000";
const std::string kGpu1 = "GPU-4a1c8a2e-0000-4000-8000-000000000001";

}  // namespace

TEST(NvidiaDevice, LoadsAsADevicePluginNamedNvidia) {
  Node node(json{{"gpus", gpus(1)}});
  auto infos = node.registry().plugins();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].status, "loaded") << infos[0].reason;
  EXPECT_EQ(infos[0].type, "device");
  EXPECT_EQ(infos[0].version, "0.1.0");
  EXPECT_EQ(node.registry().device_names(), std::vector<std::string>{"nvidia"});
  EXPECT_TRUE(node.registry().driver_names().empty());
}

TEST(NvidiaDevice, NoNvmlLibraryMeansNoDevicesAndSaysWhy) {
  Node node(json{{"gpus", gpus(1)}}, {{"nvml_path", "/nonexistent/libnvidia-ml.so.1"}});
  json fp = node.plugin().fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_TRUE(fp["Devices"].empty());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("cannot load NVML"));
  // Reserving and stats stay answerable.
  EXPECT_FALSE(node.plugin().reserve({kGpu0}).ok());
  auto stats = node.plugin().stats();
  ASSERT_TRUE(stats.ok()) << stats.message();
  EXPECT_TRUE((*stats)["Instances"].empty());
}

TEST(NvidiaDevice, NvmlInitFailureMeansNoDevicesAndNamesTheError) {
  Node node(json{{"init_error", 9}, {"gpus", gpus(2)}});
  json fp = node.plugin().fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_TRUE(fp["Devices"].empty());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("NVML init failed"));
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("Driver Not Loaded"));
}

TEST(NvidiaDevice, ZeroGpusMeansNoDeviceGroups) {
  Node node(json{{"gpus", json::array()}});
  json fp = node.plugin().fingerprint();
  EXPECT_FALSE(fp["Detected"].get<bool>());
  EXPECT_TRUE(fp["Devices"].empty());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("no NVIDIA GPUs"));
}

TEST(NvidiaDevice, OneGpuIsOneGroupWithNomadAttributesAndUnits) {
  Node node(
      json{{"gpus", gpus(1)}, {"driver_version", "550.54.15"}, {"cuda_driver_version", 12040}});
  json fp = node.plugin().fingerprint();
  EXPECT_TRUE(fp["Detected"].get<bool>());
  ASSERT_EQ(fp["Devices"].size(), 1u);
  const json& g = fp["Devices"][0];
  EXPECT_EQ(g["Vendor"], "nvidia");
  EXPECT_EQ(g["Type"], "gpu");
  EXPECT_EQ(g["Name"], "NVIDIA H100 80GB HBM3");
  const json& a = g["Attributes"];
  EXPECT_EQ(a["memory"], (json{{"Value", 81559}, {"Unit", "MiB"}}));
  EXPECT_EQ(a["power"], (json{{"Value", 700}, {"Unit", "W"}}));
  EXPECT_EQ(a["bar1"], (json{{"Value", 131072}, {"Unit", "MiB"}}));
  EXPECT_EQ(a["pci_bandwidth"], (json{{"Value", 3938 * 16}, {"Unit", "MB/s"}}));
  EXPECT_EQ(a["cores_clock"], (json{{"Value", 1980}, {"Unit", "MHz"}}));
  EXPECT_EQ(a["memory_clock"], (json{{"Value", 2619}, {"Unit", "MHz"}}));
  EXPECT_EQ(a["driver_version"]["Value"], "550.54.15");
  EXPECT_EQ(a["cuda_driver_version"]["Value"], "12.4");
  EXPECT_EQ(a["compute_capability"]["Value"], "9.0");
  EXPECT_EQ(a["display_state"]["Value"], "Disabled");
  EXPECT_EQ(a["persistence_mode"]["Value"], "Enabled");
  ASSERT_EQ(g["Instances"].size(), 1u);
  const json& i = g["Instances"][0];
  EXPECT_EQ(i["ID"], kGpu0);
  EXPECT_TRUE(i["Healthy"].get<bool>());
  EXPECT_EQ(i["Attributes"]["pci_bus_id"]["Value"], "00000000:18:00.0");
}

TEST(NvidiaDevice, EightGpusAreEightInstancesOfOneModel) {
  Node node(json{{"gpus", gpus(8)}});
  json fp = node.plugin().fingerprint();
  ASSERT_EQ(fp["Devices"].size(), 1u);
  const json& inst = fp["Devices"][0]["Instances"];
  ASSERT_EQ(inst.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(inst[i]["ID"], h100(i)["uuid"]);
    EXPECT_TRUE(inst[i]["Healthy"].get<bool>());
  }
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("8 instances on 8 GPU(s)"));
}

TEST(NvidiaDevice, TwoModelsAreTwoGroups) {
  json list = gpus(2);
  list[1]["name"] = "NVIDIA A100-SXM4-40GB";
  Node node(json{{"gpus", list}});
  json fp = node.plugin().fingerprint();
  ASSERT_EQ(fp["Devices"].size(), 2u);
  EXPECT_EQ(fp["Devices"][0]["Name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(fp["Devices"][1]["Name"], "NVIDIA A100-SXM4-40GB");
}

json mig_node() {
  json list = gpus(2);
  list[0]["mig"] = {{{"uuid", "MIG-aaaaaaaa-0000-5000-8000-000000000001"},
                     {"name", "NVIDIA H100 80GB HBM3 MIG 1g.10gb"},
                     {"memory_mib", 9856},
                     {"gpu_instance", 7},
                     {"compute_instance", 0}},
                    {{"uuid", "MIG-aaaaaaaa-0000-5000-8000-000000000002"},
                     {"name", "NVIDIA H100 80GB HBM3 MIG 1g.10gb"},
                     {"memory_mib", 9856},
                     {"gpu_instance", 8},
                     {"compute_instance", 0}}};
  return list;
}

TEST(NvidiaDevice, MigSlicesAreTheInstancesAndTheirParentIsNotOffered) {
  Node node(json{{"gpus", mig_node()}});
  json fp = node.plugin().fingerprint();
  ASSERT_EQ(fp["Devices"].size(), 2u);
  const json& mig = fp["Devices"][0];
  EXPECT_EQ(mig["Name"], "NVIDIA H100 80GB HBM3 MIG 1g.10gb");
  EXPECT_EQ(mig["Attributes"]["memory"]["Value"], 9856);
  ASSERT_EQ(mig["Instances"].size(), 2u);
  EXPECT_EQ(mig["Instances"][0]["ID"], "MIG-aaaaaaaa-0000-5000-8000-000000000001");
  EXPECT_EQ(mig["Instances"][1]["ID"], "MIG-aaaaaaaa-0000-5000-8000-000000000002");
  EXPECT_EQ(mig["Instances"][0]["Attributes"]["parent_uuid"]["Value"], kGpu0);
  const json& whole = fp["Devices"][1];
  ASSERT_EQ(whole["Instances"].size(), 1u);
  EXPECT_EQ(whole["Instances"][0]["ID"], kGpu1);
  for (const auto& i : node.instances()) EXPECT_NE(i["ID"], kGpu0);
  EXPECT_FALSE(node.plugin().reserve({kGpu0}).ok());  // the parent is never handed out whole
}

// Waits until `pred` holds for the fingerprint's instances, or 5 s pass.
template <typename Pred>
bool eventually(Node& node, Pred pred) {
  for (int i = 0; i < 250; ++i) {
    if (pred(node.instances())) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(NvidiaDevice, CriticalXid79MarksThatGpuUnhealthyButApplicationXid13DoesNot) {
  // XID 13 on GPU 0 is delivered before XID 79 on GPU 1: once GPU 1 is unhealthy, the 13
  // has been seen too.
  Node node(
      json{{"gpus", gpus(2)}, {"xids", {{{"gpu", 0}, {"xid", 13}}, {{"gpu", 1}, {"xid", 79}}}}});
  ASSERT_TRUE(eventually(node, [](const std::vector<json>& inst) {
    return inst.size() == 2 && !inst[1]["Healthy"].get<bool>();
  }));
  auto inst = node.instances();
  EXPECT_EQ(inst[1]["ID"], kGpu1);
  EXPECT_THAT(inst[1]["HealthDescription"].get<std::string>(), HasSubstr("XID 79"));
  EXPECT_EQ(inst[0]["ID"], kGpu0);
  EXPECT_TRUE(inst[0]["Healthy"].get<bool>());
  EXPECT_EQ(inst[0]["HealthDescription"], "");
}

TEST(NvidiaDevice, EveryApplicationXidLeavesTheGpuHealthy) {
  json xids = json::array();
  for (int x : {13, 31, 43, 45, 68, 109}) xids.push_back({{"gpu", 0}, {"xid", x}});
  xids.push_back({{"gpu", 1}, {"xid", 48}});  // a double-bit ECC error, critical: the marker
  Node node(json{{"gpus", gpus(2)}, {"xids", xids}});
  ASSERT_TRUE(eventually(node, [](const std::vector<json>& inst) {
    return inst.size() == 2 && !inst[1]["Healthy"].get<bool>();
  }));
  EXPECT_TRUE(node.instances()[0]["Healthy"].get<bool>());
}

TEST(NvidiaDevice, XidOnOneMigSliceMarksOnlyThatSlice) {
  Node node(
      json{{"gpus", mig_node()},
           {"xids", {{{"gpu", 0}, {"xid", 94}, {"gpu_instance", 8}, {"compute_instance", 0}}}}});
  ASSERT_TRUE(eventually(node, [](const std::vector<json>& inst) {
    return inst.size() == 3 && !inst[1]["Healthy"].get<bool>();
  }));
  auto inst = node.instances();
  EXPECT_TRUE(inst[0]["Healthy"].get<bool>());  // gpu instance 7
  EXPECT_THAT(inst[1]["HealthDescription"].get<std::string>(), HasSubstr("XID 94"));
  EXPECT_TRUE(inst[2]["Healthy"].get<bool>());  // the other GPU
}

TEST(NvidiaDevice, ReserveGivesVisibleDevicesAndDeviceNodes) {
  Node node(json{{"gpus", gpus(4)}});
  auto r = node.plugin().reserve({h100(3)["uuid"], h100(1)["uuid"]});
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ((*r)["Env"]["NVIDIA_VISIBLE_DEVICES"],
            h100(3)["uuid"].get<std::string>() + "," + h100(1)["uuid"].get<std::string>());
  std::vector<std::string> paths;
  for (const auto& d : (*r)["Devices"]) {
    EXPECT_EQ(d["HostPath"], d["ContainerPath"]);
    EXPECT_EQ(d["Permissions"], "rw");
    paths.push_back(d["HostPath"]);
  }
  EXPECT_THAT(paths,
              ::testing::UnorderedElementsAre("/dev/nvidia1", "/dev/nvidia3", "/dev/nvidiactl",
                                              "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"));
  EXPECT_TRUE((*r)["Mounts"].empty());
}

TEST(NvidiaDevice, ReserveRefusesUnknownAndRepeatedIds) {
  Node node(json{{"gpus", gpus(1)}});
  auto unknown = node.plugin().reserve({"GPU-not-here"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.message(), HasSubstr("GPU-not-here"));
  auto twice = node.plugin().reserve({kGpu0, kGpu0});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.message(), HasSubstr("asked twice"));
  EXPECT_FALSE(node.plugin().reserve({}).ok());
}

TEST(NvidiaDevice, IgnoredGpuIdsAreNeitherOfferedNorReservable) {
  Node node(json{{"gpus", gpus(3)}}, {{"ignored_gpu_ids", {kGpu1}}});
  auto inst = node.instances();
  ASSERT_EQ(inst.size(), 2u);
  EXPECT_EQ(inst[0]["ID"], kGpu0);
  EXPECT_EQ(inst[1]["ID"], h100(2)["uuid"]);
  auto r = node.plugin().reserve({kGpu1});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("ignored"));
}

TEST(NvidiaDevice, StatsPerInstanceWithUnits) {
  Node node(json{{"gpus", gpus(2)}});
  auto stats = node.plugin().stats();
  ASSERT_TRUE(stats.ok()) << stats.message();
  EXPECT_GT((*stats)["Timestamp"].get<long long>(), 0);
  ASSERT_EQ((*stats)["Instances"].size(), 2u);
  const json& s = (*stats)["Instances"][kGpu1];
  EXPECT_EQ(s["Name"], "NVIDIA H100 80GB HBM3");
  const json& st = s["Stats"];
  EXPECT_EQ(st["GPU utilization"], (json{{"Value", 37}, {"Unit", "%"}}));
  EXPECT_EQ(st["Memory utilization"], (json{{"Value", 12}, {"Unit", "%"}}));
  EXPECT_EQ(st["Memory used"], (json{{"Value", 1024}, {"Unit", "MiB"}}));
  EXPECT_EQ(st["Memory total"], (json{{"Value", 81559}, {"Unit", "MiB"}}));
  EXPECT_EQ(st["Power usage"], (json{{"Value", 123}, {"Unit", "W"}}));
  EXPECT_EQ(st["Temperature"], (json{{"Value", 41}, {"Unit", "C"}}));
  EXPECT_EQ(st["ECC errors"]["Value"], 0);
}

TEST(NvidiaDevice, DisabledByConfigOffersNothing) {
  Node node(json{{"gpus", gpus(2)}}, {{"enabled", false}});
  json fp = node.plugin().fingerprint();
  EXPECT_TRUE(fp["Devices"].empty());
  EXPECT_THAT(fp["HealthDescription"].get<std::string>(), HasSubstr("disabled"));
}

TEST(NvidiaDevice, BadConfigRefusesThePluginNamingTheKey) {
  Node node(json{{"gpus", gpus(1)}}, {{"fingerprint_period", "soon"}});
  auto infos = node.registry().plugins();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].status, "refused");
  EXPECT_THAT(infos[0].reason, HasSubstr("fingerprint_period"));
  EXPECT_EQ(node.registry().device("nvidia"), nullptr);
}

TEST(NvidiaDevice, FingerprintAnswersPromptlyWhileRefreshingEveryPeriod) {
  Node node(json{{"gpus", gpus(8)}}, {{"fingerprint_period", "100ms"}});
  // Several refreshes run in the plugin's own thread meanwhile; answers stay whole and fast.
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(node.instances().size(), 8u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(NvidiaDevice, UnknownConfigKeyRefusesThePlugin) {
  Node node(json{{"gpus", gpus(1)}}, {{"fingerprint_perod", "1m"}});
  auto infos = node.registry().plugins();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].status, "refused");
  EXPECT_THAT(infos[0].reason, HasSubstr("fingerprint_perod: unknown key"));
}
