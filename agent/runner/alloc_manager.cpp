#include "runner/alloc_manager.hpp"

#include <set>

#include "runner/alloc_network.hpp"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/fault_point.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/names.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/disk_budget.hpp"
#include "runner/exit_watcher.hpp"
#include "runner/node_resources.hpp"
#include "runner/port_allocator.hpp"

namespace drover::runner {


AllocManager::AllocManager(RunnerContext ctx)
    : ctx_(std::move(ctx)), exit_watcher_(std::make_unique<ExitWatcher>()) {
  ctx_.alloc_index = &alloc_index_;
  if (exit_watcher_->running()) ctx_.exit_watcher = exit_watcher_.get();
}

AllocManager::~AllocManager() { shutdown(); }

void AllocManager::recover() {
  std::lock_guard lock(mu_);
  // Allocs of one job version share its JSON (the store hands it out once); parse it once.
  std::map<const nlohmann::json*, std::shared_ptr<const jobspec::Job>> parsed;
  auto allocs = ctx_.store->allocs();
  // Namespaces of allocs that ended (or are gone from the store) while the agent was down go
  // first; a live alloc's namespace is kept, with its address (docs/networking.md).
  std::set<std::string> live_ids;
  for (const auto& a : allocs)
    if (!a.terminal()) live_ids.insert(a.id);
  AllocNetwork::remove_leftovers(ctx_.data_dir, live_ids, ctx_.plugins);
  for (auto& alloc : allocs) {
    bool live = !alloc.terminal();
    auto id = alloc.id;
    // An alloc that cannot be brought back fails alone, with the reason; the others recover.
    try {
      auto& job = parsed[alloc.job.get()];
      if (!job && alloc.job) job = std::make_shared<const jobspec::Job>(jobspec::job_from_json(*alloc.job));
      auto r = std::make_shared<AllocRunner>(ctx_, alloc, job);
      add_runner_locked(r);
      if (live) r->start(/*recovering=*/true);
    } catch (const std::exception& e) {
      spdlog::error("alloc {}: cannot be recovered: {}", id, e.what());
      alloc.client_status = "failed";
      alloc.client_description = std::string("cannot be recovered: ") + e.what();
      alloc.modify_time_ns = state::now_ns();
      if (auto st = ctx_.store->put_alloc_status(alloc); !st) spdlog::error("alloc {}: {}", id, st.message());
      add_runner_locked(std::make_shared<AllocRunner>(ctx_, std::move(alloc),
                                                      std::make_shared<const jobspec::Job>()));
    }
  }
  spdlog::info("recovered {} allocs from the state store", runners_.size());
}

void AllocManager::shutdown() {
  std::map<std::string, std::shared_ptr<AllocRunner>> runners;
  {
    std::lock_guard lock(mu_);
    runners = runners_;
  }
  for (auto& [_, r] : runners) r->detach();
  for (auto& [_, r] : runners) r->join();
}

Result<SubmitReceipt> AllocManager::submit(const jobspec::Job& job) {
  auto receipt = submit_locked(job);
  if (receipt) job_changed({job.namespace_name, job.id});
  return receipt;
}

Result<SubmitReceipt> AllocManager::submit_locked(const jobspec::Job& job) {
  std::lock_guard lock(mu_);
  auto job_json = std::make_shared<const nlohmann::json>(jobspec::to_json(job));
  const state::JobKey key{job.namespace_name, job.id};
  SubmitReceipt receipt{random_uuid(), job.id, {}};
  auto existing = ctx_.store->job(key);
  std::vector<std::shared_ptr<AllocRunner>> old;
  if (auto it = allocs_by_job_.find(key); it != allocs_by_job_.end())
    for (const auto& id : it->second)
      if (auto& r = runners_.at(id); r->live_and_wanted()) old.push_back(r);
  // The same job: its canonical JSON, or one an older drover wrote without the keys added
  // since (their defaults), so that an upgrade does not make a resubmit restart the job.
  const bool same = existing && (existing->job == *job_json || [&] {
                      try {
                        return jobspec::job_from_json(existing->job) == job;
                      } catch (const std::exception&) {
                        return false;
                      }
                    }());
  if (same && !existing->stopped && !old.empty()) {
    for (auto& r : old) receipt.alloc_ids.push_back(r->id());
    return receipt;
  }
  // A periodic or parameterized job runs nothing itself: it is kept for its launcher and
  // for dispatch (runner/periodic_launcher.hpp, runner/dispatch.hpp), as Nomad creates no
  // evaluation for it. Resubmitted unchanged, it keeps its submit time (and its schedule).
  if (jobspec::launches_children(job)) {
    if (same && !existing->stopped) return receipt;
    if (auto st = ctx_.store->put_job({job.id, *job_json, state::now_ns(), false, key.ns}); !st)
      return make_error(st.message());
    for (auto& r : old) r->stop("Job \"" + job.id + "\" was updated");
    return receipt;
  }
  if (ctx_.resources) {
    // What the replaced allocs hold is theirs until they stop; count it as free for the new.
    std::vector<const jobspec::TaskGroup*> live;
    for (auto& [id, r] : runners_) {
      if (std::find(old.begin(), old.end(), r) != old.end()) continue;
      if (r->group_or_null() && !r->terminal()) live.push_back(r->group_or_null());
    }
    std::vector<std::pair<const jobspec::TaskGroup*, int>> want;
    for (const auto& g : job.groups) want.emplace_back(&g, g.count);
    if (auto st = ctx_.resources->fits(want, live); !st) return st.error();
  }
  std::vector<std::pair<const jobspec::TaskGroup*, std::string>> placements;
  for (const auto& group : job.groups)
    for (int i = 0; i < group.count; ++i) placements.emplace_back(&group, random_uuid());
  auto networks = allocate_ports_locked(job.id, placements, old);
  if (!networks) return networks.error();

  // The replacement is the new alloc with the same group and index (Nomad's
  // PreviousAllocation); a sticky ephemeral disk goes to it.
  std::vector<state::Alloc> allocs;
  std::vector<std::shared_ptr<AllocRunner>> previous;
  std::size_t n = 0;
  for (const auto& group : job.groups) {
    for (int i = 0; i < group.count; ++i, ++n) {
      std::shared_ptr<AllocRunner> prev;
      for (auto& o : old)
        if (o->group_or_null() && o->group_or_null()->name == group.name && o->index() == i)
          prev = o;
      allocs.push_back(new_alloc(placements[n].second, job, job_json, group, i,
                                 std::move(networks.value()[n]), prev ? prev->id() : std::string()));
      previous.push_back(prev);
    }
  }
  // The job, its allocs and the old allocs' stop in one write, before anything runs: a crash
  // from here on finds all of it again, or none.
  std::vector<state::Alloc> stopped;
  for (auto& r : old) {
    stopped.push_back(r->snapshot());
    stopped.back().desired_status = "stop";
  }
  // The Starting handles of the tasks each new alloc starts first go in the same write
  // (AllocRunner::starting_handles_ahead): their starts write one fewer.
  state::StateStore::StartingHandles starting;
  n = 0;
  for (const auto& group : job.groups)
    for (int i = 0; i < group.count; ++i, ++n)
      if (auto h = AllocRunner::starting_handles_ahead(ctx_, allocs[n], group); !h.empty())
        starting[allocs[n].id] = std::move(h);
  const state::JobRecord record{job.id, *job_json, state::now_ns(), false, key.ns};
  if (auto st = ctx_.store->put_placement(&record, allocs, stopped, starting); !st)
    return make_error(st.message());
  fault_point("alloc_persisted");
  for (auto& r : old) r->stop("Job \"" + job.id + "\" was updated");

  // One parsed copy for every alloc of this job, read back from its canonical JSON as the
  // allocs of a restarted agent are.
  auto parsed = std::make_shared<const jobspec::Job>(jobspec::job_from_json(*job_json));
  std::vector<std::shared_ptr<AllocRunner>> placed;
  n = 0;
  for (const auto& group : job.groups) {
    for (int i = 0; i < group.count; ++i, ++n) {
      auto r = std::make_shared<AllocRunner>(ctx_, std::move(allocs[n]), parsed);
      if (auto h = starting.find(r->id()); h != starting.end()) r->set_starting_stored(h->second);
      add_runner_locked(r);
      if (previous[n] && (group.ephemeral_disk.sticky || group.ephemeral_disk.migrate))
        r->set_previous(previous[n]);
      receipt.alloc_ids.push_back(r->id());
      placed.push_back(r);
    }
  }
  for (auto& r : placed) r->start(/*recovering=*/false);
  return receipt;
}

state::Alloc AllocManager::new_alloc(const std::string& alloc_id, const jobspec::Job& job,
                                     const std::shared_ptr<const nlohmann::json>& job_json,
                                     const jobspec::TaskGroup& group, int index,
                                     std::vector<state::AllocatedNetwork> networks,
                                     const std::string& previous_alloc) {
  state::Alloc a;
  a.id = alloc_id;
  a.previous_alloc = previous_alloc;
  a.job_id = job.id;
  a.namespace_ = job.namespace_name;
  a.group = group.name;
  a.index = index;
  a.name = job.id + "." + group.name + "[" + std::to_string(index) + "]";
  a.create_time_ns = a.modify_time_ns = state::now_ns();
  a.job = job_json;
  // Ports go into the store with the alloc, before any task starts (docs/networking.md).
  a.networks = std::move(networks);
  for (const auto& t : group.tasks) {
    state::TaskState ts;
    ts.events.push_back({state::event::kReceived, a.create_time_ns, "Task received by client"});
    a.tasks[t.name] = ts;
  }
  return a;
}

Status AllocManager::place(const std::string& alloc_id, const jobspec::Job& job,
                           const std::string& group_name, int index) {
  if (auto problem = plain_name_problem(alloc_id)) return make_error("alloc id: " + *problem);
  const jobspec::TaskGroup* group = nullptr;
  for (const auto& g : job.groups)
    if (g.name == group_name) group = &g;
  if (!group) return make_error("task group \"" + group_name + "\" is not in job \"" + job.id + "\"");
  std::shared_ptr<AllocRunner> r;
  {
    std::lock_guard lock(mu_);
    if (runners_.count(alloc_id)) return {};
    auto job_json = std::make_shared<const nlohmann::json>(jobspec::to_json(job));
    const state::JobKey key{job.namespace_name, job.id};
    auto existing = ctx_.store->job(key);
    std::optional<state::JobRecord> record;
    if (!existing || existing->job != *job_json)
      record = state::JobRecord{job.id, *job_json, state::now_ns(), false, key.ns};
    // Allocs of a job the upstream already placed here share its parsed copy.
    std::shared_ptr<const jobspec::Job> parsed;
    if (auto it = allocs_by_job_.find(key); it != allocs_by_job_.end())
      for (const auto& id : it->second)
        if (auto& other = runners_.at(id); other->job_json() && *other->job_json() == *job_json) {
          parsed = other->shared_job();
          break;
        }
    if (!parsed) parsed = std::make_shared<const jobspec::Job>(jobspec::job_from_json(*job_json));
    auto networks = allocate_ports_locked(job.id, {{group, alloc_id}}, {});
    if (!networks) return networks.error();
    std::vector<state::Alloc> allocs{
        new_alloc(alloc_id, job, job_json, *group, index, std::move(networks.value().front()))};
    // The job (when new or changed here) and the alloc, with its first tasks' Starting
    // handles, in one write before anything runs.
    auto handles = AllocRunner::starting_handles_ahead(ctx_, allocs.front(), *group);
    state::StateStore::StartingHandles starting;
    if (!handles.empty()) starting[alloc_id] = handles;
    if (auto st = ctx_.store->put_placement(record ? &*record : nullptr, allocs, {}, starting); !st) return st;
    fault_point("alloc_persisted");
    r = std::make_shared<AllocRunner>(ctx_, std::move(allocs.front()), parsed);
    r->set_starting_stored(handles);
    add_runner_locked(r);
  }
  r->start(/*recovering=*/false);
  return {};
}

Result<std::vector<std::vector<state::AllocatedNetwork>>> AllocManager::allocate_ports_locked(
    const std::string& job_id,
    const std::vector<std::pair<const jobspec::TaskGroup*, std::string>>& placements,
    const std::vector<std::shared_ptr<AllocRunner>>& replaced) {
  std::vector<std::vector<state::AllocatedNetwork>> out(placements.size());
  const PortAllocator* ports = ctx_.resources ? ctx_.resources->ports() : nullptr;
  bool any = std::any_of(placements.begin(), placements.end(), [](const auto& p) {
    const auto& g = *p.first;
    return !g.networks.empty() || std::any_of(g.tasks.begin(), g.tasks.end(), [](const auto& t) {
      return !t.resources.networks.empty();
    });
  });
  if (!any) return out;
  if (!ports) return make_error("this agent hands out no ports", Errc::Unsupported);
  // What live allocs hold; a terminal alloc holds nothing (its ports were freed as it ended).
  PortUsage usage;
  for (const auto& [id, r] : runners_) {
    if (r->terminal()) continue;
    bool is_replaced = std::find(replaced.begin(), replaced.end(), r) != replaced.end();
    usage.add(r->networks(), {id, r->job_id(), is_replaced});
  }
  std::string errors;
  for (std::size_t i = 0; i < placements.size(); ++i) {
    auto got = ports->allocate(*placements[i].first, usage,
                               {placements[i].second, job_id, false, /*placing=*/true});
    if (!got)
      errors += std::string(errors.empty() ? "" : "; ") + "group \"" + placements[i].first->name +
                "\": " + got.message();
    else
      out[i] = std::move(got.value());
  }
  if (!errors.empty())
    return make_error("the job does not fit on this node: " + errors, Errc::Conflict);
  return out;
}

Status AllocManager::set_deployment_status(const std::string& alloc_id, const nlohmann::json& status) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  r->set_deployment_status(status);
  return {};
}

