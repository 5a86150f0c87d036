// The node's health watcher; see health_watcher.hpp.
#include "health/health_watcher.hpp"

#include <spdlog/spdlog.h>


#include "catalog/catalog.hpp"
#include "catalog/service_registration.hpp"
#include "drover/loader/registry.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/task_env.hpp"

namespace drover::health {

HealthWatcher::HealthWatcher(runner::AllocManager& manager, Options opts)
    : manager_(manager), opts_(opts) {}

HealthWatcher::~HealthWatcher() { stop(); }

void HealthWatcher::start() {
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void HealthWatcher::stop() {
  thread_.request_stop();  // wakes the loop's waits
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  watches_.clear();  // each CheckRunner waits for its probe in flight
}

void HealthWatcher::alloc_changed(const state::Alloc&) {
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_all();
}

nlohmann::json HealthWatcher::checks(const std::string& alloc_id) const {
  nlohmann::json out = nlohmann::json::object();
  std::lock_guard lock(mu_);
  auto it = watches_.find(alloc_id);
  if (it == watches_.end()) return out;
  for (const auto& c : it->second->checks) out[c->spec().id] = c->result_json();
  return out;
}

void HealthWatcher::loop(std::stop_token stop) {
  for (;;) {
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, stop, opts_.poll, [&] { return wake_; });
      if (stop.stop_requested()) return;
      wake_ = false;
    }
    try {
      scan();
    } catch (const std::exception& e) {
      spdlog::error("health watcher: {}", e.what());
    }
    // A burst of task changes (1000 tasks starting) becomes one scan per 100 ms, not one per
    // change: each scan copies every alloc, so per-change scans made a start of N tasks O(N²)
    // (measured in bench/). Health is decided on a 500 ms poll anyway.
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
    if (stop.stop_requested()) return;
  }
}

namespace {

// --- Ports (docs/networking.md) ---
// The service's and check's fields interpolated like the task's, and a port label turned into
// the allocated "host_ip:port"; a number or "host:port" stays literal.
void resolve_ports(CheckSpec& spec, const runner::TaskEnv& env,
                   const std::vector<state::AllocatedNetwork>& networks, const std::string& task) {
  auto label = [&](std::string& value) {
    value = env.interpolate(value);
    for (const auto& n : networks)
      if (n.task.empty() || n.task == task)
        for (const auto& p : n.ports)
          if (p.label == value) {
            value = (p.host_ip.find(':') != std::string::npos ? "[" + p.host_ip + "]" : p.host_ip) +
                    ":" + std::to_string(p.value);
            return;
          }
  };
  spec.service_block.name = env.interpolate(spec.service_block.name);
  spec.service_block.address = env.interpolate(spec.service_block.address);
  label(spec.service_block.port);
  label(spec.check.port);
  spec.check.path = env.interpolate(spec.check.path);
}
// --- end ports ---

}  // namespace

std::unique_ptr<HealthWatcher::Watch> HealthWatcher::make_watch(const state::Alloc& alloc) {
  auto w = std::make_unique<Watch>();
  jobspec::Job job = jobspec::job_from_json(alloc.job ? *alloc.job : nlohmann::json());
  const jobspec::TaskGroup* group = nullptr;
  for (const auto& g : job.groups)
    if (g.name == alloc.group) group = &g;
  if (!group) return w;
  // Batch allocs are meant to finish: Nomad tracks health for service deployments only.
  if (alloc.deployment_status.is_null() && job.type == jobspec::JobType::Service) {
    auto settings = health_settings(job, *group);
    if (settings.mode != "manual")
      w->tracker = std::make_unique<HealthTracker>(settings, ephemeral_tasks(*group), Clock::now());
  }
  auto dir = runner::alloc_dir_for(manager_.ctx().data_dir, alloc.id);
  // One check of `svc`, run while `task` runs (and in it, for a script check of a task with
  // a filesystem of its own); `id_task` names it in its id ("" for a group service, so that its
  // ids never meet a task service's); `owner` is the task the service is registered with.
  auto add_check = [&](const jobspec::Task& task, const std::string& id_task,
                       const jobspec::Service& svc, const jobspec::Check& check, std::size_t n,
                       const jobspec::Task& owner) {
    CheckSpec spec;
    spec.id = check_id(alloc.id, id_task, svc.name, n);
    spec.alloc_id = alloc.id;
    spec.group = alloc.group;
    spec.task = task.name;
    spec.service = svc.name;
    spec.driver = task.driver;
    // A task with its own filesystem runs its script checks inside it (by capability).
    auto* driver = manager_.ctx().plugins ? manager_.ctx().plugins->driver(task.driver) : nullptr;
    spec.inside_task = driver && driver->isolates_filesystem();
    if (spec.inside_task)
      spec.exec_in_task = [this, alloc_id = alloc.id, task_name = task.name](
                              const std::vector<std::string>& argv, std::chrono::milliseconds t) {
        return manager_.exec_alloc(alloc_id, task_name, argv, t);
      };
    spec.check = check;
    if (spec.check.name.empty()) spec.check.name = "service: \"" + svc.name + "\" check";
    spec.service_block = svc;
    spec.task_dir = dir.task_dir(task.name);
    runner::TaskEnvInput in;
    in.job = &job;
    in.group = group;
    in.task = &task;
    in.alloc_id = alloc.id;
    in.alloc_name = alloc.name;
    in.alloc_index = alloc.index;
    in.alloc_dir = dir.shared_dir().string();
    in.task_dir = dir.local_dir(task.name).string();
    in.secrets_dir = dir.secrets_dir(task.name).string();
    in.node = &manager_.ctx().node;
    in.networks = &alloc.networks;
    runner::TaskEnv env(in);
    spec.env = env.vars();
    spec.registration_id = catalog::registration_id(
        alloc.id, owner.name, id_task.empty() ? group->name : "", env.interpolate(svc.name), svc.port);
    resolve_ports(spec, env, alloc.networks, task.name);
    spec.check.command = env.interpolate(spec.check.command);
    for (auto& a : spec.check.args) a = env.interpolate(a);
    w->checks.push_back(std::make_unique<CheckRunner>(
        std::move(spec), [this](const std::string& alloc_id, const std::string& t) {
          if (auto st = manager_.restart_alloc(alloc_id, t); !st)
            spdlog::warn("check_restart of {} task {}: {}", alloc_id, t, st.message());
        },
        scheduler_));
  };
  for (const auto& task : group->tasks) {
    std::size_t n = 0;
    for (const auto& svc : task.services)
      for (const auto& check : svc.checks) add_check(task, task.name, svc, check, n++, task);
  }
  // Group services (jobspec/job.hpp): with the leader, else the first main task.
  const jobspec::Task* main = nullptr;
  for (const auto& t : group->tasks)
    if (t.leader) main = &t;
  for (const auto& t : group->tasks)
    if (!main && t.lifecycle.hook.empty()) main = &t;
  // A script check there runs in the task it names (validated at submit).
  if (main) {
    std::size_t n = 0;
    for (const auto& svc : group->services)
      for (const auto& check : svc.checks) {
        const jobspec::Task* in = main;
        for (const auto& t : group->tasks)
          if (!check.task.empty() && t.name == check.task) in = &t;
        add_check(*in, "", svc, check, n++, *main);
      }
  }
  return w;
}

