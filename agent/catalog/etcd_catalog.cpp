// The cluster catalog in etcd; see etcd_catalog.hpp.
#include "catalog/etcd_catalog.hpp"

#include <spdlog/spdlog.h>

#include "drover/common/json_text.hpp"

namespace drover::catalog {

EtcdCatalog::EtcdCatalog(upstream::EtcdConfig cfg)
    : cfg_(cfg), prefix_(cfg.prefix + "/services/"), client_(cfg), watch_client_(cfg) {}

EtcdCatalog::~EtcdCatalog() { stop(); }

std::string EtcdCatalog::key_of(const ServiceRegistration& r) const {
  return prefix_ + r.service_name + "/" + r.id;
}

Status EtcdCatalog::put_locked(const ServiceRegistration& r) {
  return client_.put(key_of(r), json_text(to_json(r)), lease_);
}

Status EtcdCatalog::upsert(ServiceRegistration r) {
  {
    std::lock_guard lock(mu_);
    // Indexes in cluster mode are the node's own count; etcd's revisions order the writes.
    auto it = own_.find(r.id);
    r.create_index = it != own_.end() ? it->second.create_index : index();
    r.modify_index = index();
    own_[r.id] = r;
    std::erase(undeleted_, key_of(r));  // registered again: not to be deleted any more
    // Without a lease yet, node_registered() puts it: a key without the node's lease would
    // outlive the node.
    if (lease_)
      if (auto st = put_locked(r); !st) {
        unsent_ = true;
        return st;
      }
  }
  changed();
  return {};
}

Status EtcdCatalog::set_checks(const std::string& id, const std::vector<CheckStatus>& checks) {
  {
    std::lock_guard lock(mu_);
    auto it = own_.find(id);
    if (it == own_.end())
      return make_error("no service registration with id \"" + id + "\" on this node",
                        Errc::NotFound);
    if (it->second.checks == checks) return {};
    it->second.checks = checks;
    it->second.health = health_of(checks);
    it->second.modify_index = index();
    if (lease_)
      if (auto st = put_locked(it->second); !st) {
        unsent_ = true;
        return st;
      }
  }
  changed();
  return {};
}

Status EtcdCatalog::remove(const std::string& id) {
  std::string key;
  {
    std::lock_guard lock(mu_);
    auto it = own_.find(id);
    if (it != own_.end()) {
      key = key_of(it->second);
      own_.erase(it);
    }
  }
  if (key.empty()) {
    // Another node's entry (Nomad lets an operator delete any): found by its id.
    auto all = list();
    if (!all) return all.error();
    for (const auto& r : all.value())
      if (r.id == id) key = key_of(r);
    if (key.empty())
      return make_error("no service registration with id \"" + id + "\"", Errc::NotFound);
  }
  if (auto st = client_.delete_key(key); !st) {
    // Gone from this node's registrations already; the key goes once etcd answers (or with
    // the node's lease).
    std::lock_guard lock(mu_);
    undeleted_.push_back(key);
    return st;
  }
  changed();
  return {};
}

Result<std::vector<ServiceRegistration>> EtcdCatalog::list() {
  auto r = client_.range_prefix(prefix_);
  if (!r) return r.error();
  std::vector<ServiceRegistration> out;
  for (const auto& kv : r.value().kvs) {
    auto reg = registration_from_json(nlohmann::json::parse(kv.value, nullptr, false));
    if (!reg) {
      spdlog::warn("etcd {}: {}; skipped", kv.key, reg.message());
      continue;
    }
    out.push_back(std::move(reg.value()));
  }
  sort_registrations(out);
  return out;
}

void EtcdCatalog::node_registered(int64_t lease) {
  {
    std::lock_guard lock(mu_);
    lease_ = lease;
    unsent_ = true;
  }
  put_unsent();
}

void EtcdCatalog::put_unsent() {
  std::lock_guard lock(mu_);
  for (auto it = undeleted_.begin(); it != undeleted_.end();)
    it = client_.delete_key(*it) ? undeleted_.erase(it) : std::next(it);
  if (!unsent_ || !lease_) return;
  unsent_ = false;
  for (const auto& [id, r] : own_)
    if (auto st = put_locked(r); !st) {
      spdlog::warn("service {}: {}", id, st.message());
      unsent_ = true;
    }
}

void EtcdCatalog::start() {
  watcher_ = std::thread([this] { watch_loop(); });
}

void EtcdCatalog::stop() {
  stopping_ = true;
  watch_client_.interrupt();
  if (watcher_.joinable()) watcher_.join();
}

void EtcdCatalog::watch_loop() {
  while (!stopping_) {
    // From the store's current revision: whatever happened before is in the next list().
    auto r = watch_client_.range_prefix(prefix_);
    if (r) {
      put_unsent();  // etcd answers again: what could not be written is written now
      changed();
      auto st = watch_client_.watch_prefix(
          prefix_, r.value().revision + 1,
          [this](const std::vector<upstream::EtcdWatchEvent>&, int64_t) { changed(); });
      if (stopping_) return;
      if (!st) spdlog::debug("service catalog watch: {}", st.message());
    }
    // etcd away or the watch broken: try again shortly (stop() interrupts a running watch; the
    // wait is short enough not to need waking).
    for (int i = 0; i < 10 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace drover::catalog
