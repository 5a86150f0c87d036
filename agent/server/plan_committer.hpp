// The leader's planning loop: read the cluster at one revision, plan (scheduler.hpp), and
// write the plan in one etcd transaction that succeeds only if this server still holds the
// leader key and no alloc or job key changed since that revision. A failed compare means
// another writer got there first: nothing is written and the next pass plans again from
// what is there now, so two servers never place the same work twice
// (docs/cluster.md, "Placement").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>

#include "server/keys.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

class LeaderElection;

// What the leader's loop measured, for /v1/metrics (server/metrics_api.hpp): passes (read,
// plan, commit) and the commits of plans that changed something, their count and seconds.
struct PlanStats {
  std::atomic<std::uint64_t> passes{0}, commits{0};
  std::atomic<double> pass_seconds{0}, commit_seconds{0};  // totals
  std::atomic<double> last_pass_seconds{0}, last_commit_seconds{0};
};

class PlanCommitter {
 public:
  // `defaults`: server.yaml's scheduler configuration, used while none is stored in etcd.
  PlanCommitter(upstream::EtcdConfig cfg, Keys keys, LeaderElection& election,
                SchedulerConfig defaults = {});
  void run(std::stop_token stop);
  // Plan now rather than at the next tick (a job was registered or stopped).
  void wake();
  const PlanStats& stats() const { return stats_; }

 private:
  void pass();

  upstream::EtcdConfig cfg_;
  Keys keys_;
  LeaderElection& election_;
  SchedulerConfig defaults_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;
  PlanStats stats_;
};

}  // namespace drover::server
