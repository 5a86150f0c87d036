#include "core/node_json.hpp"

#include "core/node_watcher.hpp"
#include "drover/common/json_text.hpp"
#include "drover/loader/registry.hpp"
#include "runner/device_manager.hpp"
#include "runner/node_resources.hpp"
#include "runner/task_env.hpp"

namespace drover::agent {

using nlohmann::json;

namespace {
int64_t attr_int(const std::map<std::string, std::string>& a, const std::string& key) {
  auto it = a.find(key);
  if (it == a.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return 0;
  }
}
}  // namespace

json node_json(const runner::NodeInfo& node, plugins::PluginRegistry& plugins,
               const runner::NodeResources* resources, const NodeWatcher* watcher,
               const std::string& http_addr) {
  json attributes = json::object();
  for (const auto& [k, v] : node.attributes) attributes[k] = v;
  json fingerprints = watcher ? watcher->drivers() : json::object();
  if (!watcher)
    for (const auto& name : plugins.driver_names())
      if (auto* d = plugins.driver(name)) fingerprints[name] = d->fingerprint();
  if (watcher)
    for (const auto& [k, v] : watcher->dynamic_attributes()) attributes[k] = v;
  json drivers = json::object();
  for (const auto& [name, fp] : fingerprints.items()) {
    json info = {{"Detected", fp.value("Detected", false)},
                 {"Healthy", fp.value("Healthy", false)},
                 {"HealthDescription", fp.value("HealthDescription", "")},
                 {"Attributes", fp.value("Attributes", json::object())},
                 {"Capabilities", fp.value("Capabilities", json::object())},
                 {"UpdateTime", fp.value("UpdateTime", "")}};
    if (info["Healthy"].get<bool>()) {
      attributes["driver." + name] = "true";
      for (const auto& [k, v] : info["Attributes"].items())
        attributes[k] = v.is_string() ? v.get<std::string>() : json_text(v);
    }
    drivers[name] = info;
  }
  json meta = json::object();
  for (const auto& [k, v] : node.meta) meta[k] = v;

  // What tasks may use: the node's total less what the operator reserved.
  json node_resources = {
      {"Cpu", {{"CpuShares", attr_int(node.attributes, "cpu.totalcompute")}}},
      {"Memory", {{"MemoryMB", attr_int(node.attributes, "memory.totalbytes") / (1024 * 1024)}}},
      {"Disk", {{"DiskMB", attr_int(node.attributes, "unique.storage.bytestotal") / (1024 * 1024)}}},
      {"Devices", json::array()}};
  if (resources) {
    node_resources["Cpu"] = {{"CpuShares", resources->capacity().cpu_mhz},
                             {"ReservableCpuCores", resources->reservable_cores()}};
    node_resources["Memory"] = {{"MemoryMB", resources->capacity().memory_mb}};
    if (resources->devices()) node_resources["Devices"] = resources->devices()->inventory();
  }
  json out = {{"ID", node.id},
              {"Name", node.name},
              {"Datacenter", node.datacenter},
              {"NodeClass", node.node_class},
              {"NodePool", node.node_pool},
              {"Status", "ready"},
              {"SchedulingEligibility", "eligible"},
              {"Attributes", attributes},
              {"Meta", meta},
              {"Drivers", drivers},
              {"NodeResources", node_resources},
              {"Events", watcher ? watcher->events() : json::array()}};
  if (!http_addr.empty()) out["HTTPAddr"] = http_addr;
  return out;
}

}  // namespace drover::agent
