#include "runner/alloc_runner.hpp"

#include "runner/alloc_network.hpp"

#include <spdlog/spdlog.h>

#include "drover/loader/registry.hpp"
#include "drover/sdk/hostname.hpp"
#include "runner/alloc_index.hpp"
#include "runner/step_timings.hpp"
#include "runner/sticky_disk.hpp"
#include "runner/task_env.hpp"
#include "runner/task_runner.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

// Nomad's ClientDescription (and Killing message) for an alloc past its max_run_duration.
constexpr const char* kMaxRunDurationExceeded = "allocation exceeded max_run_duration";

namespace ev = state::event;

std::pair<std::string, std::string> client_status_of(
    const std::map<std::string, state::TaskState>& tasks) {
  bool pending = false, running = false, dead = false, failed = false;
  for (const auto& [_, s] : tasks) {
    if (s.state == state::TaskPhase::Running) running = true;
    else if (s.state == state::TaskPhase::Pending) pending = true;
    else if (s.failed) failed = true;
    else dead = true;
  }
  if (failed) return {"failed", "Failed tasks"};
  if (running) return {"running", "Tasks are running"};
  if (pending) return {"pending", "No tasks have started"};
  if (dead) return {"complete", "All tasks have completed"};
  return {"pending", ""};
}

TaskRole AllocRunner::role_of(const jobspec::Task& t) {
  if (t.lifecycle.hook == "prestart") return t.lifecycle.sidecar ? TaskRole::PrestartSidecar : TaskRole::Prestart;
  if (t.lifecycle.hook == "poststart") return TaskRole::Poststart;
  if (t.lifecycle.hook == "poststop") return TaskRole::Poststop;
  return TaskRole::Main;
}

// Called with mu_ held: what the lifecycle needs of each task.
std::vector<LifecycleTask> AllocRunner::lifecycle_view() const {
  std::vector<LifecycleTask> out;
  for (const auto& t : group_->tasks) {
    auto it = alloc_.tasks.find(t.name);
    state::TaskState s = it != alloc_.tasks.end() ? it->second : state::TaskState{};
    out.push_back({t.name, role_of(t), t.leader, s.state, s.failed, s.started_at_ns != 0,
                   runners_.count(t.name) > 0});
  }
  return out;
}

AllocRunner::AllocRunner(RunnerContext& ctx, state::Alloc alloc,
                         std::shared_ptr<const jobspec::Job> job)
    : ctx_(ctx),
      id_(alloc.id),
      job_key_{alloc.namespace_, alloc.job_id},
      job_json_(alloc.job),
      job_(job ? std::move(job)
               : std::make_shared<const jobspec::Job>(
                     jobspec::job_from_json(alloc.job ? *alloc.job : nlohmann::json()))),
      alloc_(std::move(alloc)) {
  for (const auto& g : job_->groups)
    if (g.name == alloc_.group) group_ = &g;
  touched_locked();
  alloc_.create_index = alloc_.modify_index;
}

// Called with mu_ held (or before the runner is shared) after every change of alloc_: the
// stamp that blocking queries and the health watcher go by.
void AllocRunner::touched_locked() {
  alloc_.modify_index = ctx_.alloc_index ? ctx_.alloc_index->next() : alloc_.modify_index + 1;
}

AllocRunner::~AllocRunner() { join(); }

void AllocRunner::fail_alloc(const std::string& description) {
  {
    std::lock_guard lock(mu_);
    alloc_.client_status = "failed";
    alloc_.client_description = description;
    alloc_.modify_time_ns = state::now_ns();
    touched_locked();
    if (auto st = ctx_.store->put_alloc_status(alloc_); !st) spdlog::error("alloc {}: {}", id_, st.message());
    discard_cgroups_ahead_locked();
  }
  release_network();
}

void AllocRunner::prepare_cgroups_ahead() {
  if (!ctx_.resources) return;
  std::lock_guard lock(mu_);
  // The tasks the lifecycle will start first, as a copy of it says (runner/lifecycle.hpp):
  // none for an alloc stopped while it waited for its previous one.
  Lifecycle probe = lifecycle_;
  auto view = lifecycle_view();
  probe.advance(view, stop_requested_, stop_reason_);
  for (std::size_t i = 0; i < view.size(); ++i) {
    const auto& t = group_->tasks[i];
    if (view[i].has_runner && !runners_.count(t.name) && t.resources.cores == 0)
      cgroups_ahead_[t.name] = ctx_.resources->prepare_ahead(id_, job_, t);
  }
}

