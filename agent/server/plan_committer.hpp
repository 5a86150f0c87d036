// The leader's planning loop: the cluster as the watch-fed view has it at one revision
// (cluster_view.hpp), planned (scheduler.hpp), and written in etcd transactions that succeed
// only if this server still holds the leader key, no alloc, deployment or node control changed
// since that revision, and no job the transaction writes for changed since it was read. A
// failed compare means another writer got there first: nothing is written and the next pass
// plans again from what is there now, so two servers never place the same work twice
// (docs/cluster.md, "Placement").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stop_token>

#include "server/cluster_counts.hpp"
#include "server/cluster_view.hpp"
#include "server/keys.hpp"
#include "server/scheduler.hpp"
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
  std::atomic<std::uint64_t> view_reloads{0};  // whole reads of the prefix (cluster_view.hpp)
  // The API's reads on the leader: served from the view's copy, or from etcd (snapshot()).
  std::atomic<std::uint64_t> reads_from_view{0}, reads_from_etcd{0};
};

class PlanCommitter {
 public:
  // `defaults`: server.yaml's scheduler configuration, used while none is stored in etcd.
  PlanCommitter(upstream::EtcdConfig cfg, Keys keys, LeaderElection& election,
                SchedulerConfig defaults = {});
  // Stops the view's watch first: its thread wakes this loop, whose lock goes before the view.
  ~PlanCommitter();
  void run(std::stop_token stop);
  // Plan now rather than at the next tick (a job was registered or stopped).
  void wake();
  const PlanStats& stats() const { return stats_; }
  // The view's counts for /v1/metrics, made by this loop between two passes (it alone touches
  // the view); nullopt when this server does not lead or no pass ended within `wait`.
  std::optional<ClusterCounts> counts(std::chrono::milliseconds wait);
  // A copy of the view's state for a read (server/api_support.hpp read_state), made by this
  // loop between two passes once the view holds every change up to `min_revision` (etcd's
  // revision when the read began, so the read sees every write acknowledged before it). Null
  // when this server does not lead, the view is doubted or behind, or no pass ended within
  // `wait`: the read then goes to etcd as a follower's does.
  std::shared_ptr<const ClusterState> snapshot(int64_t min_revision, std::chrono::milliseconds wait);

 private:
  void pass();
  void answer_counts();
  void answer_snapshots();

  upstream::EtcdConfig cfg_;
  Keys keys_;
  LeaderElection& election_;
  SchedulerConfig defaults_;
  ClusterView view_;
  LeaderMemory memory_;
  int64_t committed_revision_ = 0;  // the revision of this leader's last write
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;
  std::uint64_t counts_asked_ = 0, counts_made_ = 0;  // requests of counts(), and answered
  std::optional<ClusterCounts> counts_;
  std::condition_variable counted_;
  // Reads waiting for a snapshot: each request's minimum revision and, once answered, its copy.
  struct SnapshotRequest {
    int64_t min_revision = 0;
    bool answered = false;
    std::shared_ptr<const ClusterState> state;
  };
  std::vector<std::shared_ptr<SnapshotRequest>> snapshot_requests_;
  std::condition_variable snapshotted_;
  // The last copy made, handed to every read until the view moves on: its revision, and the
  // plans written and whole reads then (a plan is applied to the view before the watch
  // brings it back at a later revision).
  struct LastCopy {
    std::shared_ptr<const ClusterState> state;
    int64_t revision = 0;
    std::uint64_t commits = 0, reloads = 0;
  } last_copy_;
  // When a read last asked: the copy is let go 30 s after (it is a second cluster's worth of
  // memory, worth keeping while someone polls).
  std::chrono::steady_clock::time_point last_read_{};
  PlanStats stats_;
};

}  // namespace drover::server
