// The task hooks of today (runner/task_hook.hpp), one file each.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
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

// The driver's private per-task runtime dir (monitor socket, exit record, bundle) under the
// agent's runtime_dir: outside the alloc dir, where the task cannot write.
class StateDirHook final : public TaskHook {
 public:
  const char* name() const override { return "state_dir"; }
  Status prestart(TaskHookContext& c) override;
};

// Persists a "Starting" handle before the driver acts; the task runner stores the driver's
// handle after, in the write that records Started. An agent that dies in between finds the
// first, which recovery resolves through the driver (found running, or never started), never
// starting the task twice (docs/design.md, "Recovery").
class StartingHandleHook final : public TaskHook {
 public:
  const char* name() const override { return "starting_handle"; }
  Status prestart(TaskHookContext& c) override;
};

// The task's services (and its group's, for the group's main task) in the service catalog
// while it runs (runner/hooks/services_hook.cpp): registered once started (or recovered),
// deregistered before the kill signal and its shutdown_delay, and once it exited.
class ServicesHook final : public TaskHook {
 public:
  const char* name() const override { return "services"; }
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
  void recovered(TaskHookContext& c, const nlohmann::json& handle) override;
  void prekill(TaskHookContext& c) override;
  void exited(TaskHookContext& c) override;

 private:
  void register_all(TaskHookContext& c, const nlohmann::json& handle);
  void deregister_all(TaskHookContext& c);

  std::mutex mu_;  // prekill runs on the stopper's thread
  std::vector<std::string> registered_;  // ids in the catalog
  bool consul_said_ = false;  // the Consul event is recorded once per task
};

// The task's workload identities (Nomad's `identity` blocks, docs/variables.md): each a JWT in
// its env var (NOMAD_TOKEN, NOMAD_TOKEN_<name>) and/or file (secrets/nomad_token,
// secrets/nomad_<name>.jwt). One with a ttl is signed anew two thirds into each token's life
// while the task runs, after which its change_mode acts. The default identity stops working
// when the alloc ends.
class IdentityHook final : public TaskHook {
 public:
  IdentityHook();
  ~IdentityHook() override;
  const char* name() const override { return "identity"; }
  Status prestart(TaskHookContext& c) override;
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
  void recovered(TaskHookContext& c, const nlohmann::json& handle) override;
  void exited(TaskHookContext& c) override;

 private:
  void start_renewer(TaskHookContext& c);
  struct State;
  std::unique_ptr<State> state_;
};

// The task's artifacts (docs/artifacts.md), fetched into its task dir before its first start
// and never again for the same alloc: a restart finds them there. Events "Downloading
// Artifacts" and "Failed Artifact Download", as Nomad's.
class ArtifactHook final : public TaskHook {
 public:
  const char* name() const override { return "artifact"; }
  Status prestart(TaskHookContext& c) override;
};

// The task's `template` blocks (docs/templates.md): rendered beneath the task dir before each
// start (env templates join the start request's env), then watched while the task runs: when
// what a template read changes, it is written again and its change_mode acts (restart,
// signal, script, noop). A task found running after an agent restart is watched again from
// the files as the last agent left them.
class TemplateHook final : public TaskHook {
 public:
  TemplateHook();
  ~TemplateHook() override;
  const char* name() const override { return "template"; }
  Status prestart(TaskHookContext& c) override;
  void poststart(TaskHookContext& c, const nlohmann::json& handle) override;
  void recovered(TaskHookContext& c, const nlohmann::json& handle) override;
  void exited(TaskHookContext& c) override;

 private:
  // Watches the templates that read data, `env` being the task's start env.
  void start_watcher(TaskHookContext& c, std::map<std::string, std::string> env);
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace drover::runner
