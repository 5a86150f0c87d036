#include "runner/node_resources.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "runner/device_manager.hpp"
#include "runner/host_volumes.hpp"
#include "state/state_store.hpp"
#include "drover/common/json_text.hpp"

namespace drover::runner {

void apply_favor_dynmods(const cgroups::HostInfo& host, bool want,
                         std::map<std::string, std::string>& attributes) {
  auto before = cgroups::favor_dynmods_state(host);
  if (want && before.on) {
    spdlog::info("cgroup_favor_dynmods: cgroup2 at {} already has favordynmods",
                 before.mount.string());
  } else if (want) {
    if (auto st = cgroups::set_favor_dynmods(host, true); !st)
      spdlog::warn("cgroup_favor_dynmods: left as it was: {}", st.message());
    else
      spdlog::info("cgroup_favor_dynmods: remounted cgroup2 at {} with favordynmods (task "
                   "attach no longer waits for an RCU grace period; fork and exit cost more)",
                   before.mount.string());
  }
  attributes["os.cgroups.favordynmods"] = cgroups::favor_dynmods_state(host).on ? "true" : "false";
}

NodeResources::NodeResources(std::unique_ptr<cgroups::Manager> cgroups, cgroups::CpusetPool pool,
                             state::StateStore* store, NodeCapacity capacity)
    : cgroups_(std::move(cgroups)), pool_(std::move(pool)), store_(store), capacity_(capacity) {
  if (auto saved = store_->meta("cpuset_pool")) {
    auto j = nlohmann::json::parse(*saved, nullptr, false);
    if (!j.is_discarded())
      if (auto st = pool_.from_json(j); !st)
        spdlog::warn("core reservations in the state store were not restored: {}", st.message());
  }
}

void NodeResources::persist_pool() {
  if (auto st = store_->put_meta("cpuset_pool", json_text(pool_.to_json())); !st)
    spdlog::error("persisting core reservations: {}", st.message());
}

namespace {

cgroups::NumaAffinity affinity_of(const jobspec::Task& t) {
  return cgroups::numa_affinity_from_string(t.resources.numa_affinity)
      .value_or(cgroups::NumaAffinity::None);
}

}  // namespace

cgroups::NodeFilter NodeResources::devices_filter(const jobspec::Task& t) const {
  if (t.resources.numa_devices.empty() || !devices_) return {};
  return [this, &t](int node) {
    const NumaBinding numa{node, t.resources.numa_devices};
    return devices_->fits(t.resources.devices, 1, &numa).ok();
  };
}

std::vector<cgroups::CpusetPool::Ask> NodeResources::core_asks(
    const std::vector<std::pair<const jobspec::TaskGroup*, int>>& groups) const {
  std::vector<cgroups::CpusetPool::Ask> asks;
  for (const auto& [g, count] : groups)
    for (const auto& t : g->tasks)
      if (t.resources.cores > 0)
        for (int i = 0; i < count; ++i)
          asks.push_back(
              {"task \"" + t.name + "\"", t.resources.cores, affinity_of(t), devices_filter(t)});
  return asks;
}

Status NodeResources::fits(const std::vector<std::pair<const jobspec::TaskGroup*, int>>& groups,
                           const std::vector<const jobspec::TaskGroup*>& live) const {
  int64_t cpu = 0, mem = 0, cores = 0;
  for (const auto* g : live)
    for (const auto& t : g->tasks) {
      cpu += t.resources.cpu_mhz;
      mem += t.resources.memory_mb;
    }
  int64_t want_cpu = 0, want_mem = 0, want_cores = 0;
  for (const auto& [g, count] : groups)
    for (const auto& t : g->tasks) {
      want_cpu += int64_t{t.resources.cpu_mhz} * count;
      want_mem += int64_t{t.resources.memory_mb} * count;
      want_cores += int64_t{t.resources.cores} * count;
    }
  cores = static_cast<int64_t>(pool_.free().size());
  std::string short_of;
  auto check = [&](const char* what, int64_t want, int64_t used, int64_t total, const char* unit) {
    if (want > total - used)
      short_of += std::string(short_of.empty() ? "" : "; ") + what + ": " + std::to_string(want) +
                  " " + unit + " asked, " + std::to_string(std::max<int64_t>(0, total - used)) +
                  " " + unit + " free of " + std::to_string(total) + " " + unit;
  };
  check("cpu", want_cpu, cpu, capacity_.cpu_mhz, "MHz");
  check("memory", want_mem, mem, capacity_.memory_mb, "MB");
  if (want_cores > cores)
    short_of += std::string(short_of.empty() ? "" : "; ") + "cores: " + std::to_string(want_cores) +
                " asked, " + std::to_string(cores) + " free of " +
                std::to_string(pool_.cores().size()) + " reservable";
  else if (auto placed = pool_.can_reserve_all(core_asks(groups)); !placed)
    short_of += std::string(short_of.empty() ? "" : "; ") + "cores: " + placed.message();
  if (devices_)
    for (const auto& [g, count] : groups)
      for (const auto& t : g->tasks)
        if (auto st = devices_->fits(t.resources.devices, count); !st)
          short_of += std::string(short_of.empty() ? "" : "; ") + st.message();
  // A single-node-single-writer volume takes one writing alloc at a time.
  std::map<std::string, std::pair<int, int>> writers;  // volume -> live writers, wanted
  for (const auto* g : live)
    for (const auto& v : single_writer_sources(*g)) writers[v].first++;
  for (const auto& [g, count] : groups)
    for (const auto& v : single_writer_sources(*g)) writers[v].second += count;
  for (const auto& [v, n] : writers)
    if (n.second > 0 && n.first + n.second > 1)
      short_of += std::string(short_of.empty() ? "" : "; ") + "host volume \"" + v +
                  "\": single-node-single-writer takes one writer at a time; " +
                  std::to_string(n.second) + " asked, " + std::to_string(n.first) + " writing";
  if (!short_of.empty()) return make_error("the job does not fit on this node: " + short_of, Errc::Conflict);
  return {};
}

Result<NodeResources::PreparedCgroup> NodeResources::prepare_cgroup(const std::string& alloc_id,
                                                     const jobspec::Task& task) {
  auto name = cgroup_name(alloc_id, task.name);
  cgroups::Limits limits;
  limits.cpu_mhz = task.resources.cpu_mhz;
  limits.memory_bytes = int64_t{task.resources.memory_mb} << 20;
  limits.memory_max_bytes =
      task.resources.memory_max_mb < 0 ? -1 : int64_t{task.resources.memory_max_mb} << 20;
  limits.pids_max = task.resources.pids > 0 ? task.resources.pids : capacity_.default_pids_max;
  std::string cpuset;
  if (task.resources.cores > 0) {
    // With `numa { devices }`, on a node where those devices are free.
    auto cores = pool_.reserve(name, task.resources.cores, affinity_of(task), devices_filter(task));
    if (!cores) return make_error("reserving " + std::to_string(task.resources.cores) +
                                  " cores: " + cores.message());
    persist_pool();
    cpuset = cgroups::format_cpus(cores.value());
    // A core of the shared pool would not be exclusive: cpu weight only among the reserved.
    limits.cpuset = cpuset;
    if (limits.cpu_mhz == 0) limits.cpu_mhz = 1024;
  } else if (auto shared = pool_.free(); !shared.empty() && shared.size() < pool_.cores().size()) {
    // Tasks without cores stay off the cores others hold exclusively.
    limits.cpuset = cgroups::format_cpus(shared);
  }
  auto cg = cgroups_->create(name, limits);
  if (!cg) {
    pool_.release(name);
    persist_pool();
    return make_error("creating the task's cgroup: " + cg.message());
  }
  // Its stats are read through fds opened at the first sample, off the start's path.
  stats_.track(name, [this, name, alloc_id, task = task.name]() {
    auto reader = cgroups::StatsReader::open(*cgroups_, name);
    if (!reader) spdlog::warn("alloc {} task {}: no stats: {}", alloc_id, task, reader.message());
    return reader;
  });
  PreparedCgroup out;
  out.cgroup.version = host().mode == cgroups::Mode::V2 ? 2 : 1;
  out.cgroup.procs_files = cg->procs_files();
  out.cgroup.relative_path = cg->relative_path();
  // Drivers whose runtime makes its own cgroup (docker, runc) nest it here, inside the
  // task's limits.
  out.cgroup.parent = "/" + cg->relative_path();
  out.cpuset = cpuset;
  return out;
}

std::shared_ptr<NodeResources::Ahead> NodeResources::prepare_ahead(
    const std::string& alloc_id, std::shared_ptr<const jobspec::Job> job, const jobspec::Task& task) {
  auto ahead = std::make_shared<Ahead>();
  ahead->alloc_id = alloc_id;
  ahead->task = task.name;
  auto made = std::make_shared<std::promise<Result<PreparedCgroup>>>();
  ahead->result = made->get_future();
  ahead_.post([this, made, alloc_id, job = std::move(job), &task] {
    made->set_value(prepare_cgroup(alloc_id, task));
  });
  return ahead;
}

void NodeResources::discard_ahead(Ahead& ahead) {
  if (!ahead.result.valid()) return;  // taken
  if (ahead.result.get()) release_cgroup(ahead.alloc_id, ahead.task);
}

Result<nlohmann::json> NodeResources::reserve_devices(const std::string& alloc_id,
                                                      const jobspec::Task& task) {
  if (!devices_) return make_error("the task asks for devices and no device plugin is loaded");
  const auto name = cgroup_name(alloc_id, task.name);
  // `numa { devices }`: on the node of the task's cores, when they are on one (prefer may
  // have spread them, and then the devices go where they are free).
  if (!task.resources.numa_devices.empty()) {
    const auto nodes = pool_.nodes_of(pool_.reserved_by(name));
    if (nodes.size() == 1) {
      const NumaBinding numa{nodes.front(), task.resources.numa_devices};
      auto bound = devices_->reserve(name, task.resources.devices, &numa);
      if (bound || task.resources.numa_affinity == "require") return bound;
    }
  }
  return devices_->reserve(name, task.resources.devices);
}

void NodeResources::release_devices(const std::string& alloc_id, const std::string& task) {
  if (devices_) devices_->release(cgroup_name(alloc_id, task));
}

bool NodeResources::oom_killed(const std::string& alloc_id, const std::string& task) const {
  auto cg = cgroups_->find(cgroup_name(alloc_id, task));
  return cg.exists() && cg.oom_killed();
}

void NodeResources::task_started(const std::string& alloc_id, const std::string& task) {
  stats_.started(cgroup_name(alloc_id, task));
}

void NodeResources::release_cgroup(const std::string& alloc_id, const std::string& task) {
  auto name = cgroup_name(alloc_id, task);
  stats_.untrack(name);
  if (auto st = cgroups_->remove(name); !st)
    spdlog::warn("alloc {} task {}: removing cgroup: {}", alloc_id, task, st.message());
  if (!pool_.reserved_by(name).empty()) {
    pool_.release(name);
    persist_pool();
  }
}

void NodeResources::release_task(const std::string& alloc_id, const std::string& task) {
  release_cgroup(alloc_id, task);
  release_devices(alloc_id, task);
}

Result<StatsSample> NodeResources::stats(const std::string& alloc_id, const std::string& task) {
  auto sample = stats_.latest(cgroup_name(alloc_id, task));
  if (!sample) return make_error("task \"" + task + "\" has no cgroup (not running)");
  return std::move(*sample);
}

void NodeResources::track_recovered(const std::set<std::string>& live) {
  for (const auto& name : live)
    if (auto reader = cgroups::StatsReader::open(*cgroups_, name))
      stats_.track(name, std::move(*reader));
}

void NodeResources::cleanup_orphans(const std::set<std::string>& live,
                                    const std::function<bool(const std::string&)>& ours) {
  int removed = 0, foreign = 0;
  for (const auto& name : cgroups_->list()) {
    if (live.count(name)) continue;
    // "<alloc_id>.<task>" (cgroup_name): the alloc ID is a UUID, without dots.
    if (!ours(name.substr(0, name.find('.')))) {
      ++foreign;
      continue;
    }
    if (auto st = cgroups_->remove(name); !st)
      spdlog::warn("removing orphaned cgroup {}: {}", name, st.message());
    else
      ++removed;
  }
  auto saved = pool_.to_json();
  bool changed = false;
  if (saved.contains("reservations"))
    for (const auto& [owner, _] : saved["reservations"].items())
      if (!live.count(owner)) {
        pool_.release(owner);
        changed = true;
      }
  if (changed) persist_pool();
  if (devices_) devices_->release_all_but(live);
  if (removed) spdlog::info("removed {} orphaned task cgroups", removed);
  if (foreign)
    spdlog::info("left {} task cgroups under the same parent that belong to no alloc of this "
                 "agent's data dir (another agent's)", foreign);
}

}  // namespace drover::runner