std::shared_ptr<NodeResources::Ahead> AllocRunner::take_cgroup_ahead(const std::string& task) {
  std::lock_guard lock(mu_);
  auto it = cgroups_ahead_.find(task);
  if (it == cgroups_ahead_.end()) return nullptr;
  auto ahead = std::move(it->second);
  cgroups_ahead_.erase(it);
  return ahead;
}

std::string AllocRunner::state_dir_of(const RunnerContext& ctx, const std::string& id,
                                      const std::string& task) {
  return (ctx.data_dir / "tasks" / id / task).string();
}

std::string AllocRunner::runtime_dir_of(const RunnerContext& ctx, const std::string& id,
                                        const std::string& task) {
  return (ctx.runtime_root() / "tasks" / id / task).string();
}

nlohmann::json AllocRunner::starting_handle(const std::string& state_dir, const std::string& runtime_dir,
                                            const std::string& kill_signal) {
  return {{"Starting", true},
          {"StartingAt", state::now_ns()},
          {"StateDir", state_dir},
          {"RuntimeDir", runtime_dir},
          {"KillSignal", kill_signal}};
}

std::map<std::string, nlohmann::json> AllocRunner::starting_handles_ahead(
    RunnerContext& ctx, const state::Alloc& alloc, const jobspec::TaskGroup& group) {
  std::map<std::string, nlohmann::json> out;
  if (!alloc.previous_alloc.empty() || !ctx.plugins) return out;
  // The tasks the lifecycle starts first, as a fresh copy of it says (runner/lifecycle.hpp).
  std::vector<LifecycleTask> view;
  for (const auto& t : group.tasks) view.push_back({t.name, role_of(t), t.leader});
  Lifecycle probe;
  probe.advance(view, /*stopping=*/false, "");
  for (std::size_t i = 0; i < view.size(); ++i) {
    const auto& t = group.tasks[i];
    if (!view[i].has_runner || t.resources.cores != 0 || !t.resources.devices.empty()) continue;
    auto* driver = ctx.plugins->driver(t.driver);
    if (!driver || !driver->capabilities().value("RecoversStarting", false)) continue;
    // The kill signal as task_spec gives it to the driver.
    std::string signal = t.kill_signal.empty() ? sdk::TaskSpec{}.kill_signal : t.kill_signal;
    out[t.name] = starting_handle(state_dir_of(ctx, alloc.id, t.name),
                                  runtime_dir_of(ctx, alloc.id, t.name), signal);
  }
  return out;
}

bool AllocRunner::take_starting_stored(const std::string& task) {
  std::lock_guard lock(mu_);
  return starting_stored_.erase(task) > 0;
}

void AllocRunner::set_reserved_cores(const std::string& task, std::vector<int> cores) {
  std::lock_guard lock(mu_);
  if (alloc_.reserved_cores[task] == cores) return;
  alloc_.reserved_cores[task] = std::move(cores);
  touched_locked();
}

void AllocRunner::discard_cgroups_ahead_locked(const std::string& task) {
  for (auto it = cgroups_ahead_.begin(); it != cgroups_ahead_.end();) {
    if (!task.empty() && it->first != task) {
      ++it;
      continue;
    }
    ctx_.resources->discard_ahead(*it->second);
    it = cgroups_ahead_.erase(it);
  }
}

std::string AllocRunner::alloc_hostname() const {
  if (isolated_mode().empty() || group_->networks.front().hostname.empty() || group_->tasks.empty())
    return "";
  return task_env(group_->tasks.front()).interpolate(group_->networks.front().hostname);
}

std::string AllocRunner::isolated_mode() const {
  if (!group_ || group_->networks.empty()) return "";
  return isolated_network_mode(group_->networks.front().mode) ? group_->networks.front().mode : "";
}