Result<std::string> AllocManager::stop_job(const state::JobKey& job) {
  std::vector<std::shared_ptr<AllocRunner>> targets;
  {
    std::lock_guard lock(mu_);
    auto rec = ctx_.store->job(job);
    if (!rec) return make_error(state::describe(job) + " not found", Errc::NotFound);
    rec->stopped = true;
    if (auto st = ctx_.store->put_job(*rec); !st) return make_error(st.message());
    if (auto it = allocs_by_job_.find(job); it != allocs_by_job_.end())
      for (const auto& id : it->second) targets.push_back(runners_.at(id));
  }
  for (auto& r : targets) r->stop("Job \"" + job.id + "\" was stopped");
  job_changed(job);
  return random_uuid();
}

Result<std::string> AllocManager::purge_job(const state::JobKey& job) {
  auto eval = stop_job(job);
  if (!eval) return eval;
  std::lock_guard lock(mu_);
  if (auto st = ctx_.store->delete_job(job); !st) return make_error(st.message());
  spdlog::info("purged {}", state::describe(job));
  job_changed(job);
  return eval;
}

Status AllocManager::stop_alloc(const std::string& alloc_id, const std::string& reason) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  r->stop(reason);
  return {};
}

Status AllocManager::restart_alloc(const std::string& alloc_id, const std::string& task) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  return r->restart_task(task);
}

