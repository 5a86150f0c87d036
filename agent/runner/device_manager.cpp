#include "runner/device_manager.hpp"

#include "runner/device_match.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>

#include "drover/loader/registry.hpp"
#include "state/state_store.hpp"
#include "drover/common/json_text.hpp"

namespace drover::runner {

using nlohmann::json;

DeviceManager::DeviceManager(plugins::PluginRegistry* plugins, state::StateStore* store,
                             std::filesystem::path pci_devices)
    : plugins_(plugins), store_(store), pci_devices_(std::move(pci_devices)) {
  if (auto saved = store_->meta("device_reservations")) {
    auto j = json::parse(*saved, nullptr, false);
    if (j.is_object())
      for (const auto& [owner, picks] : j.items()) reservations_[owner] = picks;
  }
}

json DeviceManager::inventory() const {
  json out = json::array();
  for (const auto& name : plugins_->device_names()) {
    auto fp = plugins_->device(name)->fingerprint();
    for (auto group : fp.value("Devices", json::array())) {
      group["Plugin"] = name;
      out.push_back(group);
    }
  }
  return out;
}

std::set<std::string> DeviceManager::taken_locked() const {
  std::set<std::string> taken;
  for (const auto& [_, picks] : reservations_)
    for (const auto& p : picks)
      for (const auto& id : p.value("IDs", json::array())) taken.insert(id.get<std::string>());
  return taken;
}

std::optional<int> DeviceManager::numa_node_of(const json& instance) const {
  if (!instance.contains("Attributes") || !instance["Attributes"].is_object()) return std::nullopt;
  const json& attrs = instance["Attributes"];
  if (!attrs.contains("pci_bus_id")) return std::nullopt;
  const json& v = attrs["pci_bus_id"];
  std::string bus = v.is_string() ? v.get<std::string>()
                    : v.is_object() && v.contains("Value") && v["Value"].is_string()
                        ? v["Value"].get<std::string>()
                        : std::string();
  // NVML's "00000000:3B:00.0" is sysfs's "0000:3b:00.0": a 16-bit domain, lower case.
  for (auto& ch : bus) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (bus.empty() || bus.find_first_not_of("0123456789abcdef:.") != std::string::npos)
    return std::nullopt;
  if (auto colon = bus.find(':'); colon > 4 && colon != std::string::npos) bus.erase(0, colon - 4);
  std::ifstream in(pci_devices_ / bus / "numa_node");
  int node = 0;
  if (!(in >> node)) return std::nullopt;
  return node < 0 ? -1 : node;
}

Result<std::vector<DeviceManager::Pick>> DeviceManager::pick(
    const std::vector<jobspec::DeviceRequest>& requests, int count,
    const std::set<std::string>& taken_in, const NumaBinding* numa) const {
  auto inv = inventory();
  auto taken = taken_in;
  std::vector<Pick> picks;
  for (int n = 0; n < count; ++n) {
    for (const auto& req : requests) {
      std::vector<std::string> ids;
      std::string plugin;
      int healthy_matching = 0;
      const bool bound = numa && std::find(numa->devices.begin(), numa->devices.end(), req.name) !=
                                     numa->devices.end();
      // The groups the request may use, those its affinities prefer first (Nomad's device
      // allocator takes the best-scoring group); in the inventory's order otherwise.
      std::vector<const json*> groups;
      for (const auto& group : inv)
        if (device_group_matches(req, group)) groups.push_back(&group);
      if (!req.affinities.empty())
        std::stable_sort(groups.begin(), groups.end(), [&](const json* a, const json* b) {
          return device_affinity_score(req, *a).score() > device_affinity_score(req, *b).score();
        });
      for (const json* gp : groups) {
        const json& group = *gp;
        for (const auto& inst : group.value("Instances", json::array())) {
          if (!inst.value("Healthy", false)) continue;
          ++healthy_matching;
          auto id = inst.value("ID", "");
          if (taken.count(id) || static_cast<int>(ids.size()) >= req.count) continue;
          if (bound) {
            auto node = numa_node_of(inst);  // -1: the device has no NUMA node of its own
            if (!node || (*node != -1 && *node != numa->node)) continue;
          }
          if (!plugin.empty() && plugin != group.value("Plugin", "")) continue;
          plugin = group.value("Plugin", "");
          ids.push_back(id);
        }
      }
      if (static_cast<int>(ids.size()) < req.count)
        return make_error("devices: " + std::to_string(req.count) + " \"" + req.name + "\" asked" +
                          (bound ? " on NUMA node " + std::to_string(numa->node) : "") + ", " +
                          std::to_string(ids.size()) + " free" + (bound ? " there" : "") + " (" +
                          std::to_string(healthy_matching) + " healthy matching on this node)");
      for (const auto& id : ids) taken.insert(id);
      picks.push_back({plugin, ids});
    }
  }
  return picks;
}

Status DeviceManager::fits(const std::vector<jobspec::DeviceRequest>& requests, int count,
                           const NumaBinding* numa) const {
  if (requests.empty()) return {};
  std::lock_guard lock(mu_);
  auto r = pick(requests, count, taken_locked(), numa);
  if (!r) return r.error();
  return {};
}

void DeviceManager::persist_locked() {
  json j = json::object();
  for (const auto& [owner, picks] : reservations_) j[owner] = picks;
  if (auto st = store_->put_meta("device_reservations", json_text(j)); !st)
    spdlog::error("persisting device reservations: {}", st.message());
}

Result<json> DeviceManager::reserve(const std::string& owner,
                                    const std::vector<jobspec::DeviceRequest>& requests,
                                    const NumaBinding* numa) {
  json picks;
  {
    std::lock_guard lock(mu_);
    auto it = reservations_.find(owner);
    if (it != reservations_.end()) {
      picks = it->second;
    } else {
      auto taken = taken_locked();
      auto r = pick(requests, 1, taken, numa);
      if (!r) return r.error();
      picks = json::array();
      for (const auto& p : r.value()) picks.push_back({{"Plugin", p.plugin}, {"IDs", p.ids}});
      // Recorded before the task starts: a crash from here on still holds the instances.
      reservations_[owner] = picks;
      persist_locked();
    }
  }
  json out = {{"Env", json::object()}, {"Devices", json::array()}, {"Mounts", json::array()},
              {"DeviceIDs", json::array()}};
  for (const auto& p : picks) {
    auto* plugin = plugins_->device(p.value("Plugin", ""));
    if (!plugin) {
      release(owner);
      return make_error("device plugin \"" + p.value("Plugin", "") + "\" is not loaded");
    }
    std::vector<std::string> ids = p.value("IDs", std::vector<std::string>{});
    auto r = plugin->reserve(ids);
    if (!r) {
      release(owner);
      return make_error("reserving " + p.value("Plugin", "") + " devices: " + r.message());
    }
    auto env = r->value("Env", json::object());  // named: items() of a temporary would dangle
    for (const auto& [k, v] : env.items()) {
      // Two groups of one plugin: join their instance lists.
      if (out["Env"].contains(k)) out["Env"][k] = out["Env"][k].get<std::string>() + "," + v.get<std::string>();
      else out["Env"][k] = v;
    }
    for (const auto& d : r->value("Devices", json::array()))
      if (std::find(out["Devices"].begin(), out["Devices"].end(), d) == out["Devices"].end())
        out["Devices"].push_back(d);
    for (const auto& m : r->value("Mounts", json::array())) out["Mounts"].push_back(m);
    for (const auto& id : ids) out["DeviceIDs"].push_back(id);
  }
  return out;
}

void DeviceManager::release(const std::string& owner) {
  std::lock_guard lock(mu_);
  if (reservations_.erase(owner)) persist_locked();
}

void DeviceManager::release_all_but(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  bool changed = false;
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    if (live.count(it->first)) {
      ++it;
    } else {
      it = reservations_.erase(it);
      changed = true;
    }
  }
  if (changed) persist_locked();
}

