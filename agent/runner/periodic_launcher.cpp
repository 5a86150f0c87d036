// The periodic launcher (see periodic_launcher.hpp).
#include "runner/periodic_launcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "drover/common/json_text.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/stored_job.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

namespace {

// How long the thread sleeps at most between turns: a wall clock step (NTP) is noticed
// within this.
constexpr auto kMaxSleep = std::chrono::seconds(30);

int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

using jobspec::periodic_active;
using jobspec::periodic_child;

PeriodicLauncher::PeriodicLauncher(AllocManager& allocs, state::StateStore& store,
                                   std::function<int64_t()> clock)
    : allocs_(allocs), store_(store), clock_(clock ? std::move(clock) : system_now) {}

PeriodicLauncher::~PeriodicLauncher() { stop(); }

void PeriodicLauncher::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      std::optional<int64_t> next;
      {
        std::lock_guard lock(mu_);
        next = turn_locked(clock_());
      }
      auto sleep = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSleep);
      if (next) {
        // Wake at the launch second itself: the system clock's sub-second part is waited out.
        auto due = std::chrono::system_clock::time_point(std::chrono::seconds(*next));
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            due - std::chrono::system_clock::now());
        sleep = std::clamp(left, std::chrono::milliseconds(5),
                           std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSleep));
      }
      std::unique_lock wake(wake_mu_);
      cv_.wait_for(wake, stop, sleep, [this] { return woken_; });
      woken_ = false;
    }
  });
}

void PeriodicLauncher::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void PeriodicLauncher::job_changed(const state::JobKey& job) {
  {
    std::lock_guard lock(changed_mu_);
    changed_.insert(job);
  }
  {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicLauncher::run_once() {
  std::lock_guard lock(mu_);
  (void)turn_locked(clock_());
}

void PeriodicLauncher::refresh_locked() {
  bool all = false;
  std::set<state::JobKey> changed;
  {
    // Taken first: a change while reading is kept for the next turn.
    std::lock_guard lock(changed_mu_);
    all = std::exchange(reload_all_, false);
    changed.swap(changed_);
  }
  if (all) {
    entries_.clear();
    for (const auto& rec : store_.jobs()) reload_one_locked(rec);
    return;
  }
  for (const auto& key : changed) {
    entries_.erase(key);
    if (auto rec = store_.job(key)) reload_one_locked(*rec);
  }
}

void PeriodicLauncher::reload_one_locked(const state::JobRecord& rec) {
  if (rec.stopped || !rec.job.is_object()) return;
  const auto& pj = rec.job;
  if (!pj.contains("Periodic") || pj["Periodic"].is_null()) return;
  try {
    auto job = jobspec::job_from_json(pj);
    if (!periodic_active(job)) return;
    auto schedule = jobspec::PeriodicSchedule::of(*job.periodic);
    if (!schedule) {
      spdlog::error("periodic {}: {}", state::describe(rec.key()), schedule.message());
      return;
    }
    entries_.emplace(rec.key(),
                     Entry{std::move(job), std::move(*schedule), rec.submit_time_ns / 1000000000});
  } catch (const std::exception& ex) {
    spdlog::error("periodic {}: cannot be read: {}", state::describe(rec.key()), ex.what());
  }
}

PeriodicLauncher::LastLaunch PeriodicLauncher::last_launch(const state::JobKey& job) {
  LastLaunch l;
  if (auto text = store_.periodic_launch(job)) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object()) {
      l.time = j.value("Launch", int64_t{0});
      l.until = j.value("Until", l.time);
      l.pending = j.value("Pending", false);
    }
  }
  return l;
}

void PeriodicLauncher::put_last_launch(const state::JobKey& job, const LastLaunch& l) {
  if (auto st = store_.put_periodic_launch(
          job, json_text({{"Launch", l.time}, {"Until", l.until}, {"Pending", l.pending}}));
      !st)
    spdlog::error("periodic {}: cannot record its launch: {}", state::describe(job), st.message());
}

bool PeriodicLauncher::submit_child(const Entry& e, int64_t unix) {
  auto child = periodic_child(e.job, unix);
  // Submitted before the agent stopped.
  if (store_.job({child.namespace_name, child.id})) return true;
  auto receipt = allocs_.submit(child);
  if (!receipt) {
    spdlog::error("periodic job {}: launching {} failed: {}", e.job.id, child.id,
                  receipt.message());
    return false;
  }
  spdlog::info("periodic job {}: launched {}", e.job.id, child.id);
  return true;
}

std::optional<int64_t> PeriodicLauncher::turn_locked(int64_t now) {
  refresh_locked();
  std::optional<int64_t> earliest;
  for (const auto& [id, e] : entries_) {
    LastLaunch last = last_launch(id);
    if (last.pending) {
      // Recorded, and the agent stopped before its child was surely submitted.
      submit_child(e, last.time);
      last.pending = false;
      put_last_launch(id, last);
    }
    // A job submitted (or changed) after its last launch counts from its submit time: a new
    // schedule starts now, as in Nomad.
    const int64_t base = std::max(last.until, e.submit_s);
    auto next = e.schedule.next_after(base);
    if (auto at = e.schedule.due(base, now)) {
      if (e.job.periodic->prohibit_overlap &&
          allocs_.any_live_job_with_prefix({id.ns, id.id + "/periodic-"})) {
        spdlog::info(
            "periodic job {}: launch at {} skipped: a child is still running "
            "(prohibit_overlap)",
            id.id, *at);
        put_last_launch(id, {*at, now, false});
      } else {
        // Every missed time up to now is covered by this one launch.
        put_last_launch(id, {*at, now, true});
        submit_child(e, *at);
        put_last_launch(id, {*at, now, false});
      }
      next = e.schedule.next_after(now);
    }
    if (next && (!earliest || *next < *earliest)) earliest = next;
  }
  return earliest;
}

Result<std::string> PeriodicLauncher::force(const state::JobKey& key) {
  std::lock_guard lock(mu_);
  auto rec = store_.job(key);
  auto job = stored_job(rec, key);
  if (!job) return job.error();
  if (auto ok = jobspec::can_force_periodic(*job, rec->stopped); !ok) return ok.error();
  auto child = periodic_child(*job, clock_());
  if (store_.job({child.namespace_name, child.id}))
    return make_error("job \"" + child.id + "\" was already launched this second", Errc::Conflict);
  auto receipt = allocs_.submit(child);
  if (!receipt) return receipt.error();
  spdlog::info("periodic job {}: launched {} (forced)", key.id, child.id);
  return child.id;
}

std::optional<int64_t> PeriodicLauncher::next_launch(const state::JobKey& job) {
  std::lock_guard lock(mu_);
  refresh_locked();
  auto it = entries_.find(job);
  if (it == entries_.end()) return std::nullopt;
  auto base = std::max(last_launch(job).until, it->second.submit_s);
  return it->second.schedule.next_after(std::max(base, clock_() - 1));
}

}  // namespace drover::runner