Status AllocManager::signal_alloc(const std::string& alloc_id, const std::string& task,
                                  const std::string& signal) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  return r->signal_task(task, signal);
}

Result<nlohmann::json> AllocManager::exec_alloc(const std::string& alloc_id, const std::string& task,
                                                const std::vector<std::string>& argv,
                                                std::chrono::milliseconds timeout) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  return r->exec_task(task, argv, timeout);
}

Result<std::unique_ptr<plugins::ExecSession>> AllocManager::exec_stream(
    const std::string& alloc_id, const std::string& task, const plugins::ExecRequest& request) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  return r->exec_stream(task, request);
}

Result<std::vector<std::string>> AllocManager::action_command(const std::string& alloc_id,
                                                              const std::string& job_id,
                                                              const std::string& task,
                                                              const std::string& action) {
  auto r = runner(alloc_id);
  if (!r) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
  // Nomad's words for each refusal (client/alloc_endpoint.go).
  if (r->job_key().id != job_id)
    return make_error("job " + job_id + " does not have allocation " + alloc_id, Errc::Invalid);
  const jobspec::TaskGroup* group = r->group_or_null();
  const jobspec::Task* t = nullptr;
  if (group != nullptr)
    for (const auto& candidate : group->tasks)
      if (candidate.name == task) t = &candidate;
  if (t == nullptr) return make_error("task " + task + " not found in allocation " + alloc_id, Errc::Invalid);
  for (const auto& a : t->actions)
    if (a.name == action) {
      std::vector<std::string> argv{a.command};
      argv.insert(argv.end(), a.args.begin(), a.args.end());
      return argv;
    }
  return make_error("action " + action + " not found in task " + task, Errc::Invalid);
}

