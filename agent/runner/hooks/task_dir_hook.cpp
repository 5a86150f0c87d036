#include "drover/loader/registry.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status TaskDirHook::prestart(TaskHookContext& c) {
  if (!recorded_) {
    recorded_ = true;
    // Written with the Starting handle: a crash before it begins the start again anyway.
    c.record_unwritten({state::event::kTaskSetup, 0, "Building Task Directory"});
  }
  // The task's dirs belong to the user it runs as: the job's, or its driver's default.
  const auto& t = c.task;
  auto* driver = c.alloc.ctx().plugins ? c.alloc.ctx().plugins->driver(t.driver) : nullptr;
  auto user = !t.user.empty() ? t.user : driver ? driver->default_user() : std::string();
  return c.alloc.dir().build_task(t.name, user);
}

}  // namespace drover::runner
