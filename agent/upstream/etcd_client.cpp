// EtcdClient: the etcd module's transport behind a plain class; see etcd_client.hpp.
#include "upstream/etcd_client.hpp"

#include "upstream/etcd_module.hpp"

namespace drover::upstream {

using nlohmann::json;

EtcdClient::EtcdClient(EtcdConfig cfg) : cfg_(std::move(cfg)) {
  auto m = etcd_module();
  if (m)
    t_ = m.value()->make(cfg_);
  else
    unavailable_ = m.error();
}
EtcdClient::~EtcdClient() = default;

Status EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  if (!t_) return *unavailable_;
  return t_->put(key, value, lease);
}

Status EtcdClient::put_all(const std::vector<std::pair<std::string, std::string>>& kvs) {
  if (!t_) return *unavailable_;
  return t_->put_all(kvs);
}

Result<EtcdRange> EtcdClient::range_prefix(const std::string& prefix, int64_t limit) {
  if (!t_) return *unavailable_;
  return t_->range_prefix(prefix, limit);
}

Result<std::optional<std::string>> EtcdClient::get(const std::string& key) {
  if (!t_) return *unavailable_;
  return t_->get(key);
}

Result<std::vector<std::string>> EtcdClient::keys(const std::string& prefix) {
  if (!t_) return *unavailable_;
  auto r = t_->range_keys(prefix);
  if (!r) return r.error();
  std::vector<std::string> out;
  out.reserve(r.value().kvs.size());
  for (auto& kv : r.value().kvs) out.push_back(std::move(kv.key));
  return out;
}

Status EtcdClient::delete_key(const std::string& key) {
  if (!t_) return *unavailable_;
  return t_->delete_key(key);
}

Result<json> EtcdClient::txn(const json& request) {
  if (!t_) return *unavailable_;
  return t_->txn(request);
}

Result<EtcdCasResult> EtcdClient::compare_and_put(const std::string& key,
                                                  const std::optional<std::string>& value,
                                                  std::optional<int64_t> mod_revision) {
  if (!t_) return *unavailable_;
  return t_->compare_and_put(key, value, mod_revision);
}

Result<int64_t> EtcdClient::lease_grant(std::chrono::seconds ttl) {
  if (!t_) return *unavailable_;
  return t_->lease_grant(ttl);
}

Result<int64_t> EtcdClient::lease_keepalive(int64_t lease) {
  if (!t_) return *unavailable_;
  return t_->lease_keepalive(lease);
}

Status EtcdClient::lease_revoke(int64_t lease) {
  if (!t_) return *unavailable_;
  return t_->lease_revoke(lease);
}

Status EtcdClient::watch_prefix(const std::string& prefix, int64_t start_revision,
                                const EtcdWatchFn& fn) {
  if (!t_) return *unavailable_;
  return t_->watch_prefix(prefix, start_revision, fn);
}

void EtcdClient::interrupt() {
  if (t_) t_->interrupt();
}

std::string EtcdClient::endpoint() const {
  return t_ ? t_->endpoint() : cfg_.endpoints.empty() ? std::string() : cfg_.endpoints.front();
}

}  // namespace drover::upstream
