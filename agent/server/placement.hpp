// Where a task group may go and how good each node is: feasibility (datacenters, node pool
// and constraints by the agent's own code, drivers present and healthy, host volumes, static
// ports, cpu and memory left) and ranking (Nomad's bin-packing score, job anti-affinity).
// Pure functions of the Node JSON and what is placed there, so they are unit tested alone.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobspec/job.hpp"

namespace drover::server {

// What one alloc of a group takes from a node.
struct Ask {
  int cpu_mhz = 0;
  int memory_mb = 0;
  std::vector<int> static_ports;
  std::set<std::string> drivers;
  std::set<std::string> host_volumes;  // host_volume names (VolumeRequest.source)
};
Ask ask_of(const jobspec::TaskGroup& group);
nlohmann::json ask_to_json(const Ask& ask);  // {"Cpu", "MemoryMB", "StaticPorts"}

// What the allocs already on a node take, and which jobs (and groups) they belong to.
struct NodeUsage {
  int cpu_mhz = 0;
  int memory_mb = 0;
  std::set<int> ports;
  std::map<std::string, int> per_job;    // "<ns>/<job>" -> allocs
  std::map<std::string, int> per_group;  // "<ns>/<job>/<group>" -> allocs
  void add(const std::string& job_key, const std::string& group, const nlohmann::json& ask);
};

// Why nodes were not chosen, in Nomad's AllocMetric shape (FailedTGAllocs of an evaluation).
struct PlacementMetrics {
  int evaluated = 0, filtered = 0, exhausted = 0;
  std::map<std::string, int> constraint_filtered;  // "missing drivers", "${attr.x} = y", ...
  std::map<std::string, int> dimension_exhausted;  // "cpu", "memory", "network: port collision"
  std::map<std::string, double> scores;            // node id -> final score, of feasible nodes
  nlohmann::json to_json() const;
  // "constraint filtered 2 nodes; dimension \"memory\" exhausted on 1 node"
  std::string summary() const;
};

// Why `node` cannot take one alloc of job.groups[group] now: empty when it can. Sets exactly
// one of `constraint` (never fits, whatever is placed) or `dimension` (full for now).
struct Infeasible {
  std::string constraint, dimension;
  bool any() const { return !constraint.empty() || !dimension.empty(); }
};
Infeasible check_node(const jobspec::Job& job, std::size_t group, const nlohmann::json& node,
                      const NodeUsage& usage, const Ask& ask);

// Nomad's bin-packing fit (structs.ScoreFitBinPack) normalised to 0..1: fuller is better.
double binpack_score(const nlohmann::json& node, const NodeUsage& usage, const Ask& ask);
// Nomad's job anti-affinity: -(collisions+1)/desired when the node already runs allocs of the
// job's group, else none.
std::optional<double> anti_affinity_score(int collisions, int desired_count);

// The best feasible node for one alloc (ties go to the lower node id, so that two servers
// planning from the same state choose the same), filling `metrics`; nullopt when none fits.
std::optional<std::string> pick_node(const jobspec::Job& job, std::size_t group,
                                     const std::vector<const nlohmann::json*>& nodes,
                                     const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                     PlacementMetrics& metrics);

// Node capacity from Node.NodeResources.
int node_cpu(const nlohmann::json& node);
int node_memory(const nlohmann::json& node);

}  // namespace drover::server
