#include "runner/task_runner.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "drover/loader/registry.hpp"
#include "core/fault_point.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/exit_watcher.hpp"
#include "runner/node_resources.hpp"
#include "runner/step_timings.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

using state::TaskEvent;
using state::TaskState;
namespace ev = state::event;

TaskRunner::TaskRunner(AllocRunner& alloc, const jobspec::Task& task, nlohmann::json recovered_handle)
    : alloc_(alloc),
      task_(task),
      driver_(alloc.ctx().plugins->driver(task.driver)),
      // A lifecycle task that is not a sidecar runs to completion, in a service job too: its
      // success ends it, as in Nomad (docs/nomad-compat.md, "Task lifecycle").
      // A task's own restart block was merged over its group's when the job was read.
      restarts_(task.restart.value_or(alloc.group().restart),
                alloc.batch() || (!task.lifecycle.hook.empty() && !task.lifecycle.sidecar)),
      handle_(std::move(recovered_handle)),
      hooks_(task_hooks(alloc, task)),
      log_name_("alloc " + alloc.id() + " task " + task.name) {}

TaskRunner::~TaskRunner() { join(); }

void TaskRunner::start() {
  std::lock_guard lock(thread_mu_);
  thread_ = DetachedThread([this] { run(); });
}

void TaskRunner::join() {
  uint64_t watch = 0;
  {
    std::lock_guard lock(thread_mu_);
    watch = std::exchange(watch_id_, 0);
  }
  // A parked task is let go (it runs on; recovery finds it); a callback that is running
  // finishes first, and none comes after.
  if (watch) alloc_.ctx().exit_watcher->cancel(watch);
  for (;;) {
    DetachedThread t;
    {
      std::lock_guard lock(thread_mu_);
      t = std::move(thread_);
    }
    if (!t.joinable()) break;
    t.join();
  }
  std::lock_guard lock(mu_);
  if (stopper_.joinable()) stopper_.join();
}

void TaskRunner::kill(const std::string& reason, const std::string& event_type, bool fails_task) {
  {
    std::lock_guard lock(mu_);
    if (kill_requested_) return;
  }
  if (!event_type.empty()) {
    state::TaskEvent e{event_type, 0, reason};
    e.fails_task = fails_task;
    record(std::move(e));
  }
  std::lock_guard lock(mu_);
  if (kill_requested_) return;
  kill_requested_ = true;
  kill_fails_ = fails_task;
  kill_reason_ = reason;
  cv_.notify_all();
  // A recovered handle is used only once the driver has confirmed it (recover() then sees
  // the request and stops the task itself).
  if (handle_live_) begin_stop_locked();
}

Status TaskRunner::restart(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    if ((!handle_live_ && !exec_ready_) || kill_requested_)
      return make_error("task \"" + task_.name + "\" is not running", Errc::Conflict);
    if (restart_requested_) return {};
    restart_requested_ = true;
  }
  record({ev::kRestartSignaled, 0, reason.empty() ? "User requested task to restart" : reason});
  std::lock_guard lock(mu_);
  if (handle_live_) begin_stop_locked();
  return {};
}

Status TaskRunner::signal(const std::string& sig) {
  nlohmann::json handle;
  {
    std::lock_guard lock(mu_);
    handle = handle_;
  }
  if (handle.is_null()) return make_error("task \"" + task_.name + "\" is not running", Errc::Conflict);
  TaskEvent e{ev::kSignaling, 0, "Task being sent signal " + sig};
  e.details["signal"] = sig;
  record(std::move(e));
  return driver_->signal(handle, sig);
}

Result<nlohmann::json> TaskRunner::exec_handle(bool driver_can) {
  {
    std::lock_guard lock(mu_);
    if (!handle_live_ && !exec_ready_)
      return make_error("task \"" + task_.name + "\" is not running", Errc::Conflict);
    if (driver_can) return handle_;
  }
  return make_error("driver \"" + task_.driver + "\" cannot run commands inside its tasks",
                    Errc::Unsupported);
}

