// Feasibility and ranking of nodes for one alloc; see placement.hpp.
#include "server/placement.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>

#include "drover/cgroups/cpuset_pool.hpp"
#include "runner/constraints.hpp"
#include "runner/device_match.hpp"
#include "runner/host_volumes.hpp"
#include "server/affinity_score.hpp"
#include "server/spread_score.hpp"

namespace drover::server {

using nlohmann::json;

Ask ask_of(const jobspec::TaskGroup& group) {
  Ask a;
  for (const auto& t : group.tasks) {
    a.cpu_mhz += t.resources.cpu_mhz;
    a.memory_mb += t.resources.memory_mb;
    a.cores += t.resources.cores;
    a.devices.insert(a.devices.end(), t.resources.devices.begin(), t.resources.devices.end());
    a.drivers.insert(t.driver);
    if (t.resources.numa_affinity == "require") a.numa_cores = std::max(a.numa_cores, t.resources.cores);
    for (const auto& n : t.resources.networks) {
      for (const auto& p : n.reserved_ports) a.static_ports.push_back(p.value);
      a.dynamic_ports += static_cast<int>(n.dynamic_ports.size());
    }
  }
  for (const auto& n : group.networks) {
    for (const auto& p : n.reserved_ports) a.static_ports.push_back(p.value);
    a.dynamic_ports += static_cast<int>(n.dynamic_ports.size());
  }
  if (!group.networks.empty() && jobspec::is_cni_mode(group.networks.front().mode))
    a.network_mode = group.networks.front().mode;
  for (const auto& v : group.volumes)
    if (v.type == "host") a.host_volumes.insert(v.source);
  a.single_writer_volumes = runner::single_writer_sources(group);
  return a;
}

json ask_to_json(const Ask& ask, const Choice& choice) {
  json out = {{"Cpu", choice.cpu_mhz},
              {"MemoryMB", ask.memory_mb},
              {"StaticPorts", ask.static_ports}};
  if (ask.cores > 0) out["Cores"] = ask.cores;
  if (ask.dynamic_ports > 0) out["DynamicPorts"] = ask.dynamic_ports;
  if (!choice.devices.empty()) out["Devices"] = choice.devices;
  if (!ask.single_writer_volumes.empty()) out["SingleWriterVolumes"] = ask.single_writer_volumes;
  return out;
}

namespace {

// The devices an alloc's "Resources" holds: group id -> instances (anything else ignored).
std::map<std::string, int> devices_held(const json& ask) {
  std::map<std::string, int> out;
  if (auto d = ask.find("Devices"); d != ask.end() && d->is_object())
    for (const auto& [id, n] : d->items())
      if (n.is_number_integer() && n.get<int>() > 0) out[id] += n.get<int>();
  return out;
}

// The volumes an alloc's "Resources" writes to as their single writer.
std::vector<std::string> single_writers_of(const json& ask) {
  std::vector<std::string> out;
  if (auto v = ask.find("SingleWriterVolumes"); v != ask.end() && v->is_array())
    for (const auto& name : *v)
      if (name.is_string()) out.push_back(name.get<std::string>());
  return out;
}

}  // namespace

void NodeUsage::add(const std::string& job_key, const std::string& group, const json& ask) {
  cpu_mhz += ask.value("Cpu", 0);
  memory_mb += ask.value("MemoryMB", 0);
  cores += ask.value("Cores", 0);
  dynamic_ports += ask.value("DynamicPorts", 0);
  for (const auto& [id, n] : devices_held(ask)) devices[id] += n;
  for (const auto& p : ask.value("StaticPorts", json::array()))
    if (p.is_number_integer()) ports.insert(p.get<int>());
  for (const auto& v : single_writers_of(ask)) single_writers[v]++;
  per_job[job_key]++;
  per_group[job_key + "/" + group]++;
}

void NodeUsage::add(const Resident& r, const json& ask) {
  add(r.job_key, r.group, ask);
  Taken t{ask.value("Cpu", 0), ask.value("MemoryMB", 0), ask.value("Cores", 0),
          ask.value("DynamicPorts", 0), {}, devices_held(ask), single_writers_of(ask)};
  if (auto p = ask.find("StaticPorts"); p != ask.end() && p->is_array())
    for (const auto& port : *p)
      if (port.is_number_integer()) t.ports.push_back(port.get<int>());
  Resident held = r;
  held.cpu_mhz = t.cpu_mhz;
  held.memory_mb = t.memory_mb;
  held.cores = t.cores;
  held.devices = t.devices;
  held.ports = t.ports;
  held.dynamic_ports = t.dynamic_ports;
  residents.push_back(std::move(held));
  asks_[r.alloc_id] = std::move(t);
}

void NodeUsage::remove(const std::string& alloc_id) {
  auto it = std::find_if(residents.begin(), residents.end(),
                         [&](const Resident& r) { return r.alloc_id == alloc_id; });
  if (it == residents.end()) return;
  const Taken& ask = asks_[alloc_id];
  cpu_mhz -= ask.cpu_mhz;
  memory_mb -= ask.memory_mb;
  cores -= ask.cores;
  dynamic_ports -= ask.dynamic_ports;
  for (const auto& [id, n] : ask.devices)
    if ((devices[id] -= n) <= 0) devices.erase(id);
  for (int p : ask.ports) ports.erase(p);
  auto drop = [](std::map<std::string, int>& m, const std::string& k) {
    if (--m[k] <= 0) m.erase(k);
  };
  for (const auto& v : ask.single_writers) drop(single_writers, v);
  drop(per_job, it->job_key);
  drop(per_group, it->job_key + "/" + it->group);
  asks_.erase(alloc_id);
  residents.erase(it);
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
  std::vector<const NodeScore*> best;
  for (const auto& [node, s] : scores) best.push_back(&s);
  std::stable_sort(best.begin(), best.end(),
                   [](const NodeScore* a, const NodeScore* b) { return a->norm > b->norm; });
  if (best.size() > kRetainedScores) best.resize(kRetainedScores);
  json scores_json = json::array();
  for (const auto* s : best)
    scores_json.push_back({{"NodeID", s->node_id}, {"Scores", s->scores}, {"NormScore", s->norm}});
  return {{"NodesEvaluated", evaluated},
          {"NodesFiltered", filtered},
          {"NodesExhausted", exhausted},
          {"ConstraintFiltered", constraint_filtered},
          {"DimensionExhausted", dimension_exhausted},
          {"ScoreMetaData", scores_json}};
}

namespace {

// Kept before: a higher score, or the same and a lower node id (to_json's order).
bool ahead(double a_norm, const std::string& a_id, double b_norm, const std::string& b_id) {
  if (std::abs(a_norm - b_norm) > 1e-12) return a_norm > b_norm;
  return a_id < b_id;
}

}  // namespace

bool PlacementMetrics::retains(double norm, const std::string& node_id) const {
  if (scores.size() < kRetainedScores) return true;
  for (const auto& [id, s] : scores)
    if (ahead(norm, node_id, s.norm, id)) return true;
  return false;
}

void PlacementMetrics::retain(NodeScore score) {
  std::string id = score.node_id;
  scores[id] = std::move(score);
  if (scores.size() <= kRetainedScores) return;
  auto worst = scores.begin();
  for (auto it = scores.begin(); it != scores.end(); ++it)
    if (ahead(worst->second.norm, worst->first, it->second.norm, it->first)) worst = it;
  scores.erase(worst);
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

NodeFacts node_facts(const json& node) {
  NodeFacts f;
  f.info = runner::node_info_from_json(node);  // reads the node's ID and Datacenter too
  f.id = f.info.id;
  f.datacenter = f.info.datacenter;
  f.cpu_mhz = node_cpu(node);
  f.memory_mb = node_memory(node);
  const json& resources = node.value("NodeResources", json::object());
  const json& cores = resources.value("Cpu", json::object()).value("ReservableCpuCores", json());
  f.cores = cores.is_array() ? static_cast<int>(cores.size()) : 0;
  f.cores_per_numa_node = f.cores;
  if (cores.is_array()) {
    std::set<int> reservable;
    for (const auto& c : cores)
      if (c.is_number_integer()) reservable.insert(c.get<int>());
    int most = -1;
    for (const auto& [k, v] : f.info.attributes) {
      if (k.rfind("numa.node", 0) != 0 || !k.ends_with(".cores")) continue;
      auto cpus = cgroups::parse_cpus(v);
      if (!cpus) continue;
      int n = 0;
      for (int c : *cpus) n += reservable.count(c) ? 1 : 0;
      most = std::max(most, n);
    }
    if (most >= 0) f.cores_per_numa_node = most;
  }
  const int total_cores = [&] {
    auto it = f.info.attributes.find("cpu.numcores");
    return it == f.info.attributes.end() ? 0 : std::atoi(it->second.c_str());
  }();
  f.mhz_per_core = total_cores > 0 ? f.cpu_mhz / total_cores : 0;
  const int min_dynamic = resources.value("MinDynamicPort", 0),
            max_dynamic = resources.value("MaxDynamicPort", 0);
  if (min_dynamic > 0 && max_dynamic >= min_dynamic) f.dynamic_range = max_dynamic - min_dynamic + 1;
  if (auto d = resources.find("Devices"); d != resources.end() && d->is_array())
    for (const auto& g : *d) {
      if (!g.is_object()) continue;
      DeviceGroup dg;
      dg.id = g.value("Vendor", "") + "/" + g.value("Type", "") + "/" + g.value("Name", "");
      for (const auto& inst : g.value("Instances", json::array()))
        if (inst.is_object() && inst.value("Healthy", false)) dg.healthy++;
      dg.group = g;
      f.devices.push_back(std::move(dg));
    }
  if (auto n = resources.find("Networks"); n != resources.end() && n->is_array())
    for (const auto& net : *n)
      if (net.is_object() && net.contains("Mode") && net["Mode"].is_string())
        f.network_modes.insert(net["Mode"].get<std::string>());
  auto drivers = node.find("Drivers");
  if (drivers != node.end() && drivers->is_object())
    for (const auto& [name, d] : drivers->items())
      if (d.is_object() && d.value("Detected", false) && d.value("Healthy", false))
        f.usable_drivers.insert(name);
  return f;
}

std::optional<DeviceAssignment> assign_devices(const NodeFacts& node, const NodeUsage& usage,
                                               const Ask& ask) {
  DeviceAssignment out;
  auto& taken = out.taken;
  for (const auto& req : ask.devices) {
    const DeviceGroup* best = nullptr;
    runner::DeviceAffinityScore best_score;
    for (const auto& g : node.devices) {
      auto used = usage.devices.find(g.id);
      const int free = g.healthy - (used == usage.devices.end() ? 0 : used->second) - taken[g.id];
      if (free < req.count || !runner::device_group_matches(req, g.group)) continue;
      if (req.affinities.empty()) {
        best = &g;
        break;
      }
      auto s = runner::device_affinity_score(req, g.group);
      if (!best || s.score() > best_score.score()) {
        best = &g;
        best_score = s;
      }
    }
    if (!best) return std::nullopt;
    taken[best->id] += req.count;
    out.matched_weight += best_score.matched;
    out.total_weight += best_score.total;
  }
  std::erase_if(taken, [](const auto& e) { return e.second == 0; });
  return out;
}

const NodeFacts& NodeFactsCache::of(const json& node) {
  auto it = facts_.find(&node);
  if (it == facts_.end()) it = facts_.emplace(&node, node_facts(node)).first;
  return it->second;
}

std::unordered_map<const json*, std::string>& NodeFactsCache::constraints_of(
    const std::string& group) {
  if (group != group_) {
    group_ = group;
    constraints_.clear();
  }
  return constraints_;
}

namespace {

// The constraint the node fails whatever is placed on it: datacenters, drivers, a CNI network,
// the job's and group's constraints, node pool, host volumes. "" when none.
std::string static_refusal(const jobspec::Job& job, std::size_t group, const NodeFacts& node,
                           const Ask& ask) {
  if (!in_datacenters(job, node.datacenter)) return "datacenter";
  for (const auto& d : ask.drivers)
    if (!node.usable_drivers.count(d)) return "missing drivers";
  if (!ask.network_mode.empty() && !node.network_modes.count(ask.network_mode))
    return "missing network";
  // A device request no group of the node could ever meet (too few healthy instances, or
  // none of that name and attributes), whatever else runs there.
  if (!ask.devices.empty() && !assign_devices(node, NodeUsage{}, ask)) return "missing devices";
  if (ask.cores > node.cores) return "cores";
  // The agent picks the cores; a node whose NUMA nodes are all smaller can never hold them.
  if (ask.numa_cores > node.cores_per_numa_node) return "numa: cores on one NUMA node";
  for (const auto& p : runner::placement_problems(job, node.info, /*whole_job_here=*/false))
    if (concerns_group(p.path, group)) return constraint_name(p);
  return "";
}

// The rest: what is placed on the node now (distinct_hosts, ports, cpu, memory).
Infeasible usage_refusal(const jobspec::Job& job, std::size_t group, const NodeFacts& node,
                         const NodeUsage& usage, const Ask& ask) {
  Infeasible out;
  // distinct_hosts: the scheduler's part, counted over what this job has on the node.
  const auto& g = job.groups[group];
  if (!usage.per_job.empty()) {
    const std::string jk = job.namespace_name + "/" + job.id;
    if (has_distinct_hosts(job.placement.constraints) && usage.per_job.count(jk)) {
      out.constraint = "distinct_hosts";
      return out;
    }
    if (has_distinct_hosts(g.placement.constraints) && usage.per_group.count(jk + "/" + g.name)) {
      out.constraint = "distinct_hosts";
      return out;
    }
  }
  for (int p : ask.static_ports)
    if (usage.ports.count(p)) {
      out.dimension = "network: reserved port collision";
      return out;
    }
  // The agent picks dynamic ports from its range; a node whose range the allocs there have
  // used up takes no more (Nomad's words).
  if (ask.dynamic_ports > 0 && node.dynamic_range > 0 &&
      usage.dynamic_ports + ask.dynamic_ports > node.dynamic_range) {
    out.dimension = "network: dynamic port selection failed";
    return out;
  }
  if (ask.cores > 0 && usage.cores + ask.cores > node.cores) {
    out.dimension = "cores";
    return out;
  }
  if (usage.cpu_mhz + ask.cpu_mhz + ask.cores * node.mhz_per_core > node.cpu_mhz) {
    out.dimension = "cpu";
    return out;
  }
  if (usage.memory_mb + ask.memory_mb > node.memory_mb) {
    out.dimension = "memory";
    return out;
  }
  // One writer at a time (Nomad's hostVolumeIsAvailable): blocked until the writer there goes.
  for (const auto& v : ask.single_writer_volumes)
    if (usage.single_writers.count(v)) {
      out.dimension = "host volume \"" + v + "\" has its single writer";
      return out;
    }
  if (!ask.devices.empty() && !assign_devices(node, usage, ask)) out.dimension = "devices";
  return out;
}

// Preemption for what select_preemptions does not weigh (devices, cores, a static port), as
// Nomad's PreemptForDevice and PreemptForNetwork: the lower-priority allocs (10 or more below)
// that hold some of it, lowest priority first and within one the most held first, evicted one
// by one until the ask fits; then those the later ones made needless are kept running.
std::optional<std::vector<std::string>> preempt_until_fits(const jobspec::Job& job,
                                                           std::size_t group,
                                                           const NodeFacts& node,
                                                           const NodeUsage& used, const Ask& ask,
                                                           const std::string& dimension) {
  // The node's device groups some request of the ask could use.
  std::set<std::string> wanted;
  for (const auto& g : node.devices)
    for (const auto& req : ask.devices)
      if (runner::device_group_matches(req, g.group)) wanted.insert(g.id);
  auto holds = [&](const Resident& r) -> int {
    if (dimension == "cores") return r.cores;
    if (dimension == "devices") {
      int n = 0;
      for (const auto& [id, count] : r.devices)
        if (wanted.count(id)) n += count;
      return n;
    }
    if (dimension == "network: dynamic port selection failed") return r.dynamic_ports;
    int n = 0;  // a port collision
    for (int p : r.ports)
      n += std::count(ask.static_ports.begin(), ask.static_ports.end(), p) > 0;
    return n;
  };
  std::vector<std::pair<const Resident*, int>> candidates;
  for (const auto& r : used.residents)
    if (job.priority - r.priority >= 10)
      if (int n = holds(r); n > 0) candidates.push_back({&r, n});
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    if (a.first->priority != b.first->priority) return a.first->priority < b.first->priority;
    return a.second > b.second;
  });
  NodeUsage after = used;
  std::vector<const Resident*> chosen;
  bool met = false;
  for (const auto& [r, n] : candidates) {
    after.remove(r->alloc_id);
    chosen.push_back(r);
    if (!usage_refusal(job, group, node, after, ask).any()) {
      met = true;
      break;
    }
  }
  if (!met) return std::nullopt;
  // Nomad's filterSuperset in spirit: the first evicted, put back, may not be needed now.
  std::vector<std::string> out;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    NodeUsage trial = after;
    const Resident& r = *chosen[i];
    json back = {{"Cpu", r.cpu_mhz}, {"MemoryMB", r.memory_mb}, {"Cores", r.cores},
                 {"Devices", r.devices}, {"StaticPorts", r.ports},
                 {"DynamicPorts", r.dynamic_ports}};
    trial.add(r, back);
    if (!usage_refusal(job, group, node, trial, ask).any())
      after = std::move(trial);
    else
      out.push_back(r.alloc_id);
  }
  return out;
}