Status AllocManager::gc_alloc(const std::string& alloc_id) {
  std::shared_ptr<AllocRunner> r;
  {
    std::lock_guard lock(mu_);
    auto it = runners_.find(alloc_id);
    if (it == runners_.end()) return make_error("alloc \"" + alloc_id + "\" not found", Errc::NotFound);
    if (!it->second->terminal())
      return make_error("alloc " + alloc_id + " is still " + it->second->snapshot().client_status +
                        "; stop it before garbage collecting it");
    r = it->second;
    auto& last = removed_alloc_ns_[r->job_key()];
    last = std::max(last, r->modify_time_ns());
    erase_runner_locked(alloc_id);
  }
  r->join();
  auto dir_status = r->dir().destroy();
  std::error_code ec;
  std::filesystem::remove_all(ctx_.data_dir / "tasks" / alloc_id, ec);
  std::filesystem::remove_all(ctx_.runtime_root() / "tasks" / alloc_id, ec);
  if (auto st = ctx_.store->delete_alloc(alloc_id); !st) return st;
  if (!dir_status) return dir_status;
  spdlog::info("garbage collected alloc {}", alloc_id);
  return {};
}

int AllocManager::gc(int max_allocs, int disk_threshold_percent) {
  auto disk_used_percent = [&]() -> int {
    struct statvfs v {};
    if (statvfs(ctx_.data_dir.c_str(), &v) != 0 || v.f_blocks == 0) return 0;
    return static_cast<int>(100 - (100.0 * v.f_bavail / v.f_blocks));
  };
  std::vector<state::Alloc> terminal;
  for (auto& a : allocs())
    if (a.terminal()) terminal.push_back(std::move(a));
  std::sort(terminal.begin(), terminal.end(),
            [](const auto& a, const auto& b) { return a.modify_time_ns < b.modify_time_ns; });
  int removed = 0;
  for (const auto& a : terminal) {
    bool over_count = static_cast<int>(terminal.size()) - removed > max_allocs;
    if (!over_count && disk_used_percent() < disk_threshold_percent) break;
    if (gc_alloc(a.id)) ++removed;
  }
  return removed;
}

