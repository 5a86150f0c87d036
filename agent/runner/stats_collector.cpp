#include "runner/stats_collector.hpp"

#include "state/alloc.hpp"

namespace drover::runner {

StatsCollector::~StatsCollector() { stop(); }

void StatsCollector::start(std::chrono::nanoseconds interval) {
  stop();
  thread_ = std::jthread([this, interval](std::stop_token stop) {
    auto next = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      collect_once();
      // On a fixed beat: a round that ran long does not push every later one back.
      next += interval;
      auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;
      std::unique_lock lock(wake_mu_);
      cv_.wait_until(lock, stop, next, [] { return false; });
    }
  });
}

void StatsCollector::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void StatsCollector::track(const std::string& name, cgroups::StatsReader reader) {
  auto e = std::make_shared<Entry>(std::move(reader));
  std::lock_guard lock(mu_);
  entries_[name] = std::move(e);
}

void StatsCollector::track(const std::string& name, Opener open) {
  auto e = std::make_shared<Entry>(std::move(open));
  std::lock_guard lock(mu_);
  entries_[name] = std::move(e);
}

const cgroups::StatsReader* StatsCollector::reader_of(Entry& e) {
  std::lock_guard lock(e.open_mu);
  if (!e.reader && e.open) {
    auto r = e.open();
    e.open = nullptr;  // the cgroup existed when tracked: failing now, it is gone for good
    if (r) e.reader.emplace(std::move(r.value()));
  }
  return e.reader ? &*e.reader : nullptr;
}

void StatsCollector::untrack(const std::string& name) {
  std::shared_ptr<Entry> gone;  // its fds close outside the lock, after a round using it
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(name); it != entries_.end()) {
      gone = std::move(it->second);
      entries_.erase(it);
    }
  }
  // A round that took it before this must not open it now: the cgroup is about to go, and
  // its absence then is no news (it warned for every task stopped before its first read).
  if (gone) {
    std::lock_guard lock(gone->open_mu);
    gone->open = nullptr;
  }
}

std::size_t StatsCollector::tracked() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::shared_ptr<StatsCollector::Entry> StatsCollector::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

void StatsCollector::started(const std::string& name) {
  auto e = find(name);
  if (!e) return;
  {
    std::lock_guard read_lock(e->read_mu);  // a task started again reads afresh
    e->since = {};
  }
  std::lock_guard lock(e->mu);
  ++e->generation;
  e->read = false;
  e->sample.reset();
  e->cpu = cgroups::CpuPercent();
}

void StatsCollector::sample(Entry& e) {
  uint64_t generation;
  {
    std::lock_guard lock(e.mu);
    generation = e.generation;
  }
  const cgroups::StatsReader* reader = reader_of(e);
  Result<cgroups::Stats> stats = make_error("no stats reader");
  if (reader) {
    std::lock_guard read_lock(e.read_mu);
    stats = reader->read(e.since);
  }
  std::lock_guard lock(e.mu);
  if (e.generation != generation) return;  // read from before the task's start
  e.read = true;
  if (!stats) {
    // Removed underneath (or between a task's exit and its untrack): no stats, and a
    // fresh baseline should it come back.
    e.sample.reset();
    e.cpu = cgroups::CpuPercent();
    return;
  }
  StatsSample s;
  s.cpu = e.cpu.update(*stats);
  s.stats = std::move(*stats);
  s.timestamp_ns = state::now_ns();
  e.sample = std::move(s);
}

void StatsCollector::collect_once() {
  std::vector<std::shared_ptr<Entry>> round;
  {
    std::lock_guard lock(mu_);
    round.reserve(entries_.size());
    for (const auto& [_, e] : entries_) round.push_back(e);
  }
  // Read without the map's lock: starts and stops of tasks do not wait on a round.
  for (const auto& e : round) sample(*e);
}

std::optional<StatsSample> StatsCollector::latest(const std::string& name) {
  auto e = find(name);
  if (!e) return std::nullopt;
  std::optional<StatsSample> out;
  bool read = false;
  {
    std::lock_guard lock(e->mu);
    read = e->read;
    if (read) out = e->sample;
  }
  if (!read) {
    sample(*e);
    std::lock_guard lock(e->mu);
    out = e->sample;
  }
  // The pids are read for the request, not by every round: they change seldom, and a
  // round's cgroup.procs (openat, read, close per task) was a third of its syscalls.
  if (out)
    if (const auto* reader = reader_of(*e)) out->pids = reader->pids();
  return out;
}

}  // namespace drover::runner