bool AllocRunner::start_network(bool recovering) {
  const std::string mode = isolated_mode();
  if (mode.empty()) return true;
  // An agent restart keeps the namespace and its address: the tasks still run in it.
  if (recovering) {
    if (auto found = AllocNetwork::recover(id_); found.ok()) {
      std::lock_guard lock(mu_);
      netns_path_ = found->netns_path;
      alloc_ip_ = found->ip;
      network_labels_ = found->labels;
      network_up_ = true;
      return true;
    }
    if (terminal()) return true;
  }
  std::vector<state::AllocatedPort> ports;
  for (const auto& n : alloc_.networks)
    if (n.task.empty()) ports.insert(ports.end(), n.ports.begin(), n.ports.end());
  // A driver whose tasks can only join a namespace of its own making makes it (plugin.h,
  // MustInitiateNetwork); the agent's other tasks join that one.
  const auto& dns = group_->networks.front().dns;
  NetworkMaker maker{nullptr, dir().root.string(),
                     dns ? jobspec::dns_to_json(*dns) : nlohmann::json(nullptr), alloc_hostname()};
  // Checked at submit unless it held ${...}; what that became is checked here (Nomad's rule).
  if (!maker.hostname.empty() && !sdk::is_host_name(maker.hostname)) {
    const std::string why = "network hostname \"" + maker.hostname +
                            "\" is not a host name (letters, digits, '-' and '.', at most 63)";
    spdlog::error("alloc {}: {}", id_, why);
    fail_alloc(why);
    return false;
  }
  if (ctx_.plugins)
    for (const auto& t : group_->tasks)
      if (auto* d = ctx_.plugins->driver(t.driver); d && d->initiates_network()) {
        maker.driver = d;
        break;
      }
  auto made = AllocNetwork::setup(id_, mode, ports, ctx_.data_dir, maker, ctx_.cni,
                                  group_->networks.front().cni_args);
  if (!made.ok()) {
    spdlog::error("alloc {}: {}", id_, made.message());
    fail_alloc(made.message());
    return false;
  }
  spdlog::info("alloc {}: network namespace {} (mode {}{})", id_, made->netns_path, mode,
               made->ip.empty() ? "" : ", address " + made->ip);
  std::lock_guard lock(mu_);
  netns_path_ = made->netns_path;
  alloc_ip_ = made->ip;
  network_labels_ = made->labels;
  network_up_ = true;
  // Nomad's AllocNetworkStatus: the alloc's interface and address (none in mode none).
  alloc_.network_status = {{"InterfaceName", made->ip.empty() ? "" : kAllocIfname},
                           {"Address", made->ip},
                           {"DNS", group_->networks.front().dns
                                       ? jobspec::dns_to_json(*group_->networks.front().dns)
                                       : nlohmann::json(nullptr)}};
  alloc_.modify_time_ns = state::now_ns();
  touched_locked();
  if (auto st = ctx_.store->put_alloc_status(alloc_); !st)
    spdlog::error("alloc {}: {}", id_, st.message());
  return true;
}

void AllocRunner::release_network() {
  {
    std::lock_guard lock(mu_);
    if (!network_up_ || !alloc_.terminal()) return;
    network_up_ = false;
  }
  if (auto st = AllocNetwork::teardown(id_, ctx_.plugins); !st)
    spdlog::warn("alloc {}: tearing down its network: {}", id_, st.message());
  else
    spdlog::info("alloc {}: network namespace removed", id_);
}

void AllocRunner::start(bool recovering) {
  if (previous_ && !recovering && group_) {
    previous_waiter_ = DetachedThread([this] { take_over_previous(); });
    return;
  }
  start_now(recovering);
}

void AllocRunner::take_over_previous() {
  // The predecessor was asked to stop when this alloc was placed; its tasks get their kill
  // timeouts. A stop of this alloc, or the agent shutting down, ends the wait early.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_requested_ || detached_) break;
    }
    if (previous_->terminal()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool detached = false;
  {
    std::lock_guard lock(mu_);
    detached = detached_;
  }
  if (detached) return;
  if (previous_->terminal()) {
    if (auto st = dir().build(); st) {
      std::vector<std::string> tasks;
      for (const auto& t : group_->tasks) tasks.push_back(t.name);
      if (auto moved = move_sticky_data(previous_->dir(), dir(), tasks); !moved)
        spdlog::warn("alloc {}: sticky ephemeral_disk: {}", id_, moved.message());
      else
        spdlog::info("alloc {}: took over alloc/data of alloc {} (sticky ephemeral_disk)", id_,
                     previous_->id());
    }
  }
  previous_.reset();
  start_now(false);
}