int AllocManager::enforce_disk_budgets() {
  std::vector<std::shared_ptr<AllocRunner>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, r] : runners_)
      if (r->live_and_wanted() && r->group_or_null() && r->group_or_null()->ephemeral_disk.size_mb > 0)
        live.push_back(r);
  }
  int failed = 0;
  // Measured without the manager's lock: a walk of a large dir must not hold up submits.
  for (auto& r : live) {
    const std::uint64_t budget = std::uint64_t(r->group_or_null()->ephemeral_disk.size_mb) << 20;
    const std::uint64_t used = disk_usage_bytes(r->dir().root);
    if (used <= budget) continue;
    const std::string reason = "the alloc dir uses " + std::to_string(used >> 20) +
                               " MB, above its ephemeral_disk size of " +
                               std::to_string(budget >> 20) + " MB";
    spdlog::warn("alloc {}: {}: failing it", r->id(), reason);
    r->fail_tasks(reason, state::event::kDiskExceeded);
    ++failed;
  }
  return failed;
}

int AllocManager::gc_jobs(std::chrono::nanoseconds threshold) {
  const int64_t cutoff = state::now_ns() - threshold.count();
  struct Candidate {
    state::JobKey job;
    int64_t submit_time_ns;
    std::vector<std::string> alloc_ids;
  };
  std::vector<Candidate> candidates;
  // Read (and parsed) before taking mu_, so submits do not wait on it; a job submitted again
  // meanwhile is caught below by its submit time.
  auto records = ctx_.store->jobs();
  {
    std::lock_guard lock(mu_);
    for (auto& rec : records) {
      // A periodic or parameterized job that is not stopped has no allocs by design; it goes
      // only once stopped, as in Nomad.
      if (!rec.stopped && rec.job.is_object() &&
          ((rec.job.contains("Periodic") && !rec.job["Periodic"].is_null()) ||
           (rec.job.contains("ParameterizedJob") && !rec.job["ParameterizedJob"].is_null() &&
            !rec.job.value("Dispatched", false))))
        continue;
      const auto key = rec.key();
      int64_t last = std::max(rec.submit_time_ns,
                              removed_alloc_ns_.count(key) ? removed_alloc_ns_[key] : 0);
      Candidate c{key, rec.submit_time_ns, {}};
      bool live = false;
      if (auto it = allocs_by_job_.find(key); it != allocs_by_job_.end())
        for (const auto& id : it->second) {
          auto& r = runners_.at(id);
          if (!r->terminal()) {
            live = true;
            break;
          }
          last = std::max(last, r->modify_time_ns());
          c.alloc_ids.push_back(id);
        }
      if (!live && last < cutoff) candidates.push_back(std::move(c));
    }
  }
  int removed = 0;
  for (const auto& c : candidates) {
    bool all_gone = true;
    for (const auto& id : c.alloc_ids)
      if (auto st = gc_alloc(id); !st) {
        spdlog::warn("job gc: {}: {}", state::describe(c.job), st.message());
        all_gone = false;
      }
    if (!all_gone) continue;
    std::lock_guard lock(mu_);
    // Submitted again meanwhile: the job is new, not garbage.
    auto rec = ctx_.store->job(c.job);
    if (!rec || rec->submit_time_ns != c.submit_time_ns || allocs_by_job_.count(c.job)) continue;
    if (auto st = ctx_.store->delete_job(c.job); !st) {
      spdlog::warn("job gc: {}", st.message());
      continue;
    }
    removed_alloc_ns_.erase(c.job);
    alloc_index_.next();
    ++removed;
  }
  return removed;
}

