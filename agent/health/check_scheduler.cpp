// Shared threads for every check of the node; see check_scheduler.hpp.
#include "health/check_scheduler.hpp"

#include <spdlog/spdlog.h>

namespace drover::health {

namespace {
// The job this thread is running, so that a run may remove its own job without waiting on
// itself.
thread_local const CheckScheduler* tl_scheduler = nullptr;
thread_local CheckScheduler::Id tl_job = 0;
}  // namespace

CheckScheduler::CheckScheduler(Options opts) : opts_(opts) {
  if (opts_.max_workers == 0) opts_.max_workers = 1;
  timer_ = std::thread([this] { timer_loop(); });
}

CheckScheduler::~CheckScheduler() {
  std::map<uint64_t, std::thread> workers;
  {
    std::unique_lock lock(mu_);
    stop_ = true;
    timer_cv_.notify_all();
    ready_cv_.notify_all();
    // Runs still in flight end on their own; nothing is left to hand them once stopped.
    done_cv_.wait(lock, [&] {
      for (const auto& [id, job] : jobs_)
        if (job.running) return false;
      return true;
    });
    workers.swap(workers_);
  }
  for (auto& [n, t] : workers)
    if (t.joinable()) t.join();
  if (timer_.joinable()) timer_.join();
}

CheckScheduler::Id CheckScheduler::add(Run run) {
  std::lock_guard lock(mu_);
  Id id = next_id_++;
  Job& job = jobs_[id];
  job.run = std::move(run);
  job.queued = true;
  ready_.emplace_back(id, Clock::now());
  hand_out_locked();
  return id;
}

void CheckScheduler::wake(Id id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.removed) return;
  Job& job = it->second;
  if (job.running) {
    job.woken = true;
    return;
  }
  if (job.queued || job.due) return;  // not parked: it runs when due
  job.queued = true;
  ready_.emplace_back(id, Clock::now());
  hand_out_locked();
}

void CheckScheduler::remove(Id id) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  job.removed = true;
  if (job.due) timers_.erase({*job.due, id});
  job.due.reset();
  if (job.queued) {
    std::erase_if(ready_, [&](const auto& r) { return r.first == id; });
    job.queued = false;
  }
  if (job.running) {
    if (tl_scheduler == this && tl_job == id) return;  // the worker erases it after the run
    done_cv_.wait(lock, [&] {
      auto j = jobs_.find(id);
      return j == jobs_.end() || !j->second.running;
    });
    it = jobs_.find(id);
    if (it == jobs_.end()) return;
  }
  jobs_.erase(it);
}

std::size_t CheckScheduler::workers() const {
  std::lock_guard lock(mu_);
  return workers_.size() - exited_.size();
}

void CheckScheduler::schedule_locked(Id id, Job& job, Clock::time_point at) {
  bool earliest = timers_.empty() || at < timers_.begin()->first;
  job.due = at;
  timers_.insert({at, id});
  if (earliest) timer_cv_.notify_one();
}

void CheckScheduler::hand_out_locked() {
  std::size_t alive = workers_.size() - exited_.size();
  if (alive == 0) {
    start_worker_locked();
    last_spawn_ = Clock::now();
  } else {
    ready_cv_.notify_one();
    // Every worker busy: the timer thread starts one if this job is still waiting then.
    if (ready_.size() > idle_) timer_cv_.notify_one();
  }
}

std::optional<CheckScheduler::Clock::time_point> CheckScheduler::spawn_due_locked() const {
  // idle_ workers will each take one ready job; a job beyond those has no worker coming.
  if (ready_.size() <= idle_ || workers_.size() - exited_.size() >= opts_.max_workers)
    return std::nullopt;
  return std::max(ready_.front().second, last_spawn_) + opts_.spawn_after;
}

void CheckScheduler::start_worker_locked() {
  join_exited_locked();
  uint64_t n = next_worker_++;
  try {
    workers_.emplace(n, std::thread([this, n] { worker_loop(n); }));
    ++idle_;  // counted from its birth: it takes a ready job
  } catch (const std::system_error& e) {
    // Out of threads: the workers there are take the job in turn.
    spdlog::warn("health checks: cannot start a worker thread: {}", e.what());
    ready_cv_.notify_one();
  }
}

void CheckScheduler::join_exited_locked() {
  // An exited worker has let go of mu_ for good, so joining it here cannot wait on us.
  for (uint64_t n : exited_) {
    auto it = workers_.find(n);
    if (it == workers_.end()) continue;
    if (it->second.joinable()) it->second.join();
    workers_.erase(it);
  }
  exited_.clear();
}

void CheckScheduler::timer_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (!exited_.empty()) join_exited_locked();
    auto now = Clock::now();
    auto spawn = spawn_due_locked();
    if (spawn && *spawn <= now) {
      start_worker_locked();
      last_spawn_ = now;  // also after a failed start: try again only after spawn_after
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first <= now) {
      Id id = timers_.begin()->second;
      timers_.erase(timers_.begin());
      Job& job = jobs_.at(id);
      job.due.reset();
      job.queued = true;
      ready_.emplace_back(id, now);
      hand_out_locked();
      continue;
    }
    auto next = spawn;
    if (!timers_.empty() && (!next || timers_.begin()->first < *next))
      next = timers_.begin()->first;
    if (next) {
      timer_cv_.wait_until(lock, *next);
    } else {
      timer_cv_.wait(lock);
    }
  }
}

void CheckScheduler::worker_loop(uint64_t worker) {
  tl_scheduler = this;
  std::unique_lock lock(mu_);
  for (;;) {
    // idle_ already counts this worker (from its start, or from the end of its last run).
    bool got = ready_cv_.wait_for(lock, opts_.idle, [&] { return stop_ || !ready_.empty(); });
    if (stop_ || !got) {
      --idle_;
      exited_.push_back(worker);
      timer_cv_.notify_one();  // the timer thread joins it, so that its stack goes
      return;
    }
    --idle_;
    Id id = ready_.front().first;
    ready_.pop_front();
    Job& job = jobs_.at(id);
    job.queued = false;
    job.running = true;
    job.woken = false;
    tl_job = id;
    lock.unlock();
    std::optional<Clock::time_point> next;
    try {
      next = job.run();  // the job's node stays put in the map while it runs
    } catch (const std::exception& e) {
      spdlog::error("health check run failed: {}", e.what());
      next = Clock::now() + std::chrono::seconds(10);
    }
    lock.lock();
    tl_job = 0;
    ++idle_;
    job.running = false;
    if (job.removed) {
      jobs_.erase(id);
    } else if (job.woken && !next) {
      job.queued = true;
      ready_.emplace_back(id, Clock::now());
      hand_out_locked();
    } else if (next) {
      schedule_locked(id, job, *next);
    }
    done_cv_.notify_all();
  }
}

}  // namespace drover::health
