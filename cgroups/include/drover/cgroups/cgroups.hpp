// drover::cgroups: the one header the agent needs to hold tasks to their resources on
// cgroup v1, v2 and hybrid hosts: detect the mode, create a task cgroup with limits before the
// task runs, read OOM kills and stats, kill everything inside, remove it. See docs/cgroups.md.
//
// Every root is a parameter so that tests can point the library at a fake cgroupfs tree.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cgroups {

// Hybrid: v1 controllers plus a v2 mount (usually /sys/fs/cgroup/unified) that holds no
// resource controllers; limits are applied through v1, exactly as on V1.
enum class Mode { V1, V2, Hybrid, None };

std::string to_string(Mode mode);  // "v1", "v2", "hybrid", "none"

struct HostInfo {
  Mode mode = Mode::None;
  std::filesystem::path root;         // e.g. /sys/fs/cgroup
  std::set<std::string> controllers;  // usable for limits: v1 hierarchies or v2 cgroup.controllers
  std::filesystem::path unified;      // the v2 mount in Hybrid mode (empty otherwise)
  // V1/Hybrid: each controller's hierarchy directory, e.g. "cpu" -> /sys/fs/cgroup/cpu,cpuacct
  // where cpu and cpuacct are co-mounted. Read once here so that no task start has to look
  // for mounts again.
  std::map<std::string, std::filesystem::path> mounts;
};

// Reads the layout under `root` (no libcgroup call says which mode the host is in), and on
// v1 where each controller is mounted: from the cgroup mounts in `mountinfo` that lie under
// `root`, else (a fake tree in a temp dir) <root>/<controller>.
// Fails only when `root` cannot be read; a root with no hierarchies is Mode::None.
Result<HostInfo> detect(const std::filesystem::path& root = "/sys/fs/cgroup",
                        const std::filesystem::path& mountinfo = "/proc/self/mountinfo");

// Fails, naming what is missing, unless memory and cpu controllers can be used.
Status check_usable(const HostInfo& host);

// cgroup2's `favordynmods` mount option (kernel >= 6.0). Without it the kernel's
// cgroup_threadgroup_rwsem is a per-cpu rwsem: every write lock, which every migration into a
// cgroup takes (v1 and v2 alike), waits for an RCU grace period, milliseconds per task start.
// With it the lock is cheap to take for writing and fork and exit pay a little more, host-wide.
// The option is global to the kernel, whichever cgroup2 mount carries it.
struct DynmodsState {
  std::filesystem::path mount;  // the v2 root or the hybrid unified mount; empty: none found
  bool on = false;
};
DynmodsState favor_dynmods_state(const HostInfo& host,
                                 const std::filesystem::path& mountinfo = "/proc/self/mountinfo");
// Reconfigures that mount with (or without) favordynmods, keeping its other options; nothing
// to do when it already is. Fails saying why: no cgroup2 mount (a pure v1 host), a kernel
// without the option, no permission.
Status set_favor_dynmods(const HostInfo& host, bool on,
                         const std::filesystem::path& mountinfo = "/proc/self/mountinfo");

// A task's resources as the job states them (0 / "" = not set).
struct Limits {
  int cpu_mhz = 0;               // relative weight: v1 cpu.shares, v2 cpu.weight
  std::string cpuset;            // exclusive cores, "0-1,3" (from CpusetPool); "" = shared pool
  int64_t memory_bytes = 0;      // hard limit, or the soft limit when memory_max_bytes is set
  int64_t memory_max_bytes = 0;  // hard limit when set; < 0: none (memory_bytes is then soft)
  int64_t pids_max = 0;          // maximum number of processes
};

// The mapping (docs/cgroups.md, "Resource mapping"; docs/nomad-compat.md, "cgroups").
uint64_t cpu_shares_from_mhz(int mhz);             // clamped to 2..262144
uint64_t cpu_weight_from_shares(uint64_t shares);  // OCI: 1 + ((shares - 2) * 9999) / 262142

struct MemoryStats {
  uint64_t rss = 0, cache = 0, swap = 0, usage = 0, max_usage = 0;
  std::vector<std::string> measured;  // Nomad's names of the fields this host reports
};
struct CpuStats {
  uint64_t user_ns = 0, system_ns = 0, total_ns = 0;
  uint64_t throttled_periods = 0, throttled_time_ns = 0;
  std::vector<std::string> measured;
};
struct Stats {
  MemoryStats memory;
  CpuStats cpu;
  uint64_t pids = 0;
};

class Hierarchy;  // internal: the v1 or v2 implementation

// One task's cgroup. A cheap handle; copying it does not copy the cgroup.
class TaskCgroup {
 public:
  TaskCgroup(std::shared_ptr<Hierarchy> hierarchy, std::string name);

