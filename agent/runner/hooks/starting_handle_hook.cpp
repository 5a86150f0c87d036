#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

// The driver's own handle replaces this one in the write that records Started (the task
// runner's record_with_handle): until then, recovery resolves the Starting handle through the
// driver.
Status StartingHandleHook::prestart(TaskHookContext& c) {
  // Without it, an agent that died during the start could not tell a task that never started
  // from one that did: refuse to start rather than risk starting it twice.
  // The task's state not yet written (its Task Setup event) goes in the same write.
  // The first start of a task the lifecycle starts first has it already, stored with the
  // placement (AllocRunner::starting_handles_ahead): one write fewer on the start's path; its
  // Task Setup event goes with Started then, as a crash before it begins the start again.
  if (c.alloc.take_starting_stored(c.task.name)) return {};
  return c.alloc.put_starting_handle(
      c.task.name, AllocRunner::starting_handle(c.spec.state_dir, c.spec.runtime_dir, c.spec.kill_signal));
}

}  // namespace drover::runner
