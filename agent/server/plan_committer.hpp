// The leader's planning loop: read the cluster at one revision, plan (scheduler.hpp), and
// write the plan in one etcd transaction that succeeds only if this server still holds the
// leader key and no alloc or job key changed since that revision. A failed compare means
// another writer got there first: nothing is written and the next pass plans again from
// what is there now, so two servers never place the same work twice
// (docs/cluster.md, "Placement").
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>

#include "server/keys.hpp"
#include "server/scheduler_config.hpp"
#include "upstream/upstream_config.hpp"

namespace drover::server {

class LeaderElection;

class PlanCommitter {
 public:
  // `defaults`: server.yaml's scheduler configuration, used while none is stored in etcd.
  PlanCommitter(upstream::EtcdConfig cfg, Keys keys, LeaderElection& election,
                SchedulerConfig defaults = {});
  void run(std::stop_token stop);
  // Plan now rather than at the next tick (a job was registered or stopped).
  void wake();

 private:
  void pass();

  upstream::EtcdConfig cfg_;
  Keys keys_;
  LeaderElection& election_;
  SchedulerConfig defaults_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;
};

}  // namespace drover::server