void AllocManager::add_runner_locked(const std::shared_ptr<AllocRunner>& r) {
  runners_[r->id()] = r;
  allocs_by_job_[r->job_key()].insert(r->id());
  // Anchored to the alloc's create time, as Nomad's: an agent restart does not move it.
  const auto* group = r->group_or_null();
  if (group && group->max_run_duration.count() > 0 && !r->terminal()) {
    const auto created = DeadlineTimer::Clock::time_point(
        std::chrono::duration_cast<DeadlineTimer::Clock::duration>(
            std::chrono::nanoseconds(r->create_time_ns())));
    deadlines_.at(created + std::chrono::duration_cast<DeadlineTimer::Clock::duration>(
                                group->max_run_duration),
                  [this, id = r->id()] {
                    if (auto runner = this->runner(id)) runner->exceed_max_run_duration();
                  });
  }
}

void AllocManager::erase_runner_locked(const std::string& alloc_id) {
  auto it = runners_.find(alloc_id);
  if (it == runners_.end()) return;
  auto by_job = allocs_by_job_.find(it->second->job_key());
  if (by_job != allocs_by_job_.end()) {
    by_job->second.erase(alloc_id);
    if (by_job->second.empty()) allocs_by_job_.erase(by_job);
  }
  runners_.erase(it);
  alloc_index_.next();  // a list without it is news to a blocking query
}

std::vector<std::shared_ptr<AllocRunner>> AllocManager::job_runners(const state::JobKey& job) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<AllocRunner>> out;
  if (auto it = allocs_by_job_.find(job); it != allocs_by_job_.end())
    for (const auto& id : it->second) out.push_back(runners_.at(id));
  return out;
}

