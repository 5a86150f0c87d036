#include <spdlog/spdlog.h>

#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

Status StartingHandleHook::prestart(TaskHookContext& c) {
  // Without it, an agent that died during the start could not tell a task that never started
  // from one that did: refuse to start rather than risk starting it twice.
  return c.alloc.ctx().store->put_handle(c.alloc.id(), c.task.name,
                                         {{"Starting", true},
                                          {"StartingAt", state::now_ns()},
                                          {"StateDir", c.spec.state_dir},
                                          {"RuntimeDir", c.spec.runtime_dir},
                                          {"KillSignal", c.spec.kill_signal}});
}

void StartingHandleHook::poststart(TaskHookContext& c, const nlohmann::json& handle) {
  // A failure here leaves the Starting handle, which recovery resolves through the driver.
  if (auto st = c.alloc.ctx().store->put_handle(c.alloc.id(), c.task.name, handle); !st)
    spdlog::error("alloc {} task {}: {}", c.alloc.id(), c.task.name, st.message());
}

}  // namespace drover::runner
