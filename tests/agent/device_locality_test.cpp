// Where a device instance is (runner/device_manager.hpp; docs/cgroups.md, "NUMA"): its
// pci_bus_id attribute, in NVML's spelling, found under the kernel's PCI devices and read as
// that device's numa_node; nothing that is not a bus id is looked up.
#include "runner/device_manager.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "state/state_store.hpp"
#include "test_files.hpp"

using namespace drover;
using nlohmann::json;

namespace {

json instance(const std::string& bus) {
  return {{"ID", "GPU-1"}, {"Healthy", true},
          {"Attributes", {{"pci_bus_id", {{"Value", bus}, {"Unit", ""}}}}}};
}

}  // namespace

TEST(DeviceLocality, AnInstancesNumaNodeComesFromItsPciDevice) {
  const auto dir = test_support::scratch_dir("drover-pci");
  auto store = state::StateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.message();
  const auto pci = dir / "pci";
  for (const auto& [bus, node] : {std::pair{"0000:3b:00.0", "1\n"}, std::pair{"0000:00:03.0", "-1\n"}}) {
    std::filesystem::create_directories(pci / bus);
    std::ofstream(pci / bus / "numa_node") << node;
  }
  runner::DeviceManager devices(nullptr, store->get(), pci);
  EXPECT_EQ(devices.numa_node_of(instance("00000000:3B:00.0")), 1);  // NVML's spelling
  EXPECT_EQ(devices.numa_node_of(instance("0000:3b:00.0")), 1);
  EXPECT_EQ(devices.numa_node_of(instance("00000000:00:03.0")), -1);  // near every node
  EXPECT_EQ(devices.numa_node_of(instance("00000000:AF:00.0")), std::nullopt);  // no such device
  EXPECT_EQ(devices.numa_node_of(instance("../../../etc/passwd")), std::nullopt);
  EXPECT_EQ(devices.numa_node_of(json{{"ID", "x"}}), std::nullopt);  // no bus id at all
  std::filesystem::remove_all(dir);
}
