// Nomad's Node JSON for registration; see node_document.hpp.
#include "upstream/node_document.hpp"

#include "drover/loader/registry.hpp"
#include "runner/task_env.hpp"
#include "drover/common/json_text.hpp"

namespace drover::upstream {

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

json node_document(const runner::NodeInfo& node, plugins::PluginRegistry& plugins,
                   const std::string& http_addr) {
  json drivers = json::object();
  json attributes = json::object();
  for (const auto& [k, v] : node.attributes) attributes[k] = v;
  for (const auto& name : plugins.driver_names()) {
    auto* d = plugins.driver(name);
    if (!d) continue;
    auto fp = d->fingerprint();
    json info = {{"Detected", fp.value("Detected", false)},
                 {"Healthy", fp.value("Healthy", false)},
                 {"HealthDescription", fp.value("HealthDescription", "")},
                 {"Attributes", fp.value("Attributes", json::object())}};
    if (info["Healthy"].get<bool>()) {
      attributes["driver." + name] = "true";
      for (const auto& [k, v] : info["Attributes"].items())
        attributes[k] = v.is_string() ? v.get<std::string>() : json_text(v);
    }
    drivers[name] = info;
  }
  json meta = json::object();
  for (const auto& [k, v] : node.meta) meta[k] = v;
  int64_t mem_mb = attr_int(node.attributes, "memory.totalbytes") / (1024 * 1024);
  int64_t disk_mb = attr_int(node.attributes, "unique.storage.bytestotal") / (1024 * 1024);
  return {{"ID", node.id},
          {"Name", node.name},
          {"Datacenter", node.datacenter},
          {"HTTPAddr", http_addr},
          {"Status", "ready"},
          {"SchedulingEligibility", "eligible"},
          {"Attributes", attributes},
          {"Meta", meta},
          {"Drivers", drivers},
          {"NodeResources",
           {{"Cpu", {{"CpuShares", attr_int(node.attributes, "cpu.totalcompute")}}},
            {"Memory", {{"MemoryMB", mem_mb}}},
            {"Disk", {{"DiskMB", disk_mb}}}}}};
}

}  // namespace drover::upstream