// check_node with the node's facts, and its static verdict from `known` when there.
Infeasible check_facts(const jobspec::Job& job, std::size_t group, const json& node,
                       const NodeFacts& facts, const NodeUsage& usage, const Ask& ask,
                       std::unordered_map<const json*, std::string>& known) {
  auto it = known.find(&node);
  if (it == known.end()) it = known.emplace(&node, static_refusal(job, group, facts, ask)).first;
  if (!it->second.empty()) {
    Infeasible out;
    out.constraint = it->second;
    return out;
  }
  return usage_refusal(job, group, facts, usage, ask);
}

// `core_mhz`: what one reserved core takes of the node's cpu (the ask's cores count at that).
double fit_score(int node_cpu_mhz, int node_memory_mb, const NodeUsage& usage, const Ask& ask,
                 const std::string& algorithm, int core_mhz = 0) {
  double cpu = std::max(1, node_cpu_mhz), mem = std::max(1, node_memory_mb);
  double free_cpu = 1.0 - (usage.cpu_mhz + ask.cpu_mhz + ask.cores * core_mhz) / cpu;
  double free_mem = 1.0 - (usage.memory_mb + ask.memory_mb) / mem;
  // structs.ScoreFitBinPack: 20 - (10^freeCpu + 10^freeMem); ScoreFitSpread: that sum - 2;
  // either in 0..18, normalised.
  double total = std::pow(10.0, free_cpu) + std::pow(10.0, free_mem);
  double score = std::clamp(algorithm == "spread" ? total - 2.0 : 20.0 - total, 0.0, 18.0);
  return score / 18.0;
}

}  // namespace

