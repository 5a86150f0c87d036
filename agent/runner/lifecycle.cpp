#include "runner/lifecycle.hpp"

#include <algorithm>
#include <functional>

#include "state/alloc.hpp"

namespace drover::runner {
namespace {

using state::TaskPhase;
namespace ev = state::event;

using Pred = std::function<bool(const LifecycleTask&)>;

bool all(const std::vector<LifecycleTask>& tasks, TaskRole role, const Pred& pred) {
  return std::all_of(tasks.begin(), tasks.end(),
                     [&](const LifecycleTask& t) { return t.role != role || pred(t); });
}

bool any(const std::vector<LifecycleTask>& tasks, TaskRole role, const Pred& pred) {
  return std::any_of(tasks.begin(), tasks.end(),
                     [&](const LifecycleTask& t) { return t.role == role && pred(t); });
}

bool dead(const LifecycleTask& t) { return t.state == TaskPhase::Dead; }
bool ok_done(const LifecycleTask& t) { return t.state == TaskPhase::Dead && !t.failed; }
bool failed(const LifecycleTask& t) { return t.failed; }
bool running(const LifecycleTask& t) { return t.state == TaskPhase::Running; }
bool live(const LifecycleTask& t) { return t.state != TaskPhase::Dead; }

}  // namespace

void Lifecycle::resume(const std::vector<LifecycleTask>& tasks) {
  if (all(tasks, TaskRole::Prestart, dead) ||
      any(tasks, TaskRole::Main, [](const LifecycleTask& t) { return t.ever_started; }))
    phase_ = Phase::Main;
}

std::vector<LifecycleAction> Lifecycle::advance(std::vector<LifecycleTask>& tasks, bool stopping,
                                                const std::string& stop_reason) {
  std::vector<LifecycleAction> out;
  auto start = [&](TaskRole role) {
    bool any_new = false;
    for (auto& t : tasks)
      if (t.role == role && !t.has_runner && t.state != TaskPhase::Dead) any_new = t.has_runner = true;
    if (any_new) out.push_back({LifecycleAction::Kind::Start, role, "", ""});
  };
  auto stop = [&](TaskRole role, const std::string& reason, const std::string& type) {
    out.push_back({LifecycleAction::Kind::Stop, role, reason, type});
    // Tasks of the role that have no runner will not run now.
    for (auto& t : tasks)
      if (t.role == role && !t.has_runner) t.state = TaskPhase::Dead;
  };
  for (;;) {
    bool any_failed = std::any_of(tasks.begin(), tasks.end(), failed);
    if (phase_ == Phase::Prestart) {
      if (stopping || any(tasks, TaskRole::Prestart, failed) || any(tasks, TaskRole::PrestartSidecar, failed)) {
        phase_ = Phase::MainDone;
        stop(TaskRole::Prestart, stop_reason, "");
        stop(TaskRole::Main, "", "");
        stop(TaskRole::Poststart, "", "");
        continue;
      }
      if (all(tasks, TaskRole::Prestart, ok_done) && all(tasks, TaskRole::PrestartSidecar, running)) {
        phase_ = Phase::Main;
        start(TaskRole::Main);
        continue;
      }
      // Prestart tasks and their sidecars start together.
      start(TaskRole::Prestart);
      start(TaskRole::PrestartSidecar);
    } else if (phase_ == Phase::Main) {
      start(TaskRole::Main);
      if (all(tasks, TaskRole::Main, running)) start(TaskRole::Poststart);
      // Leader dead: the others are stopped (Nomad's leader semantics).
      for (const auto& t : tasks)
        if (t.leader && t.state == TaskPhase::Dead && !leader_seen_dead_) {
          leader_seen_dead_ = true;
          killed_main_ = true;
          stop(TaskRole::Main, "Leader Task \"" + t.name + "\" is dead", ev::kLeaderDead);
          stop(TaskRole::Poststart, "Leader Task \"" + t.name + "\" is dead", ev::kLeaderDead);
          break;
        }
      if ((stopping || any_failed) && !killed_main_) {
        killed_main_ = true;
        auto reason = stopping ? stop_reason : "Sibling Task Failed";
        std::string type = stopping ? "" : ev::kSiblingFailed;
        stop(TaskRole::Main, reason, type);
        stop(TaskRole::Poststart, reason, type);
        continue;
      }
      if (all(tasks, TaskRole::Main, dead)) {
        phase_ = Phase::MainDone;
        continue;
      }
    } else if (phase_ == Phase::MainDone) {
      // Main tasks are done: sidecars and poststart tasks go, then poststop runs.
      if (!killed_sidecars_) {
        killed_sidecars_ = true;
        stop(TaskRole::Poststart, "Main tasks are dead", ev::kMainDead);
        stop(TaskRole::PrestartSidecar, "Main tasks are dead", ev::kMainDead);
        stop(TaskRole::Prestart, "Main tasks are dead", ev::kMainDead);
        continue;
      }
      if (all(tasks, TaskRole::Poststart, dead) && all(tasks, TaskRole::PrestartSidecar, dead) &&
          all(tasks, TaskRole::Prestart, dead)) {
        phase_ = Phase::Poststop;
        if (skip_poststop_)
          stop(TaskRole::Poststop, "", "");
        else
          start(TaskRole::Poststop);
        continue;
      }
    } else if (phase_ == Phase::Poststop) {
      if (all(tasks, TaskRole::Poststop, dead) || !any(tasks, TaskRole::Poststop, live)) {
        phase_ = Phase::Done;
        continue;
      }
    }
    return out;
  }
}

}  // namespace drover::runner