void HealthWatcher::scan() {
  std::vector<std::pair<std::string, nlohmann::json>> verdicts;
  // Each registration's checks, as they stand now, for the catalog's health view.
  std::map<std::string, std::vector<catalog::CheckStatus>> service_checks;
  {
    // Held through the walk over the allocs (lock order: this, then the manager's and each
    // runner's), so that each alloc's watch is looked up in place: no per-scan copies of ids.
    std::lock_guard lock(mu_);
    ++scan_;
    // An alloc is copied only when there is something to learn from it: a new one, one whose
    // health is still open (its tracker counts time, not changes), or one with checks that
    // has changed since the last look (a task restarted or stopped). Each scan copied every
    // alloc, twice a second: ~2 % of a core at 1,000 tasks (bench/results/2026-12-05-fresh-boot.md).
    auto allocs = manager_.allocs_where([&](const state::Alloc& a) {
      // A failed alloc whose health is still open is judged once more: its task may have
      // failed between two looks, and that makes it unhealthy.
      bool failed_undecided = a.client_status == "failed" && a.deployment_status.is_null();
      if (a.desired_status != "run" || (a.terminal() && !failed_undecided)) return false;
      auto it = watches_.find(a.id);
      if (it == watches_.end()) return true;
      Watch& w = *it->second;
      w.scan = scan_;  // still live
      return w.tracker || (!w.checks.empty() && w.seen_index != a.modify_index);
    });
    auto now = Clock::now();
    for (const auto& a : allocs) {
      const std::string& id = a.id;
      auto& w = watches_[id];
      if (!w) w = make_watch(a);
      w->scan = scan_;
      w->seen_index = a.modify_index;
      for (auto& c : w->checks) {
        auto ts = a.tasks.find(c->spec().task);
        bool running = ts != a.tasks.end() && ts->second.state == state::TaskPhase::Running;
        auto& clock = w->clocks[c->spec().task];
        if (ts != a.tasks.end() && ts->second.started_at_ns != clock.started_at_ns) {
          clock.started_at_ns = ts->second.started_at_ns;
          clock.started = now;
        }
        c->set_task(running, clock.started);
      }
      if (!w->tracker) continue;
      bool all_passing = true;
      for (auto& c : w->checks) all_passing = all_passing && c->healthy_for_deployment();
      auto verdict = w->tracker->observe(a, all_passing, now);
      if (!verdict) continue;
      nlohmann::json status = {{"Healthy", verdict->healthy},
                               {"Timestamp", state::rfc3339(state::now_ns())},
                               {"Canary", false},
                               {"ModifyIndex", 0},
                               {"Description", verdict->reason}};
      verdicts.emplace_back(id, status);
      w->tracker.reset();
    }
    // An alloc not seen live in this walk has ended or gone: its watch (and checks) go.
    std::erase_if(watches_, [&](const auto& kv) { return kv.second->scan != scan_; });
    // Every live alloc's checks, changed or not: their results move on their own clocks.
    for (const auto& [id, w] : watches_)
      for (auto& c : w->checks)
        service_checks[c->spec().registration_id].push_back({c->spec().check.name, c->status()});
  }
  // Outside mu_: the catalog may be etcd. A registration not made yet (the task is starting)
  // or gone is no matter: the next look tries again.
  if (auto* cat = manager_.ctx().catalog)
    for (const auto& [id, checks] : service_checks)
      if (auto st = cat->set_checks(id, checks); !st && st.code() != Errc::NotFound)
        spdlog::debug("service {}: recording its checks' health: {}", id, st.message());
  // Outside mu_: set_deployment_status calls the change hook, which may call back in.
  for (const auto& [id, status] : verdicts) {
    spdlog::info("alloc {} is {}: {}", id, status["Healthy"].get<bool>() ? "healthy" : "unhealthy",
                 status["Description"].get<std::string>());
    if (auto st = manager_.set_deployment_status(id, status); !st)
      spdlog::warn("alloc {}: recording health: {}", id, st.message());
    if (on_verdict_) on_verdict_(id, status);
  }
}

}  // namespace drover::health
