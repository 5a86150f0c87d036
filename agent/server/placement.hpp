// Where a task group may go and how good each node is: feasibility (datacenters, node pool
// and constraints by the agent's own code, drivers present and healthy, host volumes, static
// ports, cpu, memory, reserved cores and devices left) and ranking as Nomad's rank iterators do it: bin-packing (or
// its inverse under the `spread` algorithm), job anti-affinity, node affinity
// (affinity_score.hpp), allocation spread (spread_score.hpp) and, when nothing fits, the
// preemption of lower-priority allocs (preemption.hpp), averaged into one final score.
// Pure functions of the Node JSON and what is placed there, so they are unit tested alone.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "jobspec/job.hpp"
#include "runner/task_env.hpp"
#include "server/preemption.hpp"

namespace drover::server {

// What one alloc of a group takes from a node.
struct Ask {
  int cpu_mhz = 0;
  int memory_mb = 0;
  int cores = 0;  // resources.cores: whole cores held for the alloc alone
  std::vector<int> static_ports;
  int dynamic_ports = 0;  // how many; the agent picks them from its node's range
  std::set<std::string> drivers;
  std::set<std::string> host_volumes;  // host_volume names (VolumeRequest.source)
  // Of those, the ones written as their single writer (runner::single_writer_sources).
  std::vector<std::string> single_writer_volumes;
  std::vector<jobspec::DeviceRequest> devices;  // every task's, each met by one device group
  // The group network's mode when the node must offer it: "cni/<name>" (Nomad's
  // NetworkChecker); "" for host, bridge and none.
  std::string network_mode;
  // The most cores one task asks for on a single NUMA node (numa affinity require); 0: none.
  int numa_cores = 0;
};
Ask ask_of(const jobspec::TaskGroup& group);

// A node's device group (Nomad's NodeDeviceResource) as placement counts it.
struct DeviceGroup {
  std::string id;      // "<vendor>/<type>/<name>"
  int healthy = 0;     // healthy instances
  nlohmann::json group;  // as the node reported it, for the requests' names and constraints
};

// What the allocs already on a node take, and which jobs (and groups) they belong to.
struct NodeUsage {
  int cpu_mhz = 0;
  int memory_mb = 0;
  int cores = 0;
  std::map<std::string, int> devices;  // device group id -> instances held
  std::set<int> ports;
  int dynamic_ports = 0;
  std::map<std::string, int> per_job;    // "<ns>/<job>" -> allocs
  std::map<std::string, int> per_group;  // "<ns>/<job>/<group>" -> allocs
  // Host volume name -> allocs writing to it as its single writer ("SingleWriterVolumes").
  std::map<std::string, int> single_writers;
  std::vector<Resident> residents;       // the allocs added with an id: preemption's candidates
  void add(const std::string& job_key, const std::string& group, const nlohmann::json& ask);
  // The same, kept as a resident that preemption may evict.
  void add(const Resident& r, const nlohmann::json& ask);
  // Takes a resident off again (it was preempted): its resources and counts are free.
  void remove(const std::string& alloc_id);

 private:
  struct Taken {
    int cpu_mhz = 0, memory_mb = 0, cores = 0, dynamic_ports = 0;
    std::vector<int> ports;
    std::map<std::string, int> devices;
    std::vector<std::string> single_writers;
  };
  std::map<std::string, Taken> asks_;  // alloc id -> what it takes, for remove
};

// One candidate's scores, Nomad's NodeScoreMeta: every scorer by name ("binpack",
// "job-anti-affinity", "node-reschedule-penalty", "node-affinity", "allocation-spread",
// "preemption") and the final score.
struct NodeScore {
  std::string node_id;
  std::map<std::string, double> scores;
  double norm = 0;
};

// Why nodes were not chosen, in Nomad's AllocMetric shape (FailedTGAllocs of an evaluation).
struct PlacementMetrics {
  int evaluated = 0, filtered = 0, exhausted = 0;
  std::map<std::string, int> constraint_filtered;  // "missing drivers", "${attr.x} = y", ...
  std::map<std::string, int> dimension_exhausted;  // "cpu", "memory", "network: port collision"
  // ScoreMetaData keeps Nomad's top few (MaxRetainedNodeScores), best first; so `scores`
  // holds only those, by node id: the best kRetainedScores feasible nodes (ties: lower id).
  static constexpr std::size_t kRetainedScores = 5;
  std::map<std::string, NodeScore> scores;
  // Whether a node scoring `norm` would be kept (before its scores are spelled out).
  bool retains(double norm, const std::string& node_id) const;
  void retain(NodeScore score);
  nlohmann::json to_json() const;
  // "constraint filtered 2 nodes; dimension \"memory\" exhausted on 1 node"
  std::string summary() const;
};

// What placement reads of a node, worked out once per plan rather than once per node per
// alloc placed: at 1,000 nodes a plan of 10,000 allocs looks at a node ten million times.
struct NodeFacts {
  std::string id, datacenter;
  runner::NodeInfo info;  // what constraints, affinities and spreads are judged against
  int cpu_mhz = 0, memory_mb = 0;
  int cores = 0;         // NodeResources.Cpu.ReservableCpuCores
  int mhz_per_core = 0;  // what a reserved core takes of cpu_mhz
  int dynamic_range = 0;  // ports in [MinDynamicPort, MaxDynamicPort]; 0: not reported
  std::set<std::string> usable_drivers;  // detected and healthy
  std::vector<DeviceGroup> devices;      // NodeResources.Devices
  std::set<std::string> network_modes;   // NodeResources.Networks[].Mode ("cni/<name>", ...)
  // The most reservable cores on one NUMA node (numa.node<N>.cores); `cores` without them.
  int cores_per_numa_node = 0;
};
NodeFacts node_facts(const nlohmann::json& node);

// Facts by node, for one plan (the node JSON must outlive it), and for the group being placed
// the constraint each node fails for good ("" when none): the static half of feasibility,
// which no placement changes.
class NodeFactsCache {
 public:
  const NodeFacts& of(const nlohmann::json& node);
  // The static verdicts of one "<ns>/<job>/<group>"; asking for another forgets the last's.
  std::unordered_map<const nlohmann::json*, std::string>& constraints_of(const std::string& group);
  // The leader keeps one from pass to pass (scheduler.hpp, LeaderMemory): it forgets a node
  // whose key or control changed, everything after a whole read (clear), and the verdicts at
  // the start of each plan (a job's spec may have changed under the same group key).
  void forget(const nlohmann::json* node) { facts_.erase(node); }
  void new_plan() {
    group_.clear();
    constraints_.clear();
  }
  void clear() {
    facts_.clear();
    new_plan();
  }

