// StatsCollector: one thread reads every running task's cgroup once per
// `collection_interval` (Nomad's name; 1 s by default) through the directory fds its
// StatsReader holds, and keeps the latest sample of each with its CPU rates over the last
// interval. GET /v1/client/allocation/:id/stats serves from here: a request never reads
// the kernel's files itself, and CPU percent needs no earlier request.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "drover/cgroups/cgroups.hpp"
#include "drover/cgroups/stats_json.hpp"

namespace drover::runner {

struct StatsSample {
  cgroups::Stats stats;
  cgroups::CpuUsage cpu;  // over the interval before `timestamp_ns`; zeros on a first sample
  std::vector<pid_t> pids;  // read when latest() is asked, not by the rounds
  int64_t timestamp_ns = 0;  // unix ns
};

class StatsCollector {
 public:
  StatsCollector() = default;
  ~StatsCollector();
  StatsCollector(const StatsCollector&) = delete;
  StatsCollector& operator=(const StatsCollector&) = delete;

  // Starts the thread reading every tracked task once per `interval`. Tracking works
  // before it (and without it: latest() then reads on demand).
  void start(std::chrono::nanoseconds interval);
  void stop();

  // Task cgroup `name` ("<alloc>.<task>") is read from now on, through `reader`'s fds;
  // tracking it again replaces the reader and forgets its samples.
  void track(const std::string& name, cgroups::StatsReader reader);
  // The same with the reader opened at the first sample, not now: a task's start does not
  // wait for its stats fds (a dozen opens of cgroup files on v1).
  using Opener = std::function<Result<cgroups::StatsReader>()>;
  void track(const std::string& name, Opener open);
  // Closes its fds; its stats are gone.
  void untrack(const std::string& name);
  // The task is now inside its cgroup: samples taken before (an empty cgroup, between its
  // creation and the task's start) are dropped, so the next request reads it afresh.
  void started(const std::string& name);
  // The latest sample, with the cgroup's pids as they are now; when the thread has none yet
  // (the task started within the last interval), one is read now. Nothing when the task is
  // not tracked or its cgroup is gone.
  std::optional<StatsSample> latest(const std::string& name);
  std::size_t tracked() const;
  // One round over every tracked task (the thread's work; tests call it directly).
  void collect_once();

 private:
  struct Entry {
    explicit Entry(cgroups::StatsReader r) : reader(std::move(r)) {}
    explicit Entry(Opener o) : open(std::move(o)) {}
    std::mutex mu;  // the sample and the CPU baseline: the thread and latest() both sample
    std::mutex open_mu;  // one opener at a time; `reader` never changes once set
    Opener open;         // until `reader` is open
    std::optional<cgroups::StatsReader> reader;
    cgroups::CpuPercent cpu;
    std::optional<StatsSample> sample;
    bool read = false;  // sampled at least once (a gone cgroup leaves `sample` empty)
    uint64_t generation = 0;  // bumped by started(): a read begun before it is dropped
    // One read at a time: each re-reads only what changed since the last (StatsReader::Since);
    // started() empties it.
    std::mutex read_mu;
    cgroups::StatsReader::Since since;
  };
  static void sample(Entry& e);
  static const cgroups::StatsReader* reader_of(Entry& e);
  std::shared_ptr<Entry> find(const std::string& name) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::mutex wake_mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: stopped before the rest goes
};

}  // namespace drover::runner
