// What every alloc and task runner shares: the state store, the drivers, the node.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>

#include "artifact/limits.hpp"
#include "runner/cni_config.hpp"
#include "runner/task_env.hpp"
#include "state/alloc.hpp"

namespace drover::state {
class StateStore;
}
namespace drover::plugins {
class PluginRegistry;
}
namespace drover::catalog {
class Catalog;
}
namespace drover::vars {
class VariableStore;
class WorkloadIdentity;
}  // namespace drover::vars

namespace drover::runner {

class AllocIndex;
class ExitWatcher;
class JobAdmission;
class NodeResources;
class StepTimings;

struct RunnerContext {
  state::StateStore* store = nullptr;
  plugins::PluginRegistry* plugins = nullptr;
  // Cgroups, cores and fit; null only in tests that run tasks without limits.
  NodeResources* resources = nullptr;
  NodeInfo node;
  std::filesystem::path data_dir;
  // Per-task runtime state goes under <runtime_dir>/tasks/<alloc>/<task> (AgentConfig's
  // runtime_dir, tmpfs by intent); empty: <data_dir>/run.
  std::filesystem::path runtime_dir;
  std::filesystem::path runtime_root() const { return runtime_dir.empty() ? data_dir / "run" : runtime_dir; }
  // The task monitor binary that raw_exec and exec run each task under.
  std::filesystem::path monitor_path;
  std::chrono::nanoseconds max_kill_timeout = std::chrono::seconds(30);
  // Called after every change of an alloc (task state, client status, desired status, health),
  // with a snapshot, outside the runner's locks: the upstream reporter and event stream.
  std::function<void(const state::Alloc&)> on_alloc_change;
  // How long one driver wait call blocks before the runner looks at its flags again.
  std::chrono::milliseconds wait_slice = std::chrono::milliseconds(500);
  // Waits on every running task's exit descriptor in one thread; null: runners wait in their
  // own threads.
  ExitWatcher* exit_watcher = nullptr;
  // The check every job passes before it runs, whichever way it came (runner/admission.hpp).
  const JobAdmission* admission = nullptr;
  // Where running tasks register their services (catalog/catalog.hpp); null: nowhere.
  catalog::Catalog* catalog = nullptr;
  // Signs each task's workload identity (vars/workload_identity.hpp); null: tasks get none.
  const vars::WorkloadIdentity* identity = nullptr;
  // Nomad Variables, for the hooks that read them (templates); null in tests without them.
  vars::VariableStore* variables = nullptr;
  // Each start step's time, for /v1/metrics (runner/step_timings.hpp); null: not counted.
  StepTimings* step_timings = nullptr;
  // The node's alloc index, stamped on every alloc change (runner/alloc_index.hpp); set by
  // the AllocManager, which owns it.
  AllocIndex* alloc_index = nullptr;
  // The agent config's artifact block: what the artifact hook may fetch, and how much.
  artifact::Limits artifact_limits;
  // Where the CNI plugins and network configs are (cni_path, cni_config_dir).
  CniSettings cni;
};

}  // namespace drover::runner
