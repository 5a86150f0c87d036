#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

Status TaskDirHook::prestart(TaskHookContext& c) {
  if (!recorded_) {
    recorded_ = true;
    c.record({state::event::kTaskSetup, 0, "Building Task Directory"});
  }
  // exec runs tasks as nobody unless the job says otherwise (Nomad's default).
  const auto& t = c.task;
  auto user = !t.user.empty() ? t.user : t.driver == "exec" ? std::string("nobody") : "";
  return c.alloc.dir().build_task(t.name, user);
}

}  // namespace drover::runner