Infeasible check_node(const jobspec::Job& job, std::size_t group, const json& node,
                      const NodeUsage& usage, const Ask& ask) {
  std::unordered_map<const json*, std::string> known;
  return check_facts(job, group, node, node_facts(node), usage, ask, known);
}

double binpack_score(const json& node, const NodeUsage& usage, const Ask& ask,
                     const std::string& algorithm) {
  return fit_score(node_cpu(node), node_memory(node), usage, ask, algorithm);
}

std::optional<double> anti_affinity_score(int collisions, int desired_count) {
  if (collisions <= 0 || desired_count <= 0) return std::nullopt;
  return -1.0 * (collisions + 1) / desired_count;
}

namespace {

// What ranking needs of the job and group, worked out once per alloc placed.
struct GroupRanking {
  std::string group_key;  // "<ns>/<job>/<group>"
  std::vector<jobspec::Affinity> affinities;
  std::vector<SpreadCount> spreads;
  bool device_affinities = false;  // a task's device request has affinities
};

GroupRanking group_ranking(const jobspec::Job& job, std::size_t group,
                           const std::vector<const json*>& nodes,
                           const std::map<std::string, NodeUsage>& usage,
                           const RankOptions& options, NodeFactsCache& facts) {
  GroupRanking r;
  r.group_key = job.namespace_name + "/" + job.id + "/" + job.groups[group].name;
  r.affinities = affinities_of(job, group);
  for (const auto& t : job.groups[group].tasks)
    for (const auto& d : t.resources.devices) r.device_affinities |= !d.affinities.empty();
  r.spreads = spreads_of(job, group);
  if (r.spreads.empty()) return r;
  auto count_on = [&](const json& node) {
    const NodeFacts& f = facts.of(node);
    auto u = usage.find(f.id);
    if (u == usage.end()) return;
    auto c = u->second.per_group.find(r.group_key);
    if (c != u->second.per_group.end()) count_allocs(r.spreads, f.info, c->second);
  };
  if (options.all_nodes) {
    for (const auto& [id, node] : *options.all_nodes) count_on(node);
  } else {
    for (const json* node : nodes) count_on(*node);
  }
  return r;
}

// Nomad's rank iterators on one feasible node: each scorer, and the final score, the mean of
// those that apply (bin-packing always; the others when not zero, as Nomad appends them).
// Numbers only: most nodes are not among the few whose scores are kept (spelled_out).
struct RawScore {
  double binpack = 0;
  std::optional<double> anti_affinity, penalty, affinity, spread, preemption, devices;
  double norm = 0;
};

RawScore score_node(const jobspec::Job& job, std::size_t group, const NodeFacts& node,
                    const NodeUsage& used, const Ask& ask, const GroupRanking& r,
                    const RankOptions& options, const std::vector<int>& preempted_priorities) {
  RawScore out;
  double sum = 0;
  int n = 0;
  auto add = [&](std::optional<double>& slot, double score) {
    slot = score;
    sum += score;
    ++n;
  };
  out.binpack =
      fit_score(node.cpu_mhz, node.memory_mb, used, ask, options.algorithm, node.mhz_per_core);
  sum += out.binpack;
  ++n;
  if (!used.per_group.empty()) {
    auto c = used.per_group.find(r.group_key);
    if (auto aa = anti_affinity_score(c == used.per_group.end() ? 0 : c->second,
                                      job.groups[group].count))
      add(out.anti_affinity, *aa);
  }
  if (!options.penalty_nodes.empty() && options.penalty_nodes.count(node.id))
    add(out.penalty, -1.0);
  if (!r.affinities.empty() || !r.spreads.empty()) {
    if (auto a = node_affinity_score(r.affinities, node.info)) add(out.affinity, *a);
    if (auto s = spread_score(r.spreads, node.info)) add(out.spread, *s);
  }
  if (!preempted_priorities.empty())
    add(out.preemption, preemption_score(preempted_priorities));
  // Nomad's "devices" score: how well the device groups the alloc would take suit its device
  // requests' affinities, when any has one.
  if (r.device_affinities)
    if (auto d = assign_devices(node, used, ask); d && d->total_weight > 0)
      add(out.devices, d->matched_weight / d->total_weight);
  out.norm = sum / n;
  return out;
}

// Nomad's NodeScoreMeta of a kept node; a scorer that did not apply shows as 0 (anti-affinity,
// the penalty and affinity, as Nomad shows them) or not at all (spread, preemption).
NodeScore spelled_out(const std::string& node_id, const RawScore& raw) {
  NodeScore out;
  out.node_id = node_id;
  out.scores["binpack"] = raw.binpack;
  out.scores["job-anti-affinity"] = raw.anti_affinity.value_or(0);
  out.scores["node-reschedule-penalty"] = raw.penalty.value_or(0);
  out.scores["node-affinity"] = raw.affinity.value_or(0);
  if (raw.spread) out.scores["allocation-spread"] = *raw.spread;
  if (raw.preemption) out.scores["preemption"] = *raw.preemption;
  if (raw.devices) out.scores["devices"] = *raw.devices;
  out.norm = raw.norm;
  return out;
}

// One pass over the candidates, with or without preemption.
std::optional<Choice> rank(const jobspec::Job& job, std::size_t group,
                           const std::vector<const json*>& nodes,
                           const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                           const RankOptions& options, const GroupRanking& r, bool preempt,
                           NodeFactsCache& facts, PlacementMetrics& metrics) {
  static const NodeUsage kEmpty;
  static const std::map<std::string, int> kNone;
  auto& known = facts.constraints_of(r.group_key);
  std::optional<Choice> best;
  double best_score = -1e9;
  // Nomad's LimitIterator: `limit` feasible nodes are ranked; up to kMaxSkip of them scoring
  // 0 or less (a node already running the group, a penalised one) are set aside for later
  // ones, and count only when the sweep runs out first.
  constexpr std::size_t kMaxSkip = 3;
  const std::size_t n = nodes.size();
  const std::size_t limit = options.limit ? options.limit : n;
  std::size_t ranked = 0;
  struct Skipped {
    const std::string* id;
    const NodeFacts* facts;
    std::vector<std::string> evicted;
    NodeUsage after;
    bool scored_after;
    double score;
  };
  std::vector<Skipped> skipped;
  auto consider = [&](const std::string& id, const NodeFacts& f, std::vector<std::string> evicted,
                      const NodeUsage& scored, double s) {
    ++ranked;
    if (!best || s > best_score + 1e-12 ||
        (std::abs(s - best_score) <= 1e-12 && id < best->node_id)) {
      best = Choice{id, std::move(evicted), ask.cpu_mhz + ask.cores * f.mhz_per_core, {}};
      if (!ask.devices.empty())
        if (auto d = assign_devices(f, scored, ask)) best->devices = std::move(d->taken);
      best_score = s;
    }
  };
  for (std::size_t k = 0; k < n && ranked < limit; ++k) {
    const json* node = nodes[(options.start + k) % n];
    const NodeFacts& f = facts.of(*node);
    const std::string& id = f.id;
    auto u = usage.find(id);
    const NodeUsage& used = u == usage.end() ? kEmpty : u->second;
    metrics.evaluated++;
    auto why = check_facts(job, group, *node, f, used, ask, known);
    if (!why.constraint.empty()) {
      metrics.filtered++;
      metrics.constraint_filtered[why.constraint]++;
      continue;
    }
    std::vector<std::string> evicted;
    std::vector<int> priorities;
    NodeUsage after;
    const NodeUsage* scored = &used;
    if (!why.dimension.empty()) {
      // cpu and memory as Nomad's PreemptForTaskGroup; devices, cores and ports as its
      // PreemptForDevice and PreemptForNetwork.
      std::optional<std::vector<std::string>> evict;
      if (preempt && (why.dimension == "cpu" || why.dimension == "memory"))
        evict = select_preemptions(
            {job.priority, ask.cpu_mhz + ask.cores * f.mhz_per_core, ask.memory_mb,
             f.cpu_mhz - used.cpu_mhz, f.memory_mb - used.memory_mb},
            used.residents, options.preempted ? *options.preempted : kNone);
      else if (preempt)
        evict = preempt_until_fits(job, group, f, used, ask, why.dimension);
      if (evict) {
        after = used;
        for (const auto& a : *evict) {
          for (const auto& res : used.residents)
            if (res.alloc_id == a) priorities.push_back(res.priority);
          after.remove(a);
        }
        // The freed room must take the whole ask (a port held by a resident stays taken).
        if (check_facts(job, group, *node, f, after, ask, known).any()) evict.reset();
      }
      if (!evict) {
        metrics.exhausted++;
        metrics.dimension_exhausted[why.dimension]++;
        continue;
      }
      evicted = std::move(*evict);
      scored = &after;
    }
    const RawScore score = score_node(job, group, f, *scored, ask, r, options, priorities);
    const double s = score.norm;
    if (metrics.retains(s, id)) metrics.retain(spelled_out(id, score));
    if (limit < n && s <= 0 && skipped.size() < kMaxSkip) {
      skipped.push_back({&id, &f, std::move(evicted), scored == &after ? after : NodeUsage{},
                         scored == &after, s});
      continue;
    }
    consider(id, f, std::move(evicted), *scored, s);
  }
  for (auto& k : skipped) {
    if (ranked >= limit) break;
    auto u = usage.find(*k.id);
    const NodeUsage& used = k.scored_after ? k.after : u == usage.end() ? kEmpty : u->second;
    consider(*k.id, *k.facts, std::move(k.evicted), used, k.score);
  }
  return best;
}

}  // namespace

