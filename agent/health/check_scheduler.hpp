// Runs every check of the node on a few shared threads instead of a thread per check: one
// timer thread keeps when each check is next due and hands due checks to workers. A check
// that waits Options::spawn_after for a worker while every worker is busy (their probes
// block) gets a new one, up to Options::max_workers; a worker leaves after Options::idle
// without work. So quick probes share one or two workers even when a thousand come due
// together, and slow ones do not hold up the rest for long (docs/health.md, "Where checks
// run").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace drover::health {

class CheckScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  // One run of a job: returns when it is next due, or nullopt to park it until wake().
  using Run = std::function<std::optional<Clock::time_point>()>;
  using Id = uint64_t;

  struct Options {
    // Probes block (a script or an HTTP request runs to its timeout); past this many at once,
    // due checks wait their turn instead of each taking a thread.
    std::size_t max_workers = 256;
    std::chrono::milliseconds idle = std::chrono::seconds(10);
    std::chrono::milliseconds spawn_after = std::chrono::milliseconds(2);
  };

  CheckScheduler() : CheckScheduler(Options{}) {}
  explicit CheckScheduler(Options opts);
  ~CheckScheduler();  // every job must be removed first
  CheckScheduler(const CheckScheduler&) = delete;
  CheckScheduler& operator=(const CheckScheduler&) = delete;

  // Adds a job, due at once.
  Id add(Run run);
  // A parked job is due at once, and so is a job that parks at the end of the run in flight;
  // a job waiting for its due time keeps it.
  void wake(Id id);
  // The job never runs again once this returns: waits for a run in flight to end, unless
  // called from that run itself.
  void remove(Id id);

  // Worker threads alive now (the timer thread not counted).
  std::size_t workers() const;

 private:
  struct Job {
    Run run;
    std::optional<Clock::time_point> due;  // in timers_ while set
    bool queued = false;                   // in ready_
    bool running = false;
    bool removed = false;
    bool woken = false;  // wake() during a run
  };

  void timer_loop();
  void worker_loop(uint64_t worker);
  void schedule_locked(Id id, Job& job, Clock::time_point at);
  void hand_out_locked();
  void start_worker_locked();
  // When a ready job without a worker would justify one more; nullopt: none waits.
  std::optional<Clock::time_point> spawn_due_locked() const;
  void join_exited_locked();

  Options opts_;
  mutable std::mutex mu_;
  std::condition_variable timer_cv_;  // a new earliest due time, or stop
  std::condition_variable ready_cv_;  // a job ready for a worker, or stop
  std::condition_variable done_cv_;   // a run ended (remove waits on it)
  std::map<Id, Job> jobs_;
  std::set<std::pair<Clock::time_point, Id>> timers_;
  std::deque<std::pair<Id, Clock::time_point>> ready_;  // with when each became ready
  Clock::time_point last_spawn_{};
  Id next_id_ = 1;
  std::map<uint64_t, std::thread> workers_;
  std::vector<uint64_t> exited_;  // workers that left, to join
  uint64_t next_worker_ = 1;
  std::size_t idle_ = 0;  // workers waiting for a job
  bool stop_ = false;
  std::thread timer_;
};

}  // namespace drover::health
