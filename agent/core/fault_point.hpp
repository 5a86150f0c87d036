// Test-only fault points: when DROVER_FAULT names a point, the agent kills itself with SIGKILL
// right there, so tests can prove that a crash at any step of an alloc's start or stop loses
// nothing and runs nothing twice (docs/threat-model.md, "Faults to survive"). Unset, it costs one
// pointer compare.
#pragma once

namespace drover {

// Points: "alloc_persisted", "before_task_start", "after_task_start", "handle_persisted",
// "during_stop".
void fault_point(const char* name);

}  // namespace drover