Result<nlohmann::json> TaskRunner::exec(const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) {
  auto handle = exec_handle(driver_ && driver_->supports_exec());
  if (!handle) return handle.error();
  return driver_->exec_task(*handle, argv, timeout);
}

Result<std::unique_ptr<plugins::ExecSession>> TaskRunner::exec_stream(
    const plugins::ExecRequest& request) {
  auto handle = exec_handle(driver_ && driver_->supports_exec_stream());
  if (!handle) return handle.error();
  return driver_->exec_stream(*handle, request);
}

bool TaskRunner::kill_requested() {
  std::lock_guard lock(mu_);
  return kill_requested_;
}

void TaskRunner::detach() {
  detached_ = true;
  cv_.notify_all();
  {
    std::lock_guard lock(delay_mu_);  // no wakeup lost between the predicate and the wait
  }
  delay_cv_.notify_all();
}

// The newest kMaxTaskEvents are kept.
static void append_event(TaskState& s, TaskEvent event) {
  s.events.push_back(std::move(event));
  if (s.events.size() > state::kMaxTaskEvents)
    s.events.erase(s.events.begin(), s.events.end() - state::kMaxTaskEvents);
}

void TaskRunner::record(TaskEvent event, const std::function<void(TaskState&)>& also, bool ended) {
  static const nlohmann::json kCleared;  // null: the handle column emptied
  store_event(std::move(event), also, ended ? &kCleared : nullptr);
}

void TaskRunner::record_with_handle(TaskEvent event, const std::function<void(TaskState&)>& also,
                                    const nlohmann::json& handle) {
  store_event(std::move(event), also, &handle);
}

void TaskRunner::record_unwritten(TaskEvent event) {
  if (event.time_ns == 0) event.time_ns = state::now_ns();
  alloc_.update_task_unwritten(task_.name, [&](TaskState& s) { append_event(s, std::move(event)); });
}

void TaskRunner::store_event(TaskEvent event, const std::function<void(TaskState&)>& also,
                             const nlohmann::json* handle) {
  if (event.time_ns == 0) event.time_ns = state::now_ns();
  alloc_.update_task(
      task_.name,
      [&](TaskState& s) {
        if (!event.type.empty()) append_event(s, std::move(event));
        if (also) also(s);
      },
      handle);
}

static void mark_dead(TaskState& s, bool failed) {
  s.state = state::TaskPhase::Dead;
  s.failed = failed;
  s.finished_at_ns = state::now_ns();
}

bool TaskRunner::sleep_unless_killed(std::chrono::nanoseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return kill_requested_ || detached_.load(); });
}

void TaskRunner::begin_stop_locked() {
  if (stop_issued_) return;
  stop_issued_ = true;
  auto timeout = std::min<std::chrono::nanoseconds>(task_.kill_timeout, alloc_.ctx().max_kill_timeout);
  auto signal = task_.kill_signal.empty() ? std::string("SIGTERM") : task_.kill_signal;
  auto handle = handle_;
  auto reason = kill_reason_;
  stopper_ = std::thread([this, handle, signal, timeout, reason] {
    try {
      stop_task(handle, signal, timeout, reason);
    } catch (const std::exception& e) {
      spdlog::error("alloc {} task {}: stop: {}", alloc_.id(), task_.name, e.what());
    }
  });
}

