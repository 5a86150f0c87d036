// The etcd backend; see etcd_upstream.hpp.
#include "upstream/etcd_upstream.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::upstream {

EtcdUpstream::EtcdUpstream(EtcdConfig cfg, std::string node_id)
    : cfg_(cfg), node_id_(std::move(node_id)), client_(std::move(cfg)) {}

std::string EtcdUpstream::node_key() const { return cfg_.prefix + "/nodes/" + node_id_; }
std::string EtcdUpstream::node_record_key() const {
  return cfg_.prefix + "/node_records/" + node_id_;
}
std::string EtcdUpstream::allocs_prefix() const {
  return cfg_.prefix + "/allocs/" + node_id_ + "/";
}
std::string EtcdUpstream::status_prefix() const {
  return cfg_.prefix + "/status/" + node_id_ + "/";
}

Status EtcdUpstream::register_node(const nlohmann::json& node) {
  auto lease = client_.lease_grant(cfg_.heartbeat_ttl);
  if (!lease) return lease.error();
  // The node key under the lease, and its record without one in the same transaction: the
  // record is how servers still know the node once the lease lapses (docs/cluster.md, "Down
  // nodes").
  const std::string text = json_text(node);
  auto written = client_.txn({{"success", nlohmann::json::array({txn::put(node_key(), text, lease.value()),
                                                                 txn::put(node_record_key(), text)})}});
  if (!written) return written.error();
  {
    std::lock_guard lock(mu_);
    lease_ = lease.value();
  }
  if (on_registered_) on_registered_(lease.value());
  return {};
}

Status EtcdUpstream::heartbeat() {
  int64_t lease;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
  }
  if (!lease) return make_error("not registered");
  auto ttl = client_.lease_keepalive(lease);
  if (!ttl) return ttl.error();
  return {};
}

Result<DesiredAllocs> EtcdUpstream::list_allocs() {
  auto r = client_.range_prefix(allocs_prefix());
  if (!r) return r.error();
  DesiredAllocs out;
  out.revision = r.value().revision;
  for (const auto& kv : r.value().kvs) out.allocs[kv.key.substr(allocs_prefix().size())] = kv.value;
  return out;
}

Status EtcdUpstream::watch_allocs(int64_t after_revision,
                                  const std::function<void(const DesiredAllocEvent&)>& fn) {
  const std::string prefix = allocs_prefix();
  return client_.watch_prefix(
      prefix, after_revision + 1, [&](const std::vector<EtcdWatchEvent>& events, int64_t) {
        for (const auto& e : events) {
          DesiredAllocEvent ev;
          ev.kind = e.deleted ? DesiredAllocEvent::Kind::Delete : DesiredAllocEvent::Kind::Put;
          ev.alloc_id = e.kv.key.substr(prefix.size());
          ev.value = e.kv.value;
          ev.revision = e.kv.mod_revision;
          fn(ev);
        }
      });
}

Status EtcdUpstream::report(const std::vector<AllocUpdate>& updates) {
  std::vector<std::pair<std::string, std::string>> kvs;
  for (const auto& u : updates) kvs.emplace_back(status_prefix() + u.alloc_id, json_text(u.status));
  return client_.put_all(kvs);
}

}  // namespace drover::upstream
