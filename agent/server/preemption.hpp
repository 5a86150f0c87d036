// Nomad's preemption for cpu and memory (scheduler/preemption.go): which allocs of lower
// priority to evict from one node so that an alloc of a higher-priority job fits. Only allocs
// whose job's priority is at least 10 below the placing job's are candidates, lowest priority
// first; within a priority the one whose resources are closest to what is still needed goes
// first (a penalty once a group has lost max_parallel allocs); the set is then trimmed of
// allocs the others already cover. Pure functions, unit tested alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace drover::server {

// A live alloc on a node, as preemption sees it.
struct Resident {
  std::string alloc_id, job_key, group;  // job_key "<namespace>/<job id>"
  int priority = 50;                     // its job's
  int max_parallel = 0;                  // its group's migrate max_parallel (0: none)
  int cpu_mhz = 0, memory_mb = 0;
  // What else it holds (NodeUsage::add fills these from its Resources), for preemption for
  // devices, cores and ports (server/placement.cpp).
  int cores = 0;
  std::map<std::string, int> devices;  // device group id -> instances
  std::vector<int> ports;              // static ports
  int dynamic_ports = 0;               // how many
};

struct PreemptionAsk {
  int job_priority = 50;
  int cpu_mhz = 0, memory_mb = 0;     // what the new alloc needs
  int free_cpu = 0, free_memory = 0;  // what the node has left with every resident in place
};

// The allocs to evict, or nullopt when evicting every candidate would still not make room.
// `already` counts the allocs this plan already preempts per "<job key>/<group>".
std::optional<std::vector<std::string>> select_preemptions(
    const PreemptionAsk& ask, const std::vector<Resident>& residents,
    const std::map<std::string, int>& already = {});

// Nomad's preemption score for a node whose placement evicts allocs of these priorities: a
// logistic function of the highest priority plus sum/highest, near 1 for low priorities.
double preemption_score(const std::vector<int>& priorities);

}  // namespace drover::server
