// The task hooks of today (runner/task_hook.hpp), one file each.
#pragma once

#include <memory>

#include "runner/task_hook.hpp"

namespace drover::runner {

// Builds the task's dir (local/, secrets/, tmp/), owned by the task's user.
class TaskDirHook final : public TaskHook {
 public:
  const char* name() const override { return "task_dir"; }
  Status prestart(TaskHookContext& c) override;

 private:
  bool recorded_ = false;  // "Building Task Directory" is said once, not at every restart
};

// A dispatched job's payload, written to the task's `dispatch_payload { file }` under its
// local/ dir before each start, never outside it (fs/beneath.hpp).
class DispatchPayloadHook final : public TaskHook {
 public:
  const char* name() const override { return "dispatch_payload"; }
  Status prestart(TaskHookContext& c) override;
};

// The task's cgroup with its limits and reserved cores (docs/cgroups.md); released, with
// whatever the task left in it, once the task ended.
class CgroupHook final : public TaskHook {
 public:
  const char* name() const override { return "cgroup"; }
  Status prestart(TaskHookContext& c) override;
  void exited(TaskHookContext& c) override;
};

// The devices the task asks for, reserved from the device plugins; their env, mounts and
// device nodes go into the start request.
class DevicesHook final : public TaskHook {
 public:
  const char* name() const override { return "devices"; }
  Status prestart(TaskHookContext& c) override;
  void exited(TaskHookContext& c) override;
};

// The task's volume_mounts as bind mounts of the node's host volumes (docs/jobspec.md,
// "volumes"), added to the start request's mounts.
class VolumesHook final : public TaskHook {
 public:
  const char* name() const override { return "volumes"; }
  Status prestart(TaskHookContext& c) override;
};

// The driver's private per-task dir (monitor socket, exit status): outside the alloc dir,
// where the task cannot write.
class StateDirHook final : public TaskHook {
 public:
  const char* name() const override { return "state_dir"; }
  Status prestart(TaskHookContext& c) override;
};

// Persists a "Starting" handle before the driver acts, and the driver's handle after: an
// agent that dies in between finds the first, which recovery resolves through the driver
// (found running, or never started), never starting the task twice (docs/design.md,
// "Recovery").
class StartingHandleHook final : public TaskHook {
 public:
  const char* name() const override { return "starting_handle"; }
  Status prestart(TaskHookContext& c) override;
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
};

// The task's `template` blocks (docs/templates.md): rendered beneath the task dir before each
// start (env templates join the start request's env), then watched while the task runs: when
// what a template read changes, it is written again and its change_mode acts (restart,
// signal, script, noop).
class TemplateHook final : public TaskHook {
 public:
  TemplateHook();
  ~TemplateHook() override;
  const char* name() const override { return "template"; }
  Status prestart(TaskHookContext& c) override;
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
  void exited(TaskHookContext& c) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace drover::runner