  const std::string& name() const { return name_; }
  // Absolute cgroup.procs paths (v1: one per controller, v2: one). The task monitor writes
  // the task's pid to each before exec, so no instruction of the task runs unconfined.
  std::vector<std::string> procs_files() const;
  // The path below the hierarchy root ("drover/<name>", "drover.slice/<name>.scope"), for
  // runc's cgroupsPath or docker's cgroup parent.
  std::string relative_path() const;
  bool exists() const;
  // Pids now in the cgroup.
  std::vector<pid_t> pids() const;
  // Kills every process inside, daemons and double forks included (v2 cgroup.kill where
  // present, else freeze, SIGKILL each pid, thaw), and waits until the cgroup is empty.
  Status kill_all() const;
  // The kernel's count of OOM kills in this cgroup (v1 memory.oom_control oom_kill,
  // v2 memory.events oom_kill); exit code 137 alone is not proof of OOM.
  uint64_t oom_kill_count() const;
  bool oom_killed() const { return oom_kill_count() > 0; }
  Result<Stats> stats() const;

 private:
  std::shared_ptr<Hierarchy> hierarchy_;
  std::string name_;
};

// How cgroups are made, written and removed (docs/cgroups.md, "How files are written").
enum class Backend {
  PlainFiles,  // mkdir, one write(2) per control file, rmdir: v1, v2 and fake trees
  Libcgroup,   // libcgroup for mkdir / write / rmdir (v1 only): ~6x slower per task created
};

const char* to_string(Backend backend);  // "plain", "libcgroup"
// "plain" or "libcgroup" (the agent's `cgroup_backend`); fails naming the accepted values.
Result<Backend> parse_backend(const std::string& text);

// One per agent: the parent cgroup of every task.
class Manager {
 public:
  // Creates `parent` (a relative path; "drover" on v1, "drover.slice" on v2) in every
  // controller drover uses: v1 cpu, cpuacct, cpuset (cpus and mems copied from above so
  // children can be created), memory, pids, freezer; v2 enables +cpu +memory +pids +cpuset
  // in cgroup.subtree_control along the parent chain.
  static Result<std::unique_ptr<Manager>> open(const HostInfo& host, const std::string& parent,
                                               Backend backend = Backend::PlainFiles);
  ~Manager();

  const HostInfo& host() const { return host_; }
  // Creates the task cgroup `name` ("<alloc_id>.<task>", a plain name) with its limits.
  // A cgroup left from an earlier run under the same name is reused and its limits rewritten.
  Result<TaskCgroup> create(const std::string& name, const Limits& limits);
  // A handle to an existing task cgroup (agent recovery); check exists() before use.
  TaskCgroup find(const std::string& name) const;
  // Names of the task cgroups under the parent (to clean up orphans at start).
  std::vector<std::string> list() const;
  // kill_all, then rmdir in every controller (retrying briefly while the kernel says EBUSY).
  // Removing a cgroup that is not there succeeds.
  Status remove(const std::string& name);
  // rmdir of the parent's own dir in every controller (not the dirs above it): fails, and
  // touches nothing inside, while a task cgroup is still there. For a parent no one else uses.
  Status remove_parent();

 private:
  Manager(HostInfo host, std::shared_ptr<Hierarchy> hierarchy);
  HostInfo host_;
  std::shared_ptr<Hierarchy> hierarchy_;
};

// Stats through directory fds held open (docs/cgroups.md, "Stats"): each control file is
// openat'ed relative to a held fd, so no read walks a path, and a task whose cgroup was
// removed reads as gone rather than as zeros. v1: one fd per distinct hierarchy directory
// that stats read (memory, cpuacct, cpu, pids; co-mounted cpu,cpuacct share one); v2: one.
// A cheap handle; copies share the fds, closed with the last copy.
class StatsReader {
 public:
  // Opens task cgroup `name` under `manager`'s parent; fails when it does not exist.
  static Result<StatsReader> open(const Manager& manager, const std::string& name);
  // Fails, saying so, once the cgroup has been removed.
  Result<Stats> read() const;
  // What read(Since&) keeps between two reads of this cgroup.
  struct Since {
    std::optional<Stats> last;
    std::chrono::steady_clock::time_point memory_stat_at;  // when memory.stat was last read
  };
  // As read(), re-reading only what can have changed since `since.last` (docs/cgroups.md,
  // "Stats"): a task that used no CPU since costs the cpu usage file alone for its cpu
  // figures and pids, and one whose memory usage did not move keeps its memory.stat
  // breakdown (RSS, cache, swap) for up to 10 s. Updates `since`.
  Result<Stats> read(Since& since) const;
  // The pids in the cgroup (one hierarchy's cgroup.procs, sorted); empty once removed.
  std::vector<pid_t> pids() const;

  struct Dirs;  // internal (src/stats.hpp)

 private:
  explicit StatsReader(std::shared_ptr<const Dirs> dirs) : dirs_(std::move(dirs)) {}
  std::shared_ptr<const Dirs> dirs_;
};

}  // namespace drover::cgroups
