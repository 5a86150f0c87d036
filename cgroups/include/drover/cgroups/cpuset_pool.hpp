// CpusetPool: the node's reservable cores and which owner (an "<alloc_id>.<task>") holds each.
// A core is never given to two owners; reservations persist through to_json/from_json so an
// agent restart keeps them. The pool knows which NUMA node each core is on and places a
// reservation by Nomad's numa affinity (docs/cgroups.md, "NUMA"). Thread-safe.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cgroups {

// "0-1,3" ↔ {0, 1, 3}. parse_cpus fails on anything but a cpu list.
Result<std::vector<int>> parse_cpus(const std::string& text);
std::string format_cpus(std::vector<int> cpus);

// Nomad's `numa { affinity }`: none bin-packs the cores onto the NUMA nodes with the fewest
// free, prefer takes them from as few nodes as it can, require from one node or not at all.
enum class NumaAffinity { None, Prefer, Require };
// "none", "prefer", "require" ("" is none); nullopt for anything else.
std::optional<NumaAffinity> numa_affinity_from_string(const std::string& s);

// The host's NUMA nodes and their cpus, from <dir>/node<N>/cpulist; empty when the kernel
// shows none (no NUMA support: one node, as the pool treats it).
std::map<int, std::vector<int>> read_numa_nodes(
    const std::filesystem::path& dir = "/sys/devices/system/node");

// Which NUMA nodes may hold a reservation kept on one node (the node of a task's devices,
// docs/cgroups.md, "NUMA"); empty: any.
using NodeFilter = std::function<bool(int node)>;

class CpusetPool {
 public:
  explicit CpusetPool(std::vector<int> cores);
  CpusetPool(CpusetPool&& other);
  // The host's online cpus (/sys/devices/system/cpu/online) minus `reserved` ("0" or "").
  static Result<CpusetPool> from_host(
      const std::string& reserved = "",
      const std::filesystem::path& online = "/sys/devices/system/cpu/online",
      const std::filesystem::path& numa_dir = "/sys/devices/system/node");

  // Which NUMA node each core is on (node -> its cpus; cores of no node are on node 0).
  void set_numa_nodes(const std::map<int, std::vector<int>>& nodes);

  // `n` free cores for `owner`, placed by `affinity` (lowest first within a node). An owner
  // that already holds cores gets the same ones back when it asks for as many. On shortage
  // (or no node with `n` free under require): an error saying how many were asked and what
  // is free; nothing is reserved. `on` narrows the nodes prefer and require keep all `n` on
  // (prefer spans nodes when none of them has room, as it does without a filter).
  Result<std::vector<int>> reserve(const std::string& owner, int n,
                                   NumaAffinity affinity = NumaAffinity::None,
                                   const NodeFilter& on = {});
  void release(const std::string& owner);

  // One owner's cores as can_reserve_all weighs them.
  struct Ask {
    std::string owner;
    int n = 0;
    NumaAffinity affinity = NumaAffinity::None;
    NodeFilter on;
  };
  // Whether every ask could be reserved now, beside today's reservations, placed as reserve()
  // places them, the biggest first; nothing is reserved. The error is reserve()'s for the
  // first ask that finds no place.
  Status can_reserve_all(std::vector<Ask> asks) const;
  std::vector<int> reserved_by(const std::string& owner) const;
  std::vector<int> cores() const;  // all reservable cores
  std::vector<int> free() const;   // the shared pool: cores no owner holds
  // Free cores per NUMA node (every node of the pool, 0 when all are held).
  std::map<int, int> free_per_node() const;
  // The NUMA nodes `cores` are on.
  std::vector<int> nodes_of(const std::vector<int>& cores) const;

  // {"cores":[0,1],"reservations":{"owner":[0]}}.
  nlohmann::json to_json() const;
  // Restores reservations saved by to_json; refuses (changing nothing) reservations of cores
  // this pool lacks or cores held twice.
  Status from_json(const nlohmann::json& saved);

 private:
  using Owners = std::map<std::string, std::vector<int>>;
  std::vector<int> free_locked(const Owners& owners) const;  // free(), with mutex_ held
  // The free cores of each NUMA node, lowest first, with mutex_ held.
  std::map<int, std::vector<int>> free_by_node_locked(const Owners& owners) const;
  // Where reserve() puts `n` cores for a new `owner` beside `owners`, with mutex_ held.
  Result<std::vector<int>> place_locked(const Owners& owners, const std::string& owner, int n,
                                        NumaAffinity affinity, const NodeFilter& on) const;
  int node_of(int core) const;

  mutable std::mutex mutex_;
  std::vector<int> cores_;
  Owners owners_;
  std::map<int, int> node_of_;  // core -> NUMA node; a core not here is on node 0
};

}  // namespace drover::cgroups