std::shared_ptr<AllocRunner> AllocManager::runner(const std::string& alloc_id) {
  std::lock_guard lock(mu_);
  auto it = runners_.find(alloc_id);
  return it == runners_.end() ? nullptr : it->second;
}

void AllocManager::record_task_event(const std::string& alloc_id, const std::string& task,
                                     state::TaskEvent e) {
  auto r = runner(alloc_id);  // not under mu_: update_task takes the runner's own lock
  if (!r || !r->snapshot().tasks.count(task)) return;
  if (e.time_ns == 0) e.time_ns = state::now_ns();
  r->update_task(task, [&](state::TaskState& s) {
    s.events.push_back(std::move(e));
    if (s.events.size() > state::kMaxTaskEvents)
      s.events.erase(s.events.begin(), s.events.end() - state::kMaxTaskEvents);
  });
}

std::vector<state::Alloc> AllocManager::allocs() {
  return allocs_where([](const state::Alloc&) { return true; });
}

std::vector<state::Alloc> AllocManager::allocs_where(
    const std::function<bool(const state::Alloc&)>& want) {
  std::vector<std::shared_ptr<AllocRunner>> rs;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, r] : runners_) rs.push_back(r);
  }
  std::vector<state::Alloc> out;
  for (auto& r : rs)
    if (auto a = r->snapshot_if(want)) out.push_back(std::move(*a));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.create_time_ns != b.create_time_ns ? a.create_time_ns < b.create_time_ns : a.id < b.id;
  });
  return out;
}

std::vector<state::Alloc> AllocManager::job_allocs(const state::JobKey& job) {
  std::vector<state::Alloc> out;
  for (auto& r : job_runners(job)) out.push_back(r->snapshot());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.create_time_ns != b.create_time_ns ? a.create_time_ns < b.create_time_ns : a.id < b.id;
  });
  return out;
}

std::optional<state::Alloc> AllocManager::alloc(const std::string& alloc_id) {
  auto r = runner(alloc_id);
  if (!r) return std::nullopt;
  return r->snapshot();
}

Result<std::string> AllocManager::resolve_alloc_id(const std::string& prefix) {
  if (prefix.empty()) return make_error("alloc id must not be empty", Errc::Invalid);
  std::lock_guard lock(mu_);
  if (runners_.count(prefix)) return prefix;
  std::vector<std::string> matches;
  for (auto it = runners_.lower_bound(prefix); it != runners_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    matches.push_back(it->first);
  }
  if (matches.empty()) return make_error("alloc \"" + prefix + "\" not found", Errc::NotFound);
  if (matches.size() > 1)
    return make_error("alloc id prefix \"" + prefix + "\" is ambiguous: matches " +
                          std::to_string(matches.size()) + " allocs",
                      Errc::Ambiguous);
  return matches.front();
}

bool AllocManager::any_live_job_with_prefix(const state::JobKey& prefix) {
  std::lock_guard lock(mu_);
  for (auto it = allocs_by_job_.lower_bound(prefix);
       it != allocs_by_job_.end() && it->first.ns == prefix.ns &&
       it->first.id.compare(0, prefix.id.size(), prefix.id) == 0;
       ++it)
    for (const auto& id : it->second)
      if (!runners_.at(id)->terminal()) return true;
  return false;
}

std::vector<state::JobRecord> AllocManager::jobs() { return ctx_.store->jobs(); }

std::optional<state::JobRecord> AllocManager::job(const state::JobKey& job) {
  return ctx_.store->job(job);
}

std::string AllocManager::job_status(const state::JobKey& job) {
  auto rs = job_runners(job);
  if (rs.empty()) return "dead";
  bool any_live = false, any_started = false;
  for (const auto& r : rs) {
    auto status = r->client_status();
    if (status != "complete" && status != "failed" && status != "lost") any_live = true;
    if (status != "pending") any_started = true;
  }
  if (!any_live) return "dead";
  return any_started ? "running" : "pending";
}

}  // namespace drover::runner
