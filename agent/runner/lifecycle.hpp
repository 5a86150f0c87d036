// The order of an alloc's tasks (Nomad's task lifecycle, docs/nomad-compat.md "Task
// lifecycle"): prestart tasks run to completion while prestart sidecars start; then the main
// tasks, and poststart tasks once every main task runs; when the main tasks are dead (or the
// leader is, or a task failed, or the alloc is stopped) sidecars and poststart tasks are
// stopped; then poststop tasks run. A pure state machine: it reads task states and says what
// to start and what to stop; the alloc runner does it. Unit-tested without processes.
#pragma once

#include <string>
#include <vector>

#include "state/alloc.hpp"

namespace drover::runner {

enum class TaskRole { Prestart, PrestartSidecar, Main, Poststart, Poststop };

// What the lifecycle needs to know of one task.
struct LifecycleTask {
  std::string name;
  TaskRole role = TaskRole::Main;
  bool leader = false;
  state::TaskPhase state = state::TaskPhase::Pending;
  bool failed = false;
  bool ever_started = false;  // started_at is set: it ran at least once
  bool has_runner = false;    // started (or being started) by the alloc runner
};

// One thing to do: start the tasks of a role that have no runner yet and are not dead, or
// stop those of a role that have one (and mark dead those of it that have none: they will
// not run now).
struct LifecycleAction {
  enum class Kind { Start, Stop } kind;
  TaskRole role;
  std::string reason;      // for Stop: the kill reason, empty for the default
  std::string event_type;  // for Stop: the event recorded on each task, empty for none
  bool operator==(const LifecycleAction&) const = default;
};

class Lifecycle {
 public:
  enum class Phase { Prestart, Main, MainDone, Poststop, Done };

  // For an alloc recovered after an agent restart: it resumes in the phase it was in (past
  // prestart once a main task has run, or every prestart task is dead).
  void resume(const std::vector<LifecycleTask>& tasks);

  // Moves through the phases as far as `tasks` allow; returns the actions in order, applying
  // their immediate effect to `tasks` as the caller will to its own: a Start gives the role's
  // live tasks a runner, a Stop marks dead the role's tasks that have none. `stopping`: the alloc was asked to stop, with `stop_reason`.
  std::vector<LifecycleAction> advance(std::vector<LifecycleTask>& tasks, bool stopping,
                                       const std::string& stop_reason);

  Phase phase() const { return phase_; }
  // Poststop tasks that have not started never will (the alloc ran out its max_run_duration,
  // as Nomad skips them then).
  void skip_poststop() { skip_poststop_ = true; }

 private:
  Phase phase_ = Phase::Prestart;
  bool skip_poststop_ = false;
  bool killed_main_ = false, killed_sidecars_ = false, leader_seen_dead_ = false;
};

}  // namespace drover::runner
