// Exclusive cores for tasks with `cores = N`: a node-wide pool, disjoint reservations,
// persisted by the agent (to_json/from_json) so that a restart does not hand a core out twice,
// placed on the host's NUMA nodes by the task's numa affinity.
#include "drover/cgroups/cpuset_pool.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "files.hpp"

namespace drover::cgroups {

Result<std::vector<int>> parse_cpus(const std::string& text) {
  std::set<int> cpus;
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
  std::istringstream in(trimmed);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty()) continue;
    try {
      size_t used = 0;
      auto dash = part.find('-');
      int lo = std::stoi(part.substr(0, dash), &used);
      if (used != (dash == std::string::npos ? part.size() : dash)) throw 0;
      int hi = lo;
      if (dash != std::string::npos) {
        hi = std::stoi(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1) throw 0;
      }
      if (lo < 0 || hi < lo || hi > 65535) throw 0;
      for (int c = lo; c <= hi; ++c) cpus.insert(c);
    } catch (...) {
      return make_error("'" + trimmed + "' is not a cpu list (like 0-1,3)");
    }
  }
  return std::vector<int>(cpus.begin(), cpus.end());
}

std::string format_cpus(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::optional<NumaAffinity> numa_affinity_from_string(const std::string& s) {
  if (s.empty() || s == "none") return NumaAffinity::None;
  if (s == "prefer") return NumaAffinity::Prefer;
  if (s == "require") return NumaAffinity::Require;
  return std::nullopt;
}

std::map<int, std::vector<int>> read_numa_nodes(const std::filesystem::path& dir) {
  std::map<int, std::vector<int>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("node", 0) != 0 || name.size() == 4 ||
        name.find_first_not_of("0123456789", 4) != std::string::npos)
      continue;
    auto text = read_file(e.path() / "cpulist");
    if (!text) continue;
    auto cpus = parse_cpus(*text);
    if (!cpus) continue;
    out[std::stoi(name.substr(4))] = std::move(*cpus);
  }
  return out;
}

CpusetPool::CpusetPool(std::vector<int> cores) : cores_(std::move(cores)) {
  std::sort(cores_.begin(), cores_.end());
  cores_.erase(std::unique(cores_.begin(), cores_.end()), cores_.end());
}

CpusetPool::CpusetPool(CpusetPool&& other) {
  std::lock_guard lock(other.mutex_);
  cores_ = std::move(other.cores_);
  owners_ = std::move(other.owners_);
  node_of_ = std::move(other.node_of_);
}

void CpusetPool::set_numa_nodes(const std::map<int, std::vector<int>>& nodes) {
  std::lock_guard lock(mutex_);
  node_of_.clear();
  for (const auto& [node, cpus] : nodes)
    for (int c : cpus) node_of_[c] = node;
}

int CpusetPool::node_of(int core) const {
  auto it = node_of_.find(core);
  return it == node_of_.end() ? 0 : it->second;
}

std::map<int, std::vector<int>> CpusetPool::free_by_node_locked(const Owners& owners) const {
  std::map<int, std::vector<int>> out;
  for (int c : cores_) out[node_of(c)];  // every node of the pool, even with none free
  for (int c : free_locked(owners)) out[node_of(c)].push_back(c);
  return out;
}

std::map<int, int> CpusetPool::free_per_node() const {
  std::lock_guard lock(mutex_);
  std::map<int, int> out;
  for (const auto& [node, cs] : free_by_node_locked(owners_)) out[node] = static_cast<int>(cs.size());
  return out;
}

std::vector<int> CpusetPool::nodes_of(const std::vector<int>& cores) const {
  std::lock_guard lock(mutex_);
  std::set<int> nodes;
  for (int c : cores) nodes.insert(node_of(c));
  return {nodes.begin(), nodes.end()};
}

Result<CpusetPool> CpusetPool::from_host(const std::string& reserved,
                                         const std::filesystem::path& online,
                                         const std::filesystem::path& numa_dir) {
  auto text = read_file(online);
  if (!text) return make_error(text.message());
  auto cores = parse_cpus(*text);
  if (!cores) return make_error(online.string() + ": " + cores.message());
  auto skip = parse_cpus(reserved);
  if (!skip) return make_error("reserved cores: " + skip.message());
  std::vector<int> left;
  for (int c : *cores)
    if (std::find(skip->begin(), skip->end(), c) == skip->end()) left.push_back(c);
  CpusetPool pool(std::move(left));
  pool.set_numa_nodes(read_numa_nodes(numa_dir));
  return pool;
}

std::vector<int> CpusetPool::free() const {
  std::lock_guard lock(mutex_);
  return free_locked(owners_);
}

std::vector<int> CpusetPool::free_locked(const Owners& owners) const {
  std::set<int> held;
  for (const auto& [owner, cs] : owners) held.insert(cs.begin(), cs.end());
  std::vector<int> out;
  for (int c : cores_)
    if (!held.count(c)) out.push_back(c);
  return out;
}

Result<std::vector<int>> CpusetPool::reserve(const std::string& owner, int n,
                                             NumaAffinity affinity, const NodeFilter& on) {
  if (n <= 0)
    return make_error("cores for " + owner + " must be at least 1, got " + std::to_string(n));
  // What is free and what is taken are decided under one lock: two tasks starting at once
  // must not both be given the lowest free core.
  std::lock_guard lock(mutex_);
  if (auto it = owners_.find(owner); it != owners_.end()) {
    if (static_cast<int>(it->second.size()) == n) return it->second;
    return make_error(owner + " already holds cores " + format_cpus(it->second) + "; asked for " +
                      std::to_string(n));
  }
  auto mine = place_locked(owners_, owner, n, affinity, on);
  if (mine) owners_[owner] = *mine;
  return mine;
}