void AllocRunner::start_now(bool recovering) {
  if (!group_) return fail_alloc("task group \"" + alloc_.group + "\" is not in the job");
  const std::string who = "alloc " + id_;
  if (!recovering) prepare_cgroups_ahead();
  StepTimer dir_timer(ctx_.step_timings, "alloc:dir", who);
  if (auto st = dir().build(); !st) {
    spdlog::error("alloc {}: {}", id_, st.message());
    return fail_alloc("building the alloc dir: " + st.message());
  }
  dir_timer.finish();
  StepTimer network_timer(ctx_.step_timings, "alloc:network", who);
  if (!start_network(recovering)) return;
  network_timer.finish();
  std::unique_lock lock(mu_);
  recovering_ = recovering;
  if (recovering && alloc_.desired_status == "stop") {
    // A stop the agent was carrying out when it died goes on.
    stop_requested_ = true;
    stop_reason_ = "Alloc stopped before the agent restarted";
  }
  if (recovering) {
    // A task recorded as running whose handle is gone (a store that failed between the two
    // writes of an older agent, a disk that filled) may have run and ended: its fate is
    // unknown, so it is reported failed, never started a second time.
    for (const auto& task : group_->tasks) {
      if (alloc_.tasks[task.name].state != state::TaskPhase::Running || !ctx_.store->handle(id_, task.name).is_null())
        continue;
      spdlog::warn("alloc {} task {}: recorded as running without a driver handle; not restarting it",
                   id_, task.name);
      update_task_locked(task.name, [](state::TaskState& s) {
        state::TaskEvent e{ev::kFailedRestoring, state::now_ns(),
                           "the task was running when the agent stopped and no driver handle was "
                           "recorded for it: its outcome is unknown, so it is not started again"};
        e.fails_task = true;
        s.events.push_back(std::move(e));
        s.state = state::TaskPhase::Dead;
        s.failed = true;
        s.finished_at_ns = state::now_ns();
      });
    }
    // Every task the driver may still hold is reattached first, whatever its phase, so that a
    // stop (or a sibling's failure) reaches it.
    for (const auto& task : group_->tasks)
      if (alloc_.tasks[task.name].state != state::TaskPhase::Dead && !ctx_.store->handle(id_, task.name).is_null())
        start_task(task, /*recovering=*/true);
  }
  // A recovered alloc resumes in the phase it was in.
  if (recovering) lifecycle_.resume(lifecycle_view());
  started_ = true;
  step_locked(lock);
}

// Called with mu_ held.
void AllocRunner::start_task(const jobspec::Task& task, bool recovering) {
  if (runners_.count(task.name) || alloc_.tasks[task.name].state == state::TaskPhase::Dead) return;
  nlohmann::json handle = recovering ? ctx_.store->handle(id_, task.name) : nlohmann::json();
  auto r = std::make_unique<TaskRunner>(*this, task, handle);
  r->start();
  runners_[task.name] = std::move(r);
}

void AllocRunner::start_role(TaskRole role, bool recovering) {
  for (const auto& task : group_->tasks)
    if (role_of(task) == role) start_task(task, recovering);
}

// Called with mu_ held; TaskRunner::kill takes only its own lock and records events through
// update_task, so it is handed off the lock by collecting the runners first.
void AllocRunner::kill_role(TaskRole role, const std::string& reason, const std::string& event_type) {
  std::vector<TaskRunner*> targets;
  for (const auto& task : group_->tasks) {
    if (role_of(task) != role) continue;
    auto it = runners_.find(task.name);
    if (it != runners_.end() && alloc_.tasks[task.name].state != state::TaskPhase::Dead)
      targets.push_back(it->second.get());
  }
  // Tasks of this role that never started are dead now: they will not run. The alloc's
  // status follows (the last of them may be what kept it pending).
  for (const auto& task : group_->tasks) {
    if (role_of(task) != role || runners_.count(task.name)) continue;
    if (alloc_.tasks[task.name].state != state::TaskPhase::Dead)
      update_task_locked(task.name, [](state::TaskState& ts) {
        ts.state = state::TaskPhase::Dead;
        ts.finished_at_ns = state::now_ns();
      });
  }
  mu_.unlock();
  for (auto* r : targets) r->kill(reason, event_type);
  mu_.lock();
}

