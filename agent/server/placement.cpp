// Feasibility and ranking of nodes for one alloc; see placement.hpp.
#include "server/placement.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>

#include "runner/constraints.hpp"

namespace drover::server {

using nlohmann::json;

Ask ask_of(const jobspec::TaskGroup& group) {
  Ask a;
  for (const auto& t : group.tasks) {
    a.cpu_mhz += t.resources.cpu_mhz;
    a.memory_mb += t.resources.memory_mb;
    a.drivers.insert(t.driver);
    for (const auto& n : t.resources.networks)
      for (const auto& p : n.reserved_ports) a.static_ports.push_back(p.value);
  }
  for (const auto& n : group.networks)
    for (const auto& p : n.reserved_ports) a.static_ports.push_back(p.value);
  for (const auto& v : group.volumes)
    if (v.type == "host") a.host_volumes.insert(v.source);
  return a;
}

json ask_to_json(const Ask& ask) {
  return {{"Cpu", ask.cpu_mhz}, {"MemoryMB", ask.memory_mb}, {"StaticPorts", ask.static_ports}};
}

void NodeUsage::add(const std::string& job_key, const std::string& group, const json& ask) {
  cpu_mhz += ask.value("Cpu", 0);
  memory_mb += ask.value("MemoryMB", 0);
  for (const auto& p : ask.value("StaticPorts", json::array()))
    if (p.is_number_integer()) ports.insert(p.get<int>());
  per_job[job_key]++;
  per_group[job_key + "/" + group]++;
}

int node_cpu(const json& node) {
  const auto& r = node.value("NodeResources", json::object());
  return r.value("Cpu", json::object()).value("CpuShares", 0);
}

int node_memory(const json& node) {
  const auto& r = node.value("NodeResources", json::object());
  return r.value("Memory", json::object()).value("MemoryMB", 0);
}

json PlacementMetrics::to_json() const {
  json scores_json = json::object();
  for (const auto& [node, s] : scores) scores_json[node] = {{"normalized-score", s}};
  return {{"NodesEvaluated", evaluated},
          {"NodesFiltered", filtered},
          {"NodesExhausted", exhausted},
          {"ConstraintFiltered", constraint_filtered},
          {"DimensionExhausted", dimension_exhausted},
          {"ScoreMetaData", scores_json}};
}

std::string PlacementMetrics::summary() const {
  std::string out;
  auto nodes = [](int n) { return std::to_string(n) + (n == 1 ? " node" : " nodes"); };
  if (evaluated == 0) out = "no nodes were eligible for evaluation";
  for (const auto& [c, n] : constraint_filtered)
    out += (out.empty() ? "" : "; ") + std::string("constraint \"") + c + "\" filtered " + nodes(n);
  for (const auto& [d, n] : dimension_exhausted)
    out +=
        (out.empty() ? "" : "; ") + std::string("dimension \"") + d + "\" exhausted on " + nodes(n);
  return out;
}

namespace {

bool in_datacenters(const jobspec::Job& job, const std::string& dc) {
  if (job.datacenters.empty()) return true;  // Nomad 1.5+: "*"
  for (const auto& want : job.datacenters)
    if (::fnmatch(want.c_str(), dc.c_str(), 0) == 0) return true;
  return false;
}

// The constraint a problem from runner::placement_problems is about, as Nomad names it in
// ConstraintFiltered ("${attr.kernel.name} = linux"); its own text otherwise.
std::string constraint_name(const jobspec::Problem& p) {
  const std::string lead = "constraint \"";
  if (p.message.rfind(lead, 0) == 0) {
    auto end = p.message.find("\" is not met");
    if (end != std::string::npos) return p.message.substr(lead.size(), end - lead.size());
  }
  if (p.path.find("volumes.") != std::string::npos) return "missing compatible host volumes";
  if (p.path == "node_pool") return "node pool";
  return p.path;
}

// Only the problems about the job itself or this group (not the job's other groups).
bool concerns_group(const std::string& path, std::size_t group) {
  if (path.rfind("groups[", 0) != 0) return true;
  return path.rfind("groups[" + std::to_string(group) + "]", 0) == 0;
}

bool has_distinct_hosts(const std::vector<jobspec::Constraint>& cs) {
  for (const auto& c : cs)
    if (c.op == "distinct_hosts" && c.value != "false") return true;
  return false;
}

}  // namespace

Infeasible check_node(const jobspec::Job& job, std::size_t group, const json& node,
                      const NodeUsage& usage, const Ask& ask) {
  Infeasible out;
  if (!in_datacenters(job, node.value("Datacenter", ""))) {
    out.constraint = "datacenter";
    return out;
  }
  const auto& drivers = node.value("Drivers", json::object());
  for (const auto& d : ask.drivers) {
    auto it = drivers.find(d);
    if (it == drivers.end() || !it->value("Detected", false) || !it->value("Healthy", false)) {
      out.constraint = "missing drivers";
      return out;
    }
  }
  auto info = runner::node_info_from_json(node);
  for (const auto& p : runner::placement_problems(job, info, /*whole_job_here=*/false)) {
    if (!concerns_group(p.path, group)) continue;
    out.constraint = constraint_name(p);
    return out;
  }
  // distinct_hosts: the scheduler's part, counted over what this job has on the node.
  const auto& g = job.groups[group];
  const std::string jk = job.namespace_name + "/" + job.id;
  if (has_distinct_hosts(job.placement.constraints) && usage.per_job.count(jk)) {
    out.constraint = "distinct_hosts";
    return out;
  }
  if (has_distinct_hosts(g.placement.constraints) && usage.per_group.count(jk + "/" + g.name)) {
    out.constraint = "distinct_hosts";
    return out;
  }
  for (int p : ask.static_ports)
    if (usage.ports.count(p)) {
      out.dimension = "network: reserved port collision";
      return out;
    }
  if (usage.cpu_mhz + ask.cpu_mhz > node_cpu(node)) {
    out.dimension = "cpu";
    return out;
  }
  if (usage.memory_mb + ask.memory_mb > node_memory(node)) out.dimension = "memory";
  return out;
}

double binpack_score(const json& node, const NodeUsage& usage, const Ask& ask) {
  double cpu = std::max(1, node_cpu(node)), mem = std::max(1, node_memory(node));
  double free_cpu = 1.0 - (usage.cpu_mhz + ask.cpu_mhz) / cpu;
  double free_mem = 1.0 - (usage.memory_mb + ask.memory_mb) / mem;
  // structs.ScoreFitBinPack: 20 - (10^freeCpu + 10^freeMem), in 0..18, normalised.
  double total = std::pow(10.0, free_cpu) + std::pow(10.0, free_mem);
  double score = std::clamp(20.0 - total, 0.0, 18.0);
  return score / 18.0;
}

std::optional<double> anti_affinity_score(int collisions, int desired_count) {
  if (collisions <= 0 || desired_count <= 0) return std::nullopt;
  return -1.0 * (collisions + 1) / desired_count;
}

std::optional<std::string> pick_node(const jobspec::Job& job, std::size_t group,
                                     const std::vector<const json*>& nodes,
                                     const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                     PlacementMetrics& metrics) {
  static const NodeUsage kEmpty;
  const auto& g = job.groups[group];
  const std::string gk = job.namespace_name + "/" + job.id + "/" + g.name;
  std::optional<std::string> best;
  double best_score = -1e9;
  for (const json* node : nodes) {
    std::string id = node->value("ID", "");
    auto u = usage.find(id);
    const NodeUsage& used = u == usage.end() ? kEmpty : u->second;
    metrics.evaluated++;
    auto why = check_node(job, group, *node, used, ask);
    if (!why.constraint.empty()) {
      metrics.filtered++;
      metrics.constraint_filtered[why.constraint]++;
      continue;
    }
    if (!why.dimension.empty()) {
      metrics.exhausted++;
      metrics.dimension_exhausted[why.dimension]++;
      continue;
    }
    // The scores Nomad averages: bin-packing always, anti-affinity when it applies.
    double sum = binpack_score(*node, used, ask);
    int n = 1;
    auto c = used.per_group.find(gk);
    if (auto aa = anti_affinity_score(c == used.per_group.end() ? 0 : c->second, g.count)) {
      sum += *aa;
      n++;
    }
    double score = sum / n;
    metrics.scores[id] = score;
    if (!best || score > best_score + 1e-12 ||
        (std::abs(score - best_score) <= 1e-12 && id < *best)) {
      best = id;
      best_score = score;
    }
  }
  return best;
}

}  // namespace drover::server
