// The etcd backend (cluster mode). Keys, under the configured prefix (default /drover):
//   <prefix>/nodes/<node_id>              the node's JSON, under a lease its heartbeat renews
//   <prefix>/node_records/<node_id>       the same, without a lease: the node known once down
//   <prefix>/allocs/<node_id>/<alloc_id>  a desired alloc, written by a scheduler or operator
//   <prefix>/status/<node_id>/<alloc_id>  the alloc's status and health, written by the node
// etcd's Raft is the cluster's replicated state; drover adds no consensus of its own.
#pragma once

#include <functional>
#include <mutex>

#include "upstream/etcd_client.hpp"
#include "upstream/upstream.hpp"

namespace drover::upstream {

class EtcdUpstream : public Upstream {
 public:
  EtcdUpstream(EtcdConfig cfg, std::string node_id);

  std::string name() const override { return "etcd"; }
  Status register_node(const nlohmann::json& node) override;
  Status heartbeat() override;
  Result<DesiredAllocs> list_allocs() override;
  Status watch_allocs(int64_t after_revision,
                      const std::function<void(const DesiredAllocEvent&)>& fn) override;
  Status report(const std::vector<AllocUpdate>& updates) override;
  void interrupt() override { client_.interrupt(); }
  bool clustered() const override { return true; }

  // Called with the lease after each registration of the node (the service catalog puts its
  // entries under it: catalog/etcd_catalog.hpp).
  void set_on_registered(std::function<void(int64_t lease)> fn) { on_registered_ = std::move(fn); }

  std::string node_key() const;
  std::string node_record_key() const;
  std::string allocs_prefix() const;
  std::string status_prefix() const;

 private:
  EtcdConfig cfg_;
  std::string node_id_;
  EtcdClient client_;
  std::mutex mu_;
  int64_t lease_ = 0;
  std::function<void(int64_t)> on_registered_;
};

}  // namespace drover::upstream