// Called with mu_ held, by whichever thread changed something (a task runner recording an
// event, a stop request): no thread per alloc waits for changes. A change made while a step runs
// (kill_role lets go of the lock) marks it dirty and the running step goes round again.
void AllocRunner::step_locked(std::unique_lock<std::mutex>& lock) {
  if (!started_ || detached_) return;
  if (stepping_) {
    dirty_ = true;
    return;
  }
  stepping_ = true;
  do {
    dirty_ = false;
    advance_locked();
  } while (dirty_ && !detached_);
  stepping_ = false;
  (void)lock;
}

// One pass of the lifecycle (runner/lifecycle.cpp): does what it says, in order. A change
// made while kill_role has let go of the lock marks the step dirty, and it runs again.
void AllocRunner::advance_locked() {
  if (detached_) return;
  auto view = lifecycle_view();
  for (const auto& action : lifecycle_.advance(view, stop_requested_, stop_reason_)) {
    if (detached_) return;
    if (action.kind == LifecycleAction::Kind::Start)
      start_role(action.role, recovering_);
    else
      kill_role(action.role, action.reason, action.event_type);
  }
}

void AllocRunner::stop(const std::string& reason) {
  {
    std::unique_lock lock(mu_);
    stop_requested_ = true;
    stop_reason_ = reason;
    alloc_.desired_status = "stop";
    alloc_.modify_time_ns = state::now_ns();
    touched_locked();
    if (auto st = ctx_.store->put_alloc_status(alloc_); !st) spdlog::error("alloc {}: {}", id_, st.message());
    step_locked(lock);
  }
  notify_change();
}

void AllocRunner::exceed_max_run_duration() {
  {
    std::unique_lock lock(mu_);
    if (!started_ || detached_ || stop_requested_ || alloc_.terminal()) return;
    spdlog::info("alloc {}: exceeded its max_run_duration; killing its tasks", id_);
    max_run_exceeded_ = true;
    stop_requested_ = true;
    stop_reason_ = kMaxRunDurationExceeded;
    lifecycle_.skip_poststop();
    step_locked(lock);
  }
  notify_change();
}

void AllocRunner::fail_tasks(const std::string& reason, const std::string& event_type) {
  std::vector<TaskRunner*> targets;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, r] : runners_) targets.push_back(r.get());
  }
  // TaskRunner::kill records through update_task, which takes mu_: called without it.
  for (auto* r : targets) r->kill(reason, event_type, /*fails_task=*/true);
}

void AllocRunner::detach() {
  std::lock_guard lock(mu_);
  detached_ = true;
  for (auto& [_, r] : runners_) r->detach();
}

void AllocRunner::join() {
  if (previous_waiter_.joinable() && !previous_waiter_.is_current())
    previous_waiter_.join();
  std::vector<TaskRunner*> rs;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, r] : runners_) rs.push_back(r.get());
  }
  for (auto* r : rs) r->join();
}

Result<std::vector<TaskRunner*>> AllocRunner::running_tasks(const std::string& task) {
  std::vector<TaskRunner*> targets;
  std::lock_guard lock(mu_);
  if (!task.empty() && !alloc_.tasks.count(task))
    return make_error("task \"" + task + "\" is not in alloc " + id_, Errc::NotFound);
  for (auto& [name, r] : runners_)
    if ((task.empty() || name == task) && alloc_.tasks[name].state == state::TaskPhase::Running)
      targets.push_back(r.get());
  if (targets.empty())
    return make_error(task.empty() ? "no task of alloc " + id_ + " is running"
                                   : "task \"" + task + "\" is not running",
                      Errc::Conflict);
  return targets;
}

Status AllocRunner::restart_task(const std::string& task, const std::string& reason) {
  auto targets = running_tasks(task);
  if (!targets) return targets.error();
  for (auto* r : *targets)
    if (auto st = r->restart(reason); !st) return st;
  return {};
}

Status AllocRunner::signal_task(const std::string& task, const std::string& signal) {
  auto targets = running_tasks(task);
  if (!targets) return targets.error();
  for (auto* r : *targets)
    if (auto st = r->signal(signal); !st) return st;
  return {};
}

Result<TaskRunner*> AllocRunner::running_task(const std::string& task) {
  std::lock_guard lock(mu_);
  auto it = runners_.find(task);
  if (!alloc_.tasks.count(task)) return make_error("task \"" + task + "\" is not in alloc " + id_, Errc::NotFound);
  if (it == runners_.end() || alloc_.tasks[task].state != state::TaskPhase::Running)
    return make_error("task \"" + task + "\" is not running", Errc::Conflict);
  return it->second.get();
}

