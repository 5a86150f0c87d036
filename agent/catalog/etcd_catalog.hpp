// The cluster catalog: registrations in etcd under <prefix>/services/<service-name>/<id>, each
// put under the node's lease (the one its registration at <prefix>/nodes/<node_id> holds), so a
// node's services vanish with the node. Every node reads every node's entries, so list() is the
// cluster's catalog. A watch on <prefix>/services/ moves the change index when any node changes
// an entry.
//
// The node's own registrations are also kept in memory: when the node registers again under a
// new lease (after an outage, or a restart), they are put again under it; an upsert made before
// the node has a lease is put once it has one, and one that failed (etcd away for less than the
// lease's TTL) is put again once etcd answers.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/catalog.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::catalog {

class EtcdCatalog final : public Catalog {
 public:
  explicit EtcdCatalog(upstream::EtcdConfig cfg);
  ~EtcdCatalog() override;

  Status upsert(ServiceRegistration r) override;
  Status remove(const std::string& id) override;
  Result<std::vector<ServiceRegistration>> list() override;
  Status set_checks(const std::string& id, const std::vector<CheckStatus>& checks) override;
  void node_registered(int64_t lease) override;

  // The watch that moves the index on other nodes' changes.
  void start();
  void stop();

  std::string key_of(const ServiceRegistration& r) const;

 private:
  Status put_locked(const ServiceRegistration& r);
  void put_unsent();
  void watch_loop();

  upstream::EtcdConfig cfg_;
  std::string prefix_;  // <prefix>/services/
  upstream::EtcdClient client_;
  upstream::EtcdClient watch_client_;  // its own: interrupt() ends only the watch
  std::mutex mu_;
  int64_t lease_ = 0;
  std::map<std::string, ServiceRegistration> own_;  // this node's, by id
  bool unsent_ = false;                 // a put failed (etcd away): the watch loop puts them again
  std::vector<std::string> undeleted_;  // keys whose delete failed: deleted again likewise
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace drover::catalog
