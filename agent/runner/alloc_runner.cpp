#include "runner/alloc_runner.hpp"

#include <spdlog/spdlog.h>

#include "runner/task_env.hpp"
#include "runner/task_runner.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

std::pair<std::string, std::string> client_status_of(
    const std::map<std::string, state::TaskState>& tasks) {
  bool pending = false, running = false, dead = false, failed = false;
  for (const auto& [_, s] : tasks) {
    if (s.state == "running") running = true;
    else if (s.state == "pending") pending = true;
    else if (s.failed) failed = true;
    else dead = true;
  }
  if (failed) return {"failed", "Failed tasks"};
  if (running) return {"running", "Tasks are running"};
  if (pending) return {"pending", "No tasks have started"};
  if (dead) return {"complete", "All tasks have completed"};
  return {"pending", ""};
}

AllocRunner::AllocRunner(RunnerContext& ctx, state::Alloc alloc)
    : ctx_(ctx), id_(alloc.id), job_(jobspec::job_from_json(alloc.job)), alloc_(std::move(alloc)) {
  for (const auto& g : job_.groups)
    if (g.name == alloc_.group) group_ = &g;
}

AllocRunner::~AllocRunner() { join(); }

void AllocRunner::start(bool recovering) {
  if (!group_) {
    std::lock_guard lock(mu_);
    alloc_.client_status = "failed";
    alloc_.client_description = "task group \"" + alloc_.group + "\" is not in the job";
    (void)ctx_.store->put_alloc_status(alloc_);
    return;
  }
  if (auto st = dir().build(); !st) {
    spdlog::error("alloc {}: {}", id_, st.message());
    std::lock_guard lock(mu_);
    alloc_.client_status = "failed";
    alloc_.client_description = "building the alloc dir: " + st.message();
    (void)ctx_.store->put_alloc_status(alloc_);
    return;
  }
  std::lock_guard lock(mu_);
  for (const auto& task : group_->tasks) {
    auto& ts = alloc_.tasks[task.name];
    if (recovering && ts.state == "dead") continue;
    nlohmann::json handle = recovering ? ctx_.store->handle(id_, task.name) : nlohmann::json();
    tasks_.push_back(std::make_unique<TaskRunner>(*this, task, handle));
  }
  for (auto& t : tasks_) t->start();
}

void AllocRunner::kill_tasks(const std::string& reason, const std::string& except) {
  for (auto& t : tasks_)
    if (t->name() != except) t->kill(reason);
}

void AllocRunner::stop(const std::string& reason) {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    alloc_.desired_status = "stop";
    alloc_.modify_time_ns = state::now_ns();
    (void)ctx_.store->put_alloc_status(alloc_);
  }
  kill_tasks(reason, "");
}

void AllocRunner::detach() {
  for (auto& t : tasks_) t->detach();
}

void AllocRunner::join() {
  for (auto& t : tasks_) t->join();
}

state::Alloc AllocRunner::snapshot() const {
  std::lock_guard lock(mu_);
  return alloc_;
}

bool AllocRunner::terminal() const {
  std::lock_guard lock(mu_);
  return alloc_.terminal();
}

void AllocRunner::update_task(const std::string& task,
                              const std::function<void(state::TaskState&)>& fn) {
  bool sibling_failed = false;
  {
    std::lock_guard lock(mu_);
    auto& ts = alloc_.tasks[task];
    bool was_failed = ts.failed;
    fn(ts);
    if (auto st = ctx_.store->put_task_state(id_, task, ts); !st)
      spdlog::error("alloc {} task {}: {}", id_, task, st.message());
    auto [status, description] = client_status_of(alloc_.tasks);
    if (status != alloc_.client_status || description != alloc_.client_description) {
      alloc_.client_status = status;
      alloc_.client_description = description;
      alloc_.modify_time_ns = state::now_ns();
      if (auto st = ctx_.store->put_alloc_status(alloc_); !st)
        spdlog::error("alloc {}: {}", id_, st.message());
    }
    if (!was_failed && ts.failed && !stopping_) {
      stopping_ = true;
      sibling_failed = true;
    }
  }
  // A failed task takes its siblings down with it, as in Nomad.
  if (sibling_failed) kill_tasks("Sibling Task Failed: task \"" + task + "\" failed", task);
}

nlohmann::json AllocRunner::task_spec(const jobspec::Task& task) const {
  auto d = dir();
  TaskEnvInput in;
  in.job = &job_;
  in.group = group_;
  in.task = &task;
  in.alloc_id = id_;
  in.alloc_name = alloc_.name;
  in.alloc_index = alloc_.index;
  in.alloc_dir = d.shared_dir().string();
  in.task_dir = d.local_dir(task.name).string();
  in.secrets_dir = d.secrets_dir(task.name).string();
  in.node = &ctx_.node;
  TaskEnv env(in);
  nlohmann::json env_json = nlohmann::json::object();
  for (const auto& [k, v] : env.vars()) env_json[k] = v;
  const auto& r = task.resources;
  auto kill_timeout = std::min<std::chrono::nanoseconds>(task.kill_timeout, ctx_.max_kill_timeout);
  return {
      {"AllocID", id_},
      {"JobID", job_.id},
      {"GroupName", group_->name},
      {"TaskName", task.name},
      {"User", task.user},
      {"Config", env.interpolate(task.config)},
      {"Env", env_json},
      {"AllocDir", d.root.string()},
      {"TaskDir", d.task_dir(task.name).string()},
      {"StdoutPath", task.logs.disabled ? "/dev/null" : d.log_file(task.name, "stdout").string()},
      {"StderrPath", task.logs.disabled ? "/dev/null" : d.log_file(task.name, "stderr").string()},
      {"Resources",
       {{"CPU", r.cpu_mhz}, {"MemoryMB", r.memory_mb}, {"MemoryMaxMB", r.memory_max_mb},
        {"Cores", r.cores}, {"Pids", r.pids}}},
      {"KillSignal", task.kill_signal.empty() ? "SIGTERM" : task.kill_signal},
      {"KillTimeoutMs", std::chrono::duration_cast<std::chrono::milliseconds>(kill_timeout).count()},
      {"MonitorPath", ctx_.monitor_path.string()},
      {"StateDir", (ctx_.data_dir / "tasks" / id_ / task.name).string()},
      {"LogConfig",
       {{"MaxFiles", task.logs.max_files}, {"MaxFileSizeMB", task.logs.max_file_size_mb},
        {"Disabled", task.logs.disabled}}},
  };
}

}  // namespace drover::runner