void TaskRunner::stop_task(const nlohmann::json& handle, const std::string& signal,
                           std::chrono::nanoseconds timeout, const std::string& reason) {
  // shutdown_delay (group, then task): the time Nomad gives a task between deregistering its
  // services and its kill signal; an agent going down ends the wait (the task runs on, and the
  // stop resumes on recovery).
  const auto delay = alloc_.group().shutdown_delay + task_.shutdown_delay;
  {
    // Deregistration (the services hook) comes before the delay, so that clients stop
    // coming while the task still answers.
    sdk::TaskSpec no_spec;
    auto hc = hook_context(no_spec);
    for (auto& hook : hooks_) hook->prekill(hc);
  }
  if (delay.count() > 0) {
    TaskEvent e{ev::kWaitingShutdownDelay, 0,
                "Waiting for shutdown_delay of " + format_duration(delay) +
                    " before killing the task."};
    record(std::move(e));
    std::unique_lock lock(delay_mu_);
    if (delay_cv_.wait_for(lock, delay, [&] { return detached_.load(); })) return;
  }
  {
    TaskEvent e{ev::kKilling, 0, reason.empty() ? "Sent interrupt" : reason};
    e.details["kill_timeout"] = format_duration(timeout);
    e.details["kill_signal"] = signal;
    record(std::move(e));
    fault_point("during_stop");
    auto st = driver_->stop(handle, signal,
                            std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (!st) spdlog::warn("alloc {} task {}: stop: {}", alloc_.id(), task_.name, st.message());
  }
}

void TaskRunner::run() {
  guarded([this] { carry_on(handle_.is_null() ? start_once() : recover()); });
}

// No exception leaves a runner's thread (it would end the agent, and end it again on every
// restart that recovers the same alloc): it fails this task, alone, with the reason.
void TaskRunner::guarded(const std::function<void()>& body) noexcept {
  std::string why;
  try {
    body();
    return;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown exception";
  }
  spdlog::error("alloc {} task {}: internal error: {}", alloc_.id(), task_.name, why);
  try {
    TaskEvent e{ev::kDriverFailure, 0, "internal error: " + why};
    e.fails_task = true;
    record(std::move(e), [](TaskState& s) { mark_dead(s, true); }, /*ended=*/true);
  } catch (...) {
    spdlog::error("alloc {} task {}: the failure could not be recorded", alloc_.id(), task_.name);
  }
}

// With the task running: waits for its exit (parked with the exit watcher, this thread then
// ends, or in this thread), reacts to it, and goes round while the task is started again.
void TaskRunner::carry_on(bool running) {
  while (running) {
    if (park()) return;
    wait_for_exit();
    if (detached_) return;
    running = after_exit();
  }
}

// Hands the task's exit descriptor to the exit watcher; false when there is none (no watcher,
// a driver without wait_fd, a task that has already ended): then this thread waits itself.
bool TaskRunner::park() {
  auto* watcher = alloc_.ctx().exit_watcher;
  if (!watcher || !driver_->supports_wait_fd()) return false;
  nlohmann::json handle;
  {
    std::lock_guard lock(mu_);
    handle = handle_;
  }
  auto fd = driver_->wait_fd(handle);
  if (!fd || fd.value() < 0) return false;
  std::lock_guard lock(thread_mu_);
  if (detached_) {
    close(fd.value());
    return true;  // shutting down: this thread ends, the task runs on
  }
  watch_id_ = watcher->watch(fd.value(), [this] { on_exit_fd(); });
  return watch_id_ != 0;
}

// On the watcher's thread: the task may have ended. The runner carries on in a new thread
// (the one that parked has returned, or is returning: joined first).
void TaskRunner::on_exit_fd() {
  std::lock_guard lock(thread_mu_);
  watch_id_ = 0;
  if (detached_) return;
  if (thread_.joinable()) thread_.join();
  thread_ = DetachedThread([this] { guarded([this] { resume(); }); });
}

void TaskRunner::resume() {
  nlohmann::json handle;
  {
    std::lock_guard lock(mu_);
    handle = handle_;
  }
  reset_exit();
  if (!check_exit(handle, std::chrono::milliseconds(0))) {
    // Woken but still running (a monitor that hung up on a busy moment): do not spin.
    sleep_unless_killed(std::chrono::milliseconds(100));
    return carry_on(!detached_);
  }
  carry_on(after_exit());
}

// After the task's exit was seen: cleans up, records it, and applies the restart policy;
// returns whether the task runs again.
bool TaskRunner::after_exit() {
  on_exit();
  {
    std::lock_guard lock(mu_);
    if (stopper_.joinable()) stopper_.join();
    stop_issued_ = false;
  }
  if (kill_requested()) {
    bool failed = false;
    {
      std::lock_guard lock(mu_);
      failed = kill_fails_;
    }
    record({ev::kKilled, 0, "Task successfully killed"}, [&](TaskState& s) { mark_dead(s, failed); },
           true);
    return false;
  }
  if (lost_) {
    TaskEvent e{ev::kDriverFailure, 0, "lost track of the task: " + exit_err_};
    e.fails_task = true;
    record(std::move(e), [](TaskState& s) { mark_dead(s, true); }, true);
    return false;
  }
  bool restart_now = false;
  {
    std::lock_guard lock(mu_);
    restart_now = std::exchange(restart_requested_, false);
  }
  if (restart_now) {
    // A restart the user asked for does not count against the restart policy.
    record({ev::kRestarting, 0, "Task restarting now (restart signaled)"}, [](TaskState& s) {
      s.state = state::TaskPhase::Pending;
      s.restarts++;
    }, true);
    return start_once();
  }
  // Stamped when the exit was seen, not after the driver's cleanup (a runtime's delete).
  TaskEvent term{ev::kTerminated, exited_at_ns_, ""};
  term.exit_code = exit_code_;
  term.signal = exit_signal_;
  term.message = "Exit Code: " + std::to_string(exit_code_);
  if (exit_signal_) term.message += ", Signal: " + std::to_string(exit_signal_);
  if (oom_killed_) term.message += ", Exit Message: OOM Killed";
  else if (!exit_err_.empty()) term.message += ", Exit Message: " + exit_err_;
  term.details["exit_code"] = std::to_string(exit_code_);
  if (oom_killed_) term.details["oom_killed"] = "true";
  bool success = exit_code_ == 0 && exit_signal_ == 0 && exit_err_.empty() && !oom_killed_;
  auto decision = restarts_.on_exit(success);
  if (!decision.restart) {
    // The exit and the end of the task are one write: a store that fails here leaves the task
    // running with its handle, which recovery resolves; never ended without a record.
    if (decision.failed) {
      TaskEvent nr{ev::kNotRestarting, state::now_ns(), decision.reason};
      nr.fails_task = true;
      record(std::move(term), [&](TaskState& s) {
        s.events.push_back(std::move(nr));
        mark_dead(s, true);
      }, true);
    } else {
      record(std::move(term), [&](TaskState& s) { mark_dead(s, !success); }, true);
    }
    return false;
  }
  record(std::move(term));
  TaskEvent rs{ev::kRestarting, 0, "Task restarting in " + format_duration(decision.delay)};
  rs.details["restart_delay"] = std::to_string(decision.delay.count());
  rs.details["restart_reason"] = decision.reason;
  record(std::move(rs), [](TaskState& s) {
    s.state = state::TaskPhase::Pending;
    s.restarts++;
  }, true);
  if (!sleep_unless_killed(decision.delay)) {
    if (detached_) return false;
    record({ev::kKilled, 0, "Task killed while waiting to restart"},
           [](TaskState& s) { mark_dead(s, false); });
    return false;
  }
  return start_once();
}

bool TaskRunner::recover() {
  if (!driver_) {
    record({ev::kFailedRestoring, 0, "driver \"" + task_.driver + "\" is not loaded"},
           [](TaskState& s) { mark_dead(s, true); });
    return false;
  }
  bool was_starting = handle_.value("Starting", false);
  auto r = driver_->recover(handle_);
  if (!r && was_starting && r.code() == Errc::NeverStarted) {
    // The agent died while starting the task and the driver is sure it never started
    // (plugin.h, DROVER_NEVER_STARTED): starting it now runs it once.
    spdlog::info("alloc {} task {}: was starting when the agent stopped; starting it", alloc_.id(), task_.name);
    {
      std::lock_guard lock(mu_);
      handle_ = nullptr;
    }
    // Left as it is on failure: the Starting handle the next start writes replaces it.
    if (auto st = alloc_.ctx().store->put_handle(alloc_.id(), task_.name, nullptr); !st)
      spdlog::warn("alloc {} task {}: {}", alloc_.id(), task_.name, st.message());
    release_all();
    return start_once();
  }
  if (!r) {
    // The task's process is gone and its fate unknown: report it, never start it twice.
    TaskEvent e{ev::kFailedRestoring, 0, "failed to recover task: " + r.message()};
    e.fails_task = true;
    record(std::move(e), [](TaskState& s) { mark_dead(s, true); }, true);
    release_all();
    std::lock_guard lock(mu_);
    handle_ = nullptr;
    return false;
  }
  {
    std::lock_guard lock(mu_);
    handle_ = r.value();
    handle_live_ = true;
  }
  {
    sdk::TaskSpec no_spec;
    auto hc = hook_context(no_spec);
    for (auto& hook : hooks_) hook->recovered(hc, r.value());
  }
  // Started before the agent died but not yet recorded as such (it died between the driver's
  // start and the write of Started with the handle): recorded once now, with the handle.
  // Otherwise only the handle is written; on failure the stored one is the old one, which the
  // driver recovered from once already.
  if (alloc_.snapshot().tasks[task_.name].state != state::TaskPhase::Running) {
    record_with_handle({ev::kStarted, 0, "Task started by client"}, [](TaskState& s) {
      s.state = state::TaskPhase::Running;
      s.started_at_ns = state::now_ns();
      s.finished_at_ns = 0;
    }, r.value());
  } else if (auto st = alloc_.ctx().store->put_handle(alloc_.id(), task_.name, r.value()); !st) {
    spdlog::error("alloc {} task {}: {}", alloc_.id(), task_.name, st.message());
  }
  std::lock_guard lock(mu_);
  if (kill_requested_) begin_stop_locked();
  return true;
}

bool TaskRunner::start_once() {
  if (kill_requested()) {
    record({ev::kKilled, 0, "Task killed before it started"}, [](TaskState& s) { mark_dead(s, false); });
    return false;
  }
  if (!driver_) {
    TaskEvent e{ev::kDriverFailure, 0, "driver \"" + task_.driver + "\" is not loaded"};
    e.fails_task = true;
    record(std::move(e), [](TaskState& s) { mark_dead(s, true); });
    return false;
  }
  auto* timings = alloc_.ctx().step_timings;
  StepTimer spec_timer(timings, "task_spec", log_name_);
  auto spec = alloc_.task_spec(task_);
  spec_timer.finish();
  TaskHookContext hc = hook_context(spec);
  // The hooks in order (runner/task_hook.hpp); the first that fails undoes those before it.
  for (std::size_t i = 0; i < hooks_.size(); ++i) {
    StepTimer timer(timings, std::string("prestart:") + hooks_[i]->name(), log_name_);
    if (auto st = hooks_[i]->prestart(hc); !st) {
      for (std::size_t k = i; k-- > 0;) hooks_[k]->exited(hc);
      TaskEvent e{ev::kSetupFailure, 0, st.message()};
      e.fails_task = true;
      record(std::move(e), [](TaskState& s) { mark_dead(s, true); }, true);
      return false;
    }
  }
  fault_point("before_task_start");
  StepTimer start_timer(timings, "driver:start", log_name_);
  auto r = driver_->start(sdk::to_json(spec));
  start_timer.finish();
  fault_point("after_task_start");
  if (!r) {
    for (std::size_t k = hooks_.size(); k-- > 0;) hooks_[k]->exited(hc);
    TaskEvent e{ev::kDriverFailure, 0, r.message()};
    e.fails_task = true;
    record(std::move(e), [](TaskState& s) { mark_dead(s, true); }, true);
    return false;
  }
  auto handle = r.value();
  for (auto& hook : hooks_) {
    StepTimer timer(timings, std::string("poststart:") + hook->name(), log_name_);
    hook->poststart(hc, handle);
  }
  {
    std::lock_guard lock(mu_);
    handle_ = handle;
    exec_ready_ = true;
  }
  // Started and the driver's handle in one write (docs/design.md, "State").
  record_with_handle({ev::kStarted, 0, "Task started by client"}, [](TaskState& s) {
    s.state = state::TaskPhase::Running;
    s.started_at_ns = state::now_ns();
    s.finished_at_ns = 0;
  }, handle);
  fault_point("handle_persisted");
  std::lock_guard lock(mu_);
  handle_live_ = true;  // handle_ is set: published above
  // A kill, or a restart asked for once the task read as running, waited for this.
  if (kill_requested_ || restart_requested_) begin_stop_locked();
  return true;
}

// Every hook lets go of what it holds for the task, last first (the hooks' exited()).
void TaskRunner::release_all() {
  sdk::TaskSpec no_spec;
  auto hc = hook_context(no_spec);
  for (std::size_t k = hooks_.size(); k-- > 0;) hooks_[k]->exited(hc);
}

TaskHookContext TaskRunner::hook_context(sdk::TaskSpec& spec) {
  return {alloc_, task_, spec, [this](TaskEvent e) { record(std::move(e)); },
          [this](TaskEvent e) { record_unwritten(std::move(e)); }};
}

void TaskRunner::reset_exit() {
  exit_code_ = exit_signal_ = 0;
  exited_at_ns_ = 0;
  oom_killed_ = false;
  lost_ = false;
  exit_err_.clear();
}

// Asks the driver once; true when the task has ended (or the driver lost it) and the exit
// fields say how.
bool TaskRunner::check_exit(const nlohmann::json& handle, std::chrono::milliseconds timeout) {
  auto r = driver_->wait(handle, timeout);
  if (!r) {
    // The driver lost the task (its monitor is gone): its fate is unknown, so it is
    // reported, never restarted behind the user's back.
    exit_code_ = -1;
    exit_err_ = r.message();
    lost_ = true;
    return true;
  }
  if (!r.value()) return false;
  exited_at_ns_ = state::now_ns();
  exit_code_ = r.value()->exit_code;
  exit_signal_ = r.value()->signal;
  oom_killed_ = r.value()->oom_killed;
  exit_err_ = r.value()->err;
  return true;
}

// Waits in this thread, asking the driver every wait slice: for drivers without wait_fd, or
// when the exit watcher could not take the task.
void TaskRunner::wait_for_exit() {
  reset_exit();
  nlohmann::json handle;
  {
    std::lock_guard lock(mu_);
    handle = handle_;
  }
  while (!detached_)
    if (check_exit(handle, alloc_.ctx().wait_slice)) return;
}

void TaskRunner::on_exit() {
  nlohmann::json handle;
  {
    std::lock_guard lock(mu_);
    handle = std::move(handle_);
    handle_ = nullptr;
    handle_live_ = false;
    exec_ready_ = false;
  }
  auto* res = alloc_.ctx().resources;
  // The kernel's counter, not a guess from exit code 137.
  if (res && res->oom_killed(alloc_.id(), task_.name)) oom_killed_ = true;
  // The driver lets go first (a container's own cgroup nests inside the task's).
  if (auto st = driver_->destroy(handle); !st)
    spdlog::warn("alloc {} task {}: destroy: {}", alloc_.id(), task_.name, st.message());
  release_all();
  // The stored handle stays until the exit is recorded (after_exit, one write with the state).
}

}  // namespace drover::runner
