// The leader's view of the cluster, fed by an etcd watch: the whole prefix read once (and
// again whenever the watch breaks, the view is doubted, or it falls behind), then only what
// changed, applied key by key to one ClusterState (cluster_state.hpp). A pass then costs what
// changed since the last one, not a read and parse of every job and alloc in the cluster
// (docs/cluster.md, "Placement"). The state is as of `revision`, the last revision the watch
// delivered whole; the plan's writes are guarded by it, as they were by a range's.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "drover/common/result.hpp"
#include "server/cluster_state.hpp"
#include "server/keys.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

class ClusterView {
 public:
  // `on_change`: called from the watch's thread when changes arrive (the leader plans again).
  ClusterView(upstream::EtcdConfig cfg, Keys keys, std::function<void()> on_change);
  ~ClusterView();
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  // The state with every change delivered so far applied, and at least `min_revision` (a
  // write of this server's own that the plan must see); the whole prefix is read again when
  // the watch is not running or does not get there within a few seconds. Owned by the view:
  // valid until the next call, from one thread.
  Result<ClusterState*> current(int64_t min_revision = 0);
  // As current(), but never reads the prefix whole: null when the view is doubted or not
  // started, or the watch has not delivered `min_revision` within `catch_up` (a read served
  // from the view falls back to etcd rather than make the leader read everything again).
  ClusterState* current_if(int64_t min_revision, std::chrono::milliseconds catch_up);
  // Read the whole prefix again at the next current() (a plan's guard failed: the view may
  // have missed something; this server just became leader).
  void resync();
  // Stops the watch and drops the state (this server no longer leads: nothing would read it).
  void release();
  // Full reads so far (the first included), for the metrics.
  std::uint64_t reloads() const { return reloads_; }

 private:
  Result<ClusterState*> reload();
  // Applies what the watch delivered once it has got to `min_revision` (waiting up to
  // `catch_up`); false when it is doubted or did not get there.
  bool catch_up(int64_t min_revision, std::chrono::milliseconds wait);
  void stop_watch();
  void watch(int64_t from);

  upstream::EtcdConfig cfg_;
  Keys keys_;
  std::function<void()> on_change_;
  std::unique_ptr<ClusterStateIndex> index_;
  int64_t revision_ = 0;  // index_'s
  std::uint64_t reloads_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<upstream::EtcdWatchEvent> pending_;  // delivered, not yet applied
  int64_t pending_revision_ = 0;                   // the last revision in pending_
  bool fresh_ = false;  // the watch runs from index_'s revision and nothing doubts the view
  std::unique_ptr<upstream::EtcdClient> watch_client_;  // one per watch, interrupted to stop it
  std::thread watcher_;
};

}  // namespace drover::server