json DeviceManager::stats_for(const std::string& owner) const {
  json picks;
  {
    std::lock_guard lock(mu_);
    auto it = reservations_.find(owner);
    if (it == reservations_.end()) return json::object();
    picks = it->second;
  }
  json out = json::object();
  for (const auto& p : picks) {
    auto* plugin = plugins_->device(p.value("Plugin", ""));
    if (!plugin) continue;
    auto st = plugin->stats();
    if (!st) continue;
    auto instances = st->value("Instances", json::object());
    for (const auto& id : p.value("IDs", json::array()))
      if (instances.contains(id.get<std::string>())) out[id.get<std::string>()] = instances[id.get<std::string>()];
  }
  return out;
}

json DeviceManager::all_stats() const {
  json out = json::array();
  for (const auto& name : plugins_->device_names()) {
    auto* plugin = plugins_->device(name);
    if (!plugin) continue;
    auto st = plugin->stats();
    if (!st) continue;
    const auto when = st->value("Timestamp", json());
    // One group per vendor/type/name, as Nomad groups device stats.
    std::map<std::string, json> groups;
    // Held in a local: items() of a temporary would dangle in the range-for.
    const json instances = st->value("Instances", json::object());
    for (const auto& [id, inst] : instances.items()) {
      auto key = inst.value("Vendor", "") + "/" + inst.value("Type", "") + "/" + inst.value("Name", "");
      auto& g = groups[key];
      if (g.is_null())
        g = {{"Vendor", inst.value("Vendor", "")}, {"Type", inst.value("Type", "")},
             {"Name", inst.value("Name", "")}, {"Plugin", name}, {"InstanceStats", json::object()}};
      g["InstanceStats"][id] = {{"Stats", inst.value("Stats", json::object())}, {"Timestamp", when}};
    }
    for (auto& [_, g] : groups) out.push_back(std::move(g));
  }
  return out;
}

}  // namespace drover::runner