 private:
  std::unordered_map<const nlohmann::json*, NodeFacts> facts_;
  std::string group_;
  std::unordered_map<const nlohmann::json*, std::string> constraints_;
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
// Under the `spread` algorithm, structs.ScoreFitSpread: emptier is better.
double binpack_score(const nlohmann::json& node, const NodeUsage& usage, const Ask& ask,
                     const std::string& algorithm = "binpack");
// Nomad's job anti-affinity: -(collisions+1)/desired when the node already runs allocs of the
// job's group, else none.
std::optional<double> anti_affinity_score(int collisions, int desired_count);

struct RankOptions {
  std::string algorithm = "binpack";  // the cluster's scheduler algorithm: binpack | spread
  // Every node by id, where the group's allocs are counted for its spreads (the candidates
  // alone when null: a system job's one node).
  const std::map<std::string, nlohmann::json>* all_nodes = nullptr;
  // When no node fits as it is: evict lower-priority allocs (the job type's preemption is on).
  bool preempt = false;
  // Allocs this plan already preempts per "<job key>/<group>" (Nomad's max_parallel penalty).
  const std::map<std::string, int>* preempted = nullptr;
  // Nodes a replacement should avoid: where the alloc it replaces ran, and before it, where
  // that one's own predecessors failed (Nomad's node-reschedule-penalty, -1 there).
  std::set<std::string> penalty_nodes;
  // The plan's node facts (a fresh cache per call when null).
  NodeFactsCache* facts = nullptr;
  // Nomad's limit iterator: rank this many feasible nodes, not all (0: all; candidate_limit),
  // visiting the candidates from `start` round (a deterministic stand-in for Nomad's shuffle,
  // so two servers planning from one state still choose alike).
  std::size_t limit = 0;
  std::size_t start = 0;
};

// How many feasible nodes one placement ranks among `nodes` candidates (Nomad's stack:
// ceil(log2 n), but at least kRankedAtLeast, so that a small cluster is ranked whole; every
// node where the group has affinities or spreads, whose scores only a whole pass can weigh).
// docs/cluster.md, "Placement".
inline constexpr std::size_t kRankedAtLeast = 16;
std::size_t candidate_limit(std::size_t nodes, bool affinities_or_spreads);
// Where the rotation of candidates starts for one alloc: a hash of its name, so that the
// allocs of one group look at different nodes first, and every server agrees.
std::size_t rotation_start(const std::string& alloc_name);

struct Choice {
  std::string node_id;
  std::vector<std::string> preempted;  // alloc ids to evict for it, on that node
  int cpu_mhz = 0;                     // the ask's cpu there: its MHz and its cores' share
  std::map<std::string, int> devices;  // the device groups its requests take there
};

// What an alloc placed by `choice` holds of its node, as its "Resources" (and NodeUsage::add)
// read it: {"Cpu", "MemoryMB", "Cores", "StaticPorts", "DynamicPorts" (how many),
// "Devices": {group id: instances}}.
nlohmann::json ask_to_json(const Ask& ask, const Choice& choice);

// The device group each of `ask`'s requests takes on the node, given what `usage` holds there
// (one group per request, as Nomad's device allocator: the one its affinities score highest,
// the first on a tie): group id -> instances, and the affinities' weights matched and in all
// (Nomad's "devices" score is matched / total); nullopt when a request finds no group with
// that many free healthy instances.
struct DeviceAssignment {
  std::map<std::string, int> taken;
  double matched_weight = 0, total_weight = 0;
};
std::optional<DeviceAssignment> assign_devices(const NodeFacts& node, const NodeUsage& usage,
                                               const Ask& ask);

// The best feasible node for one alloc (ties go to the lower node id, so that two servers
// planning from the same state choose the same), filling `metrics`; nullopt when none fits,
// even with preemption where allowed.
std::optional<Choice> choose_node(const jobspec::Job& job, std::size_t group,
                                  const std::vector<const nlohmann::json*>& nodes,
                                  const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                  const RankOptions& options, PlacementMetrics& metrics);
// choose_node with bin-packing and no preemption: the node id.
std::optional<std::string> pick_node(const jobspec::Job& job, std::size_t group,
                                     const std::vector<const nlohmann::json*>& nodes,
                                     const std::map<std::string, NodeUsage>& usage, const Ask& ask,
                                     PlacementMetrics& metrics);

// Node capacity from Node.NodeResources.
int node_cpu(const nlohmann::json& node);
int node_memory(const nlohmann::json& node);

}  // namespace drover::server
