// Exclusive cores for tasks with `cores = N`: a node-wide pool, disjoint reservations,
// persisted by the agent (to_json/from_json) so that a restart does not hand a core out twice.
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

CpusetPool::CpusetPool(std::vector<int> cores) : cores_(std::move(cores)) {
  std::sort(cores_.begin(), cores_.end());
  cores_.erase(std::unique(cores_.begin(), cores_.end()), cores_.end());
}

CpusetPool::CpusetPool(CpusetPool&& other) {
  std::lock_guard lock(other.mutex_);
  cores_ = std::move(other.cores_);
  owners_ = std::move(other.owners_);
}

Result<CpusetPool> CpusetPool::from_host(const std::string& reserved,
                                         const std::filesystem::path& online) {
  auto text = read_file(online);
  if (!text) return make_error(text.message());
  auto cores = parse_cpus(*text);
  if (!cores) return make_error(online.string() + ": " + cores.message());
  auto skip = parse_cpus(reserved);
  if (!skip) return make_error("reserved cores: " + skip.message());
  std::vector<int> left;
  for (int c : *cores)
    if (std::find(skip->begin(), skip->end(), c) == skip->end()) left.push_back(c);
  return CpusetPool(std::move(left));
}

std::vector<int> CpusetPool::free() const {
  std::lock_guard lock(mutex_);
  return free_locked();
}

std::vector<int> CpusetPool::free_locked() const {
  std::set<int> held;
  for (const auto& [owner, cs] : owners_) held.insert(cs.begin(), cs.end());
  std::vector<int> out;
  for (int c : cores_)
    if (!held.count(c)) out.push_back(c);
  return out;
}

Result<std::vector<int>> CpusetPool::reserve(const std::string& owner, int n) {
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
  const auto available = free_locked();
  if (static_cast<int>(available.size()) < n)
    return make_error("not enough free cores for " + owner + ": asked for " + std::to_string(n) +
                      ", " + std::to_string(available.size()) + " free (" +
                      (available.empty() ? "none" : format_cpus(available)) + ") of " +
                      std::to_string(cores_.size()) + " reservable");
  std::vector<int> mine(available.begin(), available.begin() + n);
  owners_[owner] = mine;
  return mine;
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
