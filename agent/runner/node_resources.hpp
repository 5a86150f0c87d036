// The node's resources as the agent hands them out: whether an alloc fits what is left
// (cpu MHz, memory, reservable cores), each task's cgroup with its limits (created before the
// task's first instruction, removed when it ends), exclusive cores from the cpuset pool
// (persisted, so a restart keeps them), OOM kills, and each task's stats from the one
// collector that reads every task cgroup once per collection_interval.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/cgroups/cgroups.hpp"
#include "drover/cgroups/cpuset_pool.hpp"
#include "drover/common/result.hpp"
#include "drover/common/work_thread.hpp"
#include "drover/sdk/task_spec.hpp"
#include "jobspec/job.hpp"
#include "runner/stats_collector.hpp"
#include "state/alloc.hpp"

namespace drover::state {
class StateStore;
}

namespace drover::runner {

class DeviceManager;
class PortAllocator;

struct NodeCapacity {
  int64_t cpu_mhz = 0;    // total compute minus reserved
  int64_t memory_mb = 0;  // total memory minus reserved
  int64_t default_pids_max = 4096;  // per task when the job sets none (a fork bomb stays inside)
};

// `cgroup_favor_dynmods`, applied once at agent start before any task is placed: when `want`,
// remounts the host's cgroup2 mount with favordynmods (docs/cgroups.md) and logs what it did
// or why it could not; never turns it off. Sets the node attribute os.cgroups.favordynmods
// ("true"/"false") to what the kernel has afterwards, whoever set it.
void apply_favor_dynmods(const cgroups::HostInfo& host, bool want,
                         std::map<std::string, std::string>& attributes);

class NodeResources {
 public:
  NodeResources(std::unique_ptr<cgroups::Manager> cgroups, cgroups::CpusetPool pool,
                state::StateStore* store, NodeCapacity capacity);

  // Whether `groups` (with their counts) fit beside `live` allocs. The error says what is
  // short: "memory: 300 MB asked, 120 MB free of 1024 MB".
  Status fits(const std::vector<std::pair<const jobspec::TaskGroup*, int>>& groups,
              const std::vector<const jobspec::TaskGroup*>& live) const;

  // Creates the task's cgroup with its limits and reserves its cores; returns what the
  // driver's start call gets (TaskSpec's cgroup and cpuset).
  struct PreparedCgroup {
    sdk::TaskCgroup cgroup;
    std::string cpuset;  // "": the task's cores are not reserved
  };
  Result<PreparedCgroup> prepare_cgroup(const std::string& alloc_id, const jobspec::Task& task);

  // The same made ahead, on a thread of its own, while the alloc's start goes on (its alloc
  // dir, the task runner's thread, the hooks before the cgroup's): the cgroup is ready when
  // the task's cgroup hook asks for it (docs/cgroups.md, "Made ahead"). Only for a task
  // that reserves no cores, since a cgroup made ahead and never taken would hold them.
  struct Ahead {
    std::string alloc_id;
    std::string task;
    std::future<Result<PreparedCgroup>> result;
  };
  // `job` keeps `task` alive while the thread works.
  std::shared_ptr<Ahead> prepare_ahead(const std::string& alloc_id,
                                       std::shared_ptr<const jobspec::Job> job,
                                       const jobspec::Task& task);
  // Waits for the cgroup made ahead; what prepare_cgroup would have returned.
  Result<PreparedCgroup> take_ahead(Ahead& ahead) { return ahead.result.get(); }
  // Waits for it and removes it: its task will not run (the alloc failed or was stopped
  // first, or the task died before its cgroup hook).
  void discard_ahead(Ahead& ahead);
  // Reserves the devices the task asks for: {"Devices": [...], "Mounts": [...],
  // "DeviceIDs": [...], "Env": {...}} (DeviceManager::reserve).
  Result<nlohmann::json> reserve_devices(const std::string& alloc_id, const jobspec::Task& task);
  // Whether the kernel OOM-killed something in the task's cgroup.
  bool oom_killed(const std::string& alloc_id, const std::string& task) const;
  // The task runs inside its cgroup now: its stats are read afresh (none from before).
  void task_started(const std::string& alloc_id, const std::string& task);
  // Kills what is left in the task's cgroup, removes it, releases its cores.
  void release_cgroup(const std::string& alloc_id, const std::string& task);
  void release_devices(const std::string& alloc_id, const std::string& task);
  // Both of the above.
  void release_task(const std::string& alloc_id, const std::string& task);
  // The collector's latest sample of the task's cgroup; fails saying why there is none.
  Result<StatsSample> stats(const std::string& alloc_id, const std::string& task);
  // Reads stats of the task cgroups in `live` ("<alloc>.<task>") that exist: the tasks
  // recovered at agent start, whose cgroups were created by an earlier run.
  void track_recovered(const std::set<std::string>& live);
  // Starts reading every task's stats once per `interval` (the agent's collection_interval).
  void start_stats(std::chrono::nanoseconds interval) { stats_.start(interval); }
  // Removes the task cgroups of allocs `ours` claims that are not in `live`; a cgroup of an
  // alloc that is not ours (another agent's, on the same parent) is left alone.
  void cleanup_orphans(const std::set<std::string>& live,
                       const std::function<bool(const std::string& alloc_id)>& ours);

  // Devices come from plugins loaded after the node's cgroups are set up.
  void set_devices(DeviceManager* devices) { devices_ = devices; }
  DeviceManager* devices() const { return devices_; }
  // The node's ports (runner/port_allocator.hpp); null: jobs with ports do not fit.
  void set_ports(const PortAllocator* ports) { ports_ = ports; }
  const PortAllocator* ports() const { return ports_; }

  const cgroups::HostInfo& host() const { return cgroups_->host(); }
  // The agent's parent cgroup, when it is its own and every task cgroup is gone.
  Status remove_parent_cgroup() { return cgroups_->remove_parent(); }
  const NodeCapacity& capacity() const { return capacity_; }
  std::vector<int> reservable_cores() const { return pool_.cores(); }

  static std::string cgroup_name(const std::string& alloc_id, const std::string& task) {
    return alloc_id + "." + task;
  }

 private:
  void persist_pool();
  // The NUMA nodes where a task's `numa { devices }` find free instances now; empty without.
  cgroups::NodeFilter devices_filter(const jobspec::Task& t) const;
  // Each task's cores as the pool will be asked for them at its start, one ask per alloc.
  std::vector<cgroups::CpusetPool::Ask> core_asks(
      const std::vector<std::pair<const jobspec::TaskGroup*, int>>& groups) const;

  std::unique_ptr<cgroups::Manager> cgroups_;
  cgroups::CpusetPool pool_;
  state::StateStore* store_;
  NodeCapacity capacity_;
  DeviceManager* devices_ = nullptr;
  const PortAllocator* ports_ = nullptr;
  StatsCollector stats_;  // its thread stops before the cgroups manager goes
  WorkThread ahead_;      // last: what it was given runs before anything above goes
};

}  // namespace drover::runner
