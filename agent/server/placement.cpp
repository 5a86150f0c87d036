// Feasibility and ranking of nodes for one alloc; see placement.hpp.
#include "server/placement.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>

#include "runner/constraints.hpp"
#include "server/affinity_score.hpp"
#include "server/spread_score.hpp"

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

void NodeUsage::add(const Resident& r, const json& ask) {
  add(r.job_key, r.group, ask);
  residents.push_back(r);
  asks_[r.alloc_id] = ask;
}

void NodeUsage::remove(const std::string& alloc_id) {
  auto it = std::find_if(residents.begin(), residents.end(),
                         [&](const Resident& r) { return r.alloc_id == alloc_id; });
  if (it == residents.end()) return;
  const json& ask = asks_[alloc_id];
  cpu_mhz -= ask.value("Cpu", 0);
  memory_mb -= ask.value("MemoryMB", 0);
  for (const auto& p : ask.value("StaticPorts", json::array()))
    if (p.is_number_integer()) ports.erase(p.get<int>());
  auto drop = [](std::map<std::string, int>& m, const std::string& k) {
    if (--m[k] <= 0) m.erase(k);
  };
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

double binpack_score(const json& node, const NodeUsage& usage, const Ask& ask,
                     const std::string& algorithm) {
  double cpu = std::max(1, node_cpu(node)), mem = std::max(1, node_memory(node));
  double free_cpu = 1.0 - (usage.cpu_mhz + ask.cpu_mhz) / cpu;
  double free_mem = 1.0 - (usage.memory_mb + ask.memory_mb) / mem;
  // structs.ScoreFitBinPack: 20 - (10^freeCpu + 10^freeMem); ScoreFitSpread: that sum - 2;
  // either in 0..18, normalised.
  double total = std::pow(10.0, free_cpu) + std::pow(10.0, free_mem);
  double score = std::clamp(algorithm == "spread" ? total - 2.0 : 20.0 - total, 0.0, 18.0);
  return score / 18.0;
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
};

GroupRanking group_ranking(const jobspec::Job& job, std::size_t group,
                           const std::vector<const json*>& nodes,
                           const std::map<std::string, NodeUsage>& usage,
                           const RankOptions& options) {
  GroupRanking r;
  r.group_key = job.namespace_name + "/" + job.id + "/" + job.groups[group].name;
  r.affinities = affinities_of(job, group);
  r.spreads = spreads_of(job, group);
  if (r.spreads.empty()) return r;
  auto count_on = [&](const json& node) {
    auto u = usage.find(node.value("ID", ""));
    if (u == usage.end()) return;
    auto c = u->second.per_group.find(r.group_key);
    if (c != u->second.per_group.end())
      count_allocs(r.spreads, runner::node_info_from_json(node), c->second);
  };
  if (options.all_nodes) {
    for (const auto& [id, node] : *options.all_nodes) count_on(node);
  } else {
    for (const json* node : nodes) count_on(*node);
  }
  return r;
}

// Nomad's rank iterators on one feasible node: each scorer by name, and the final score, the
// mean of those that apply (bin-packing always; the others when not zero, as Nomad appends
// them; anti-affinity and affinity are shown as 0 when they do not apply, as Nomad shows them).
NodeScore score_node(const jobspec::Job& job, std::size_t group, const json& node,
                     const NodeUsage& used, const Ask& ask, const GroupRanking& r,
                     const RankOptions& options, const std::vector<int>& preempted_priorities) {
  NodeScore out;
  out.node_id = node.value("ID", "");
  double sum = 0;
  int n = 0;
  auto add = [&](const char* name, double score) {
    out.scores[name] = score;
    sum += score;
    ++n;
  };
  add("binpack", binpack_score(node, used, ask, options.algorithm));
  auto c = used.per_group.find(r.group_key);
  if (auto aa =
          anti_affinity_score(c == used.per_group.end() ? 0 : c->second, job.groups[group].count))
    add("job-anti-affinity", *aa);
  else
    out.scores["job-anti-affinity"] = 0;
  if (options.penalty_nodes.count(out.node_id))
    add("node-reschedule-penalty", -1.0);
  else
    out.scores["node-reschedule-penalty"] = 0;
  if (!r.affinities.empty() || !r.spreads.empty()) {
    const auto info = runner::node_info_from_json(node);
    if (auto a = node_affinity_score(r.affinities, info))
      add("node-affinity", *a);
    else
      out.scores["node-affinity"] = 0;
    if (auto s = spread_score(r.spreads, info)) add("allocation-spread", *s);
  } else {
    out.scores["node-affinity"] = 0;
  }
  if (!preempted_priorities.empty()) add("preemption", preemption_score(preempted_priorities));
  out.norm = sum / n;
  return out;
}

// One pass over the candidates, with or without preemption.
std::optional<Choice> rank(const jobspec::Job& job, std::size_t group,
                           const std::vector<const json*>& nodes,
                           const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                           const RankOptions& options, const GroupRanking& r, bool preempt,
                           PlacementMetrics& metrics) {
  static const NodeUsage kEmpty;
  static const std::map<std::string, int> kNone;
  std::optional<Choice> best;
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
    Choice choice{id, {}};
    std::vector<int> priorities;
    NodeUsage after;
    const NodeUsage* scored = &used;
    if (!why.dimension.empty()) {
      // Only cpu and memory are preempted for, as Nomad's PreemptForTaskGroup.
      std::optional<std::vector<std::string>> evict;
      if (preempt && (why.dimension == "cpu" || why.dimension == "memory"))
        evict = select_preemptions(
            {job.priority, ask.cpu_mhz, ask.memory_mb, node_cpu(*node) - used.cpu_mhz,
             node_memory(*node) - used.memory_mb},
            used.residents, options.preempted ? *options.preempted : kNone);
      if (evict) {
        after = used;
        for (const auto& a : *evict) {
          for (const auto& res : used.residents)
            if (res.alloc_id == a) priorities.push_back(res.priority);
          after.remove(a);
        }
        // The freed room must take the whole ask (a port held by a resident stays taken).
        if (check_node(job, group, *node, after, ask).any()) evict.reset();
      }
      if (!evict) {
        metrics.exhausted++;
        metrics.dimension_exhausted[why.dimension]++;
        continue;
      }
      choice.preempted = *evict;
      scored = &after;
    }
    NodeScore score = score_node(job, group, *node, *scored, ask, r, options, priorities);
    const double s = score.norm;
    metrics.scores[id] = std::move(score);
    if (!best || s > best_score + 1e-12 ||
        (std::abs(s - best_score) <= 1e-12 && id < best->node_id)) {
      best = std::move(choice);
      best_score = s;
    }
  }
  return best;
}

}  // namespace

std::optional<Choice> choose_node(const jobspec::Job& job, std::size_t group,
                                  const std::vector<const json*>& nodes,
                                  const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                  const RankOptions& options, PlacementMetrics& metrics) {
  const GroupRanking r = group_ranking(job, group, nodes, usage, options);
  auto best = rank(job, group, nodes, usage, ask, options, r, /*preempt=*/false, metrics);
  if (best || !options.preempt) return best;
  // Nomad's selectNextOption: only when nothing fits as it is, the stack runs again with
  // preemption; the metrics of that run are kept when it places.
  PlacementMetrics again;
  best = rank(job, group, nodes, usage, ask, options, r, /*preempt=*/true, again);
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
