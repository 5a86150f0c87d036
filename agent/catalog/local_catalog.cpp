// The standalone catalog over the state store; see local_catalog.hpp.
#include "catalog/local_catalog.hpp"

#include <spdlog/spdlog.h>

#include "drover/common/json_text.hpp"
#include "state/state_store.hpp"

namespace drover::catalog {

namespace {
constexpr const char* kKeyPrefix = "service/";
constexpr const char* kIndexKey = "service_index";
}  // namespace

Result<std::unique_ptr<LocalCatalog>> LocalCatalog::open(state::StateStore& store) {
  std::unique_ptr<LocalCatalog> c(new LocalCatalog(store));
  auto rows = store.meta_with_prefix(kKeyPrefix);
  if (!rows) return rows.error();
  for (const auto& [key, value] : rows.value()) {
    auto j = nlohmann::json::parse(value, nullptr, false);
    auto r = registration_from_json(j);
    if (!r) {
      spdlog::warn("state store: {}: {}; dropped", key, r.message());
      if (auto st = store.delete_meta(key); !st) spdlog::warn("{}", st.message());
      continue;
    }
    c->last_index_ = std::max(c->last_index_, r.value().modify_index);
    c->regs_[r.value().id] = std::move(r.value());
  }
  if (auto idx = store.meta(kIndexKey)) {
    try {
      c->last_index_ = std::max<uint64_t>(c->last_index_, std::stoull(*idx));
    } catch (const std::exception&) {
    }
  }
  return c;
}

Status LocalCatalog::write_locked(ServiceRegistration& r) {
  uint64_t index = ++last_index_;
  auto it = regs_.find(r.id);
  r.create_index = it != regs_.end() ? it->second.create_index : index;
  r.modify_index = index;
  // Written before it is shown (docs/design.md, "State"): a failed write registers nothing.
  if (auto st = store_.put_meta(kIndexKey, std::to_string(index)); !st) return st;
  return store_.put_meta(kKeyPrefix + r.id, json_text(to_json(r)));
}

Status LocalCatalog::upsert(ServiceRegistration r) {
  {
    std::lock_guard lock(mu_);
    if (auto st = write_locked(r); !st) return st;
    regs_[r.id] = std::move(r);
  }
  changed();
  return {};
}

Status LocalCatalog::set_checks(const std::string& id, const std::vector<CheckStatus>& checks) {
  {
    std::lock_guard lock(mu_);
    auto it = regs_.find(id);
    if (it == regs_.end())
      return make_error("no service registration with id \"" + id + "\"", Errc::NotFound);
    if (it->second.checks == checks) return {};
    ServiceRegistration r = it->second;
    r.checks = checks;
    r.health = health_of(checks);
    if (auto st = write_locked(r); !st) return st;
    it->second = std::move(r);
  }
  changed();
  return {};
}

Status LocalCatalog::remove(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = regs_.find(id);
    if (it == regs_.end())
      return make_error("no service registration with id \"" + id + "\"", Errc::NotFound);
    if (auto st = store_.delete_meta(kKeyPrefix + id); !st) return st;
    regs_.erase(it);
  }
  changed();
  return {};
}

Result<std::vector<ServiceRegistration>> LocalCatalog::list() {
  std::vector<ServiceRegistration> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, r] : regs_) out.push_back(r);
  }
  sort_registrations(out);
  return out;
}

int LocalCatalog::prune(const std::function<bool(const ServiceRegistration&)>& keep) {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    for (auto it = regs_.begin(); it != regs_.end();) {
      if (keep(it->second)) {
        ++it;
        continue;
      }
      if (auto st = store_.delete_meta(kKeyPrefix + it->first); !st) {
        spdlog::warn("service {}: {}", it->first, st.message());
        ++it;
        continue;
      }
      it = regs_.erase(it);
      ++n;
    }
  }
  if (n) changed();
  return n;
}

}  // namespace drover::catalog