Result<nlohmann::json> AllocRunner::exec_task(const std::string& task,
                                              const std::vector<std::string>& argv,
                                              std::chrono::milliseconds timeout) {
  auto r = running_task(task);
  if (!r) return r.error();
  return (*r)->exec(argv, timeout);
}

Result<std::unique_ptr<plugins::ExecSession>> AllocRunner::exec_stream(
    const std::string& task, const plugins::ExecRequest& request) {
  auto r = running_task(task);
  if (!r) return r.error();
  return (*r)->exec_stream(request);
}

state::Alloc AllocRunner::snapshot() const {
  std::lock_guard lock(mu_);
  return alloc_;
}

std::optional<state::Alloc> AllocRunner::snapshot_if(
    const std::function<bool(const state::Alloc&)>& want) const {
  std::lock_guard lock(mu_);
  if (!want(alloc_)) return std::nullopt;
  return alloc_;
}

bool AllocRunner::terminal() const {
  std::lock_guard lock(mu_);
  return alloc_.terminal();
}

bool AllocRunner::live_and_wanted() const {
  std::lock_guard lock(mu_);
  return !alloc_.terminal() && alloc_.desired_status == "run";
}

void AllocRunner::notify_change() {
  if (ctx_.on_alloc_change) ctx_.on_alloc_change(snapshot());
}

void AllocRunner::set_deployment_status(const nlohmann::json& status) {
  {
    std::lock_guard lock(mu_);
    alloc_.deployment_status = status;
    alloc_.modify_time_ns = state::now_ns();
    touched_locked();
    if (auto st = ctx_.store->put_alloc_status(alloc_); !st)
      spdlog::error("alloc {}: {}", id_, st.message());
  }
  notify_change();
}

void AllocRunner::update_task(const std::string& task,
                              const std::function<void(state::TaskState&)>& fn,
                              const nlohmann::json* handle) {
  change_task(task, fn, handle, /*write=*/true);
}

void AllocRunner::change_task(const std::string& task,
                              const std::function<void(state::TaskState&)>& fn,
                              const nlohmann::json* handle, bool write) {
  {
    std::unique_lock lock(mu_);
    update_task_locked(task, fn, handle, write);
    step_locked(lock);
  }
  release_network();
  notify_change();
}

void AllocRunner::update_task_unwritten(const std::string& task,
                                        const std::function<void(state::TaskState&)>& fn) {
  change_task(task, fn, nullptr, /*write=*/false);
}

Status AllocRunner::put_starting_handle(const std::string& task, const nlohmann::json& handle) {
  std::lock_guard lock(mu_);
  if (!unwritten_tasks_.count(task) && !alloc_row_unwritten_)
    return ctx_.store->put_handle(id_, task, handle);
  auto st = ctx_.store->put_task_update(id_, task, alloc_.tasks[task], &handle,
                                        alloc_row_unwritten_ ? &alloc_ : nullptr);
  if (st) {
    unwritten_tasks_.erase(task);
    alloc_row_unwritten_ = false;
  }
  return st;
}

void AllocRunner::update_task_locked(const std::string& task,
                                     const std::function<void(state::TaskState&)>& fn,
                                     const nlohmann::json* handle, bool write) {
  auto& ts = alloc_.tasks[task];
  fn(ts);
  static const nlohmann::json kNoHandle;
  if (ts.state == state::TaskPhase::Dead) {
    discard_cgroups_ahead_locked(task);
    // Dead before its first start took the Starting handle the placement stored: that write
    // clears it (recovery leaves a dead task's handle alone, but the store says no start).
    if (starting_stored_.erase(task) && !handle) handle = &kNoHandle;
  }
  touched_locked();
  auto [status, description] = client_status_of(alloc_.tasks);
  if (max_run_exceeded_ && status == "complete") description = kMaxRunDurationExceeded;
  // Failed stays failed; otherwise the status follows the tasks.
  bool alloc_changed = !(alloc_.client_status == "failed" && status != "failed") &&
                       (status != alloc_.client_status || description != alloc_.client_description);
  if (alloc_changed) {
    alloc_.client_status = status;
    alloc_.client_description = description;
    alloc_.modify_time_ns = state::now_ns();
  }
  if (!write) {
    unwritten_tasks_.insert(task);
    alloc_row_unwritten_ = alloc_row_unwritten_ || alloc_changed;
    return;
  }
  const bool with_alloc = alloc_changed || alloc_row_unwritten_;
  if (auto st = ctx_.store->put_task_update(id_, task, ts, handle, with_alloc ? &alloc_ : nullptr); !st) {
    spdlog::error("alloc {} task {}: {}", id_, task, st.message());
    return;
  }
  unwritten_tasks_.erase(task);
  if (with_alloc) alloc_row_unwritten_ = false;
}

