#include "core/node_json.hpp"

#include "core/node_watcher.hpp"
#include "drover/common/json_text.hpp"
#include "drover/loader/registry.hpp"
#include "runner/device_manager.hpp"
#include "runner/node_resources.hpp"
#include "runner/port_allocator.hpp"
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
  for (const auto& [k, v] : node.meta_now()) meta[k] = v;

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
  // --- Networks (docs/networking.md), in Nomad's shapes ---
  json host_networks = json::object(), reserved_resources = json::object();
  if (resources && resources->ports()) {
    const auto& pc = resources->ports()->config();
    const auto& def = pc.default_network;
    node_resources["Networks"] = json::array({{{"Mode", "host"},
                                               {"Device", def.interface},
                                               {"IP", def.address},
                                               {"CIDR", def.address + "/32"},
                                               {"MBits", 0}}});
    json node_networks = json::array();
    auto address = [&](const runner::HostNetwork& n) {
      return json{{"Family", "ipv4"},
                  {"Alias", n.name},
                  {"Address", n.address},
                  {"ReservedPorts", runner::format_port_list(n.reserved)},
                  {"Gateway", ""}};
    };
    node_networks.push_back(
        {{"Mode", "host"}, {"Device", def.interface}, {"Addresses", json::array({address(def)})}});
    for (const auto& n : pc.host_networks) {
      if (!n.address.empty())
        node_networks.push_back(
            {{"Mode", "host"}, {"Device", n.interface}, {"Addresses", json::array({address(n)})}});
      host_networks[n.name] = {{"Name", n.name},
                               {"CIDR", n.cidr},
                               {"Interface", n.interface},
                               {"ReservedPorts", runner::format_port_list(n.reserved)}};
    }
    node_resources["NodeNetworks"] = std::move(node_networks);
    node_resources["MinDynamicPort"] = pc.min_dynamic;
    node_resources["MaxDynamicPort"] = pc.max_dynamic;
    reserved_resources["Networks"] = {{"ReservedHostPorts", runner::format_port_list(pc.reserved)}};
  }
  // Each CNI network configured here, as Nomad's CNI fingerprint lists it: a server places a
  // group of mode "cni/<name>" only on a node that has it.
  if (watcher)
    for (const auto& name : watcher->cni_networks())
      node_resources["Networks"].push_back({{"Mode", "cni/" + name}});
  // --- end networks ---
  json host_volumes = json::object();  // Nomad's Node.HostVolumes
  for (const auto& [name, v] : node.host_volumes_now()) {
    json hv = {{"Name", name}, {"Path", v.path}, {"ReadOnly", v.read_only}};
    if (!v.id.empty()) {
      // A dynamic volume's ID (what a sticky volume follows), what it offers, and what a
      // server's volume list shows of it.
      hv["ID"] = v.id;
      hv["Capabilities"] = runner::capabilities_to_json(v.capabilities);
      hv["Namespace"] = v.ns;
      hv["PluginID"] = v.plugin_id;
    }
    host_volumes[name] = std::move(hv);
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
              {"ReservedResources", reserved_resources},
              {"HostNetworks", host_networks},
              {"HostVolumes", host_volumes},
              {"Events", watcher ? watcher->events() : json::array()}};
  if (!http_addr.empty()) out["HTTPAddr"] = http_addr;
  return out;
}

runner::NodeInfo AdmissionNode::operator()() {
  const NodeWatcher* w = watcher_.load();
  if (!w) return runner::node_info_from_json(node_json(node_, plugins_, nullptr, nullptr, ""));
  std::lock_guard lock(mu_);
  const uint64_t generation = w->generation();
  const uint64_t meta_generation = node_.live_meta ? node_.live_meta->generation() : 0;
  const uint64_t volumes_generation = node_.live_volumes ? node_.live_volumes->generation() : 0;
  if (made_by_ != w || made_at_ != generation || made_meta_at_ != meta_generation ||
      made_volumes_at_ != volumes_generation) {
    made_ = runner::node_info_from_json(node_json(node_, plugins_, nullptr, w, ""));
    made_by_ = w;
    made_at_ = generation;
    made_meta_at_ = meta_generation;
    made_volumes_at_ = volumes_generation;
  }
  return made_;
}

}  // namespace drover::agent