std::size_t candidate_limit(std::size_t nodes, bool affinities_or_spreads) {
  if (affinities_or_spreads) return 0;
  std::size_t log2 = 0;
  while ((std::size_t{1} << log2) < nodes) ++log2;
  return std::max(log2, kRankedAtLeast);
}

std::size_t rotation_start(const std::string& alloc_name) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: the same on every server
  for (unsigned char c : alloc_name) h = (h ^ c) * 1099511628211ULL;
  return static_cast<std::size_t>(h);
}

std::optional<Choice> choose_node(const jobspec::Job& job, std::size_t group,
                                  const std::vector<const json*>& nodes,
                                  const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                  const RankOptions& options, PlacementMetrics& metrics) {
  NodeFactsCache own;
  NodeFactsCache& facts = options.facts ? *options.facts : own;
  const GroupRanking r = group_ranking(job, group, nodes, usage, options, facts);
  auto best = rank(job, group, nodes, usage, ask, options, r, /*preempt=*/false, facts, metrics);
  if (best || !options.preempt) return best;
  // Nomad's selectNextOption: only when nothing fits as it is, the stack runs again with
  // preemption; the metrics of that run are kept when it places.
  PlacementMetrics again;
  best = rank(job, group, nodes, usage, ask, options, r, /*preempt=*/true, facts, again);
  if (best) metrics = std::move(again);
  return best;
}

std::optional<std::string> pick_node(const jobspec::Job& job, std::size_t group,
                                     const std::vector<const json*>& nodes,
                                     const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                     PlacementMetrics& metrics) {
  auto c = choose_node(job, group, nodes, usage, ask, RankOptions{}, metrics);
  if (!c) return std::nullopt;
  return c->node_id;
}

}  // namespace drover::server