TaskEnv AllocRunner::task_env(const jobspec::Task& task) const {
  auto d = dir();
  TaskEnvInput in;
  in.job = job_.get();
  in.group = group_;
  in.task = &task;
  in.alloc_id = id_;
  in.alloc_name = alloc_.name;
  in.alloc_index = alloc_.index;
  // Paths as the task sees them: a driver that isolates the filesystem mounts the dirs at
  // /alloc, /local and /secrets, and ${NOMAD_ALLOC_DIR} in its args must say so too.
  auto* driver = ctx_.plugins ? ctx_.plugins->driver(task.driver) : nullptr;
  if (driver && driver->isolates_filesystem()) {
    in.alloc_dir = "/alloc";
    in.task_dir = "/local";
    in.secrets_dir = "/secrets";
  } else {
    in.alloc_dir = d.shared_dir().string();
    in.task_dir = d.local_dir(task.name).string();
    in.secrets_dir = d.secrets_dir(task.name).string();
  }
  in.node = &ctx_.node;
  in.networks = &alloc_.networks;
  in.alloc_ip = alloc_ip();  // hooks' threads call this too
  return TaskEnv(in);
}

sdk::TaskSpec AllocRunner::task_spec(const jobspec::Task& task) const {
  auto d = dir();
  auto* driver = ctx_.plugins ? ctx_.plugins->driver(task.driver) : nullptr;
  TaskEnv env = task_env(task);
  const auto& r = task.resources;
  auto kill_timeout = std::min<std::chrono::nanoseconds>(task.kill_timeout, ctx_.max_kill_timeout);
  auto log_path = [&](const char* stream) {
    return task.logs.disabled ? std::string("/dev/null") : d.log_file(task.name, stream).string();
  };
  sdk::TaskSpec t;
  t.alloc_id = id_;
  t.job_id = job_->id;
  t.group_name = group_->name;
  t.task_name = task.name;
  t.user = task.user;
  t.config = env.interpolate(task.config);
  for (const auto& [k, v] : env.vars()) t.env[k] = v;
  t.alloc_dir = d.root.string();
  t.task_dir = d.task_dir(task.name).string();
  t.stdout_path = log_path("stdout");
  t.stderr_path = log_path("stderr");
  t.resources = {r.cpu_mhz, r.memory_mb, r.memory_max_mb, r.cores, r.pids, 0};
  if (auto f = ctx_.node.attributes.find("cpu.frequency"); f != ctx_.node.attributes.end())
    t.resources.cpu_mhz_per_core = std::atoll(f->second.c_str());
  if (!task.kill_signal.empty()) t.kill_signal = task.kill_signal;
  t.kill_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(kill_timeout);
  t.monitor_path = ctx_.monitor_path.string();
  t.state_dir = state_dir_of(ctx_, id_, task.name);
  t.runtime_dir = runtime_dir_of(ctx_, id_, task.name);
  t.log_config = {task.logs.max_files, task.logs.max_file_size_mb, task.logs.disabled};
  // The alloc's ports this task may use (the group's and its own task-level ones): a driver
  // publishes them (docs/networking.md).
  for (const auto& n : alloc_.networks)
    if (n.task.empty() || n.task == task.name)
      for (const auto& p : n.ports) t.ports.push_back({p.label, p.value, p.to, p.host_ip});
  // Only a driver that can join it gets the alloc's namespace (admission refused the others).
  if (driver && driver->capabilities().value("NetIsolation", "none") == "group") {
    t.network_namespace = netns_path_;
    t.network_labels = network_labels_;
  }
  if (!group_->networks.empty() && group_->networks.front().dns) {
    const auto& d = *group_->networks.front().dns;
    t.dns = sdk::TaskDns{d.servers, d.searches, d.options};
  }
  if (!t.network_namespace.empty()) {
    t.hostname = alloc_hostname();
    if (!t.hostname.empty()) t.alloc_address = alloc_ip();
  }
  return t;
}

}  // namespace drover::runner
