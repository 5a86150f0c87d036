// A task hook: one concern of a task's setup and teardown (its dir, its cgroup, its devices,
// the driver's state dir, the persisted Starting handle), run by the task runner in order
// around the driver's start, after the shape of Nomad's task runner hooks
// (docs/design.md, "Task runner"). New task features (artifacts, templates, volumes,
// networks, services) are new hooks, not new lines in the runner.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"
#include "drover/sdk/task_spec.hpp"
#include "jobspec/job.hpp"
#include "state/alloc.hpp"

namespace drover::runner {

class AllocRunner;

// What a hook works on: the alloc, the task, and the driver's start request being built.
struct TaskHookContext {
  AllocRunner& alloc;
  const jobspec::Task& task;
  sdk::TaskSpec& spec;  // the driver's start request (AllocRunner::task_spec), hooks add to it
  std::function<void(state::TaskEvent)> record;  // appends an event to the task
  // Appends an event shown at once but written with the task's next write (at the latest its
  // Starting handle's): for a step a crash may lose, since the start then begins again.
  std::function<void(state::TaskEvent)> record_unwritten;
};

class TaskHook {
 public:
  virtual ~TaskHook() = default;
  virtual const char* name() const = 0;
  // Before each start of the task. An error stops the start: the hooks that prestarted get
  // exited() in reverse order, and the task fails with a setup failure naming the reason.
  virtual Status prestart(TaskHookContext&) { return {}; }
  // Once the driver started the task and returned its handle.
  virtual void poststart(TaskHookContext&, const nlohmann::json& /*handle*/) {}
  // Once a task that ran before the agent restarted is found running again (its handle
  // recovered); prestart and poststart did not run in this agent for it. `c.spec` is empty.
  virtual void recovered(TaskHookContext&, const nlohmann::json& /*handle*/) {}
  // When the task is to be stopped, before the shutdown_delay wait and the kill signal (Nomad's
  // order: services are deregistered first). May run on another thread than the other calls.
  virtual void prekill(TaskHookContext&) {}
  // After each run of the task ended (and the driver let go of it), or after a start failed
  // past this hook's prestart; also for a task recovered from an earlier agent.
  virtual void exited(TaskHookContext&) {}
};

// The hooks of every task, in the order they run (runner/hooks/task_hooks.cpp).
std::vector<std::unique_ptr<TaskHook>> task_hooks(AllocRunner& alloc, const jobspec::Task& task);

}  // namespace drover::runner