Result<std::vector<int>> CpusetPool::place_locked(const Owners& owners, const std::string& owner,
                                                  int n, NumaAffinity affinity,
                                                  const NodeFilter& on) const {
  const auto available = free_locked(owners);
  if (static_cast<int>(available.size()) < n)
    return make_error("not enough free cores for " + owner + ": asked for " + std::to_string(n) +
                      ", " + std::to_string(available.size()) + " free (" +
                      (available.empty() ? "none" : format_cpus(available)) + ") of " +
                      std::to_string(cores_.size()) + " reservable");
  // The free cores by node, in the order they are taken from: for none, the nodes with the
  // fewest free first (bin-packing: the emptier nodes stay whole for the tasks that need
  // one); for prefer and require, the node with the fewest free that still holds all `n`
  // (best fit), else, for prefer, the nodes with the most free first (as few as can be).
  std::vector<std::pair<int, std::vector<int>>> nodes;
  for (auto& [node, cs] : free_by_node_locked(owners))
    if (!cs.empty()) nodes.emplace_back(node, std::move(cs));
  auto fewest_first = [](const auto& a, const auto& b) {
    return a.second.size() != b.second.size() ? a.second.size() < b.second.size() : a.first < b.first;
  };
  std::stable_sort(nodes.begin(), nodes.end(), fewest_first);
  if (affinity != NumaAffinity::None) {
    auto fit = std::find_if(nodes.begin(), nodes.end(), [&](const auto& nd) {
      return static_cast<int>(nd.second.size()) >= n && (!on || on(nd.first));
    });
    if (fit != nodes.end()) {
      std::rotate(nodes.begin(), fit, fit + 1);
    } else if (affinity == NumaAffinity::Require) {
      const auto& most = nodes.back();  // nodes is not empty: available.size() >= n >= 1
      std::string why = "no NUMA node has " + std::to_string(n) + " free cores for " + owner +
                        " (numa affinity require): the most free on one node is " +
                        std::to_string(most.second.size()) + " (node " + std::to_string(most.first) +
                        "), " + std::to_string(available.size()) + " free in all";
      if (on && static_cast<int>(most.second.size()) >= n) {
        std::set<int> room;
        for (const auto& [node, cs] : nodes)
          if (static_cast<int>(cs.size()) >= n) room.insert(node);
        std::string with_room;
        for (int node : room) with_room += (with_room.empty() ? "" : ", ") + std::to_string(node);
        const bool several = with_room.find(',') != std::string::npos;
        why = "no NUMA node has " + std::to_string(n) + " free cores for " + owner +
              " beside its devices (numa affinity require): " + (several ? "nodes " : "node ") +
              with_room + (several ? " have" : " has") + " the cores but not the free devices";
      }
      return make_error(why);
    } else {
      std::reverse(nodes.begin(), nodes.end());
    }
  }
  std::vector<int> mine;
  for (const auto& [node, cs] : nodes)
    for (int c : cs)
      if (static_cast<int>(mine.size()) < n) mine.push_back(c);
  std::sort(mine.begin(), mine.end());
  return mine;
}

Status CpusetPool::can_reserve_all(std::vector<Ask> asks) const {
  std::stable_sort(asks.begin(), asks.end(), [](const Ask& a, const Ask& b) { return a.n > b.n; });
  std::lock_guard lock(mutex_);
  Owners owners = owners_;
  std::string placed;  // the bigger asks already placed, which a refusal names
  for (const auto& a : asks) {
    auto mine = place_locked(owners, a.owner, a.n, a.affinity, a.on);
    if (!mine)
      return make_error(mine.message() + (placed.empty() ? "" : ", with " + placed + " placed first"));
    owners[a.owner + "\n" + std::to_string(owners.size())] = std::move(*mine);
    placed += (placed.empty() ? "" : ", ") + a.owner + "'s " + std::to_string(a.n);
  }
  return {};
}

void CpusetPool::release(const std::string& owner) {
  std::lock_guard lock(mutex_);
  owners_.erase(owner);
}

std::vector<int> CpusetPool::reserved_by(const std::string& owner) const {
  std::lock_guard lock(mutex_);
  auto it = owners_.find(owner);
  return it == owners_.end() ? std::vector<int>{} : it->second;
}

std::vector<int> CpusetPool::cores() const {
  std::lock_guard lock(mutex_);
  return cores_;
}

nlohmann::json CpusetPool::to_json() const {
  std::lock_guard lock(mutex_);
  nlohmann::json reservations = nlohmann::json::object();
  for (const auto& [owner, cs] : owners_) reservations[owner] = cs;
  return {{"cores", cores_}, {"reservations", reservations}};
}

Status CpusetPool::from_json(const nlohmann::json& saved) {
  if (!saved.is_object() || !saved.contains("reservations") || !saved["reservations"].is_object())
    return make_error("saved cpuset reservations are not an object with \"reservations\"");
  std::map<std::string, std::vector<int>> restored;
  std::set<int> held;
  std::lock_guard lock(mutex_);
  for (const auto& [owner, cs] : saved["reservations"].items()) {
    if (!cs.is_array()) return make_error("saved cores of " + owner + " are not a list");
    for (const auto& c : cs) {
      if (!c.is_number_integer()) return make_error("saved cores of " + owner + " are not numbers");
      int core = c.get<int>();
      if (!std::binary_search(cores_.begin(), cores_.end(), core))
        return make_error("saved reservation of " + owner + " holds core " + std::to_string(core) +
                          ", which this node does not offer");
      if (!held.insert(core).second)
        return make_error("saved reservations give core " + std::to_string(core) + " twice");
      restored[owner].push_back(core);
    }
  }
  owners_ = std::move(restored);
  return {};
}

}  // namespace drover::cgroups
